// The custodian: serves '/sealpost/custody/1.0.0' (wire.ts) on the node's
// network and keeps the shares other nodes deposit in its vault (vault.ts)
// until they expire, then deletes them and records a signed deletion receipt
// in the registry (registry/records.ts signDeletionReceipt).
//
// deposit  from the sender's own connection (from.nodeId = sender); the share
//          must open with this node's X25519 key and verify against the
//          Pedersen commitments it comes with (a custodian refuses a bad share
//          at once rather than hold it); expiry in (now, now + maxLifetime].
// release  only to a request that (1) names as requester the node its Noise
//          connection authenticated, (2) is signed by that node's Ed25519 key
//          (wire.ts signingBytes), (3) is within clockSkewMs of this node's
//          clock, (4) comes from the sender or one of the readers named at
//          deposit; the share is re-sealed to the requester's X25519 key as the
//          REGISTRY has it, never to a key the request offers. After expiry (by
//          this node's clock) the answer is CUSTODY_EXPIRED, and the share is
//          gone: a request that finds it due deletes it on the spot.
// revoke   like release, and only from the sender; deletes at once.
// expiry   runExpiryPass (on a timer, or called by tests with an injected
//          clock) deletes every due share, then records the receipts still
//          owed; a registry that is down only delays receipts (the tombstone
//          remembers them), never the deletion itself.
import type { Logger } from 'pino';
import { silentLogger } from '../log.ts';
import type { NodeIdentity } from '../network/identity.ts';
import type { Network, RemoteNode } from '../network/types.ts';
import { parseNodeId, signDeletionReceipt, verifyEd25519 } from '../registry/records.ts';
import type { Registry } from '../registry/types.ts';
import { openSealed, sealTo } from './ecies.ts';
import { CustodyError } from './errors.ts';
import { decodeCommitments } from './pedersen.ts';
import { decodeShare, verifyShare } from './shamir.ts';
import { CUSTODY_PROTOCOL, type CustodyServiceLimits, type CustodyVault } from './types.ts';
import {
  decodeRequest, DEFAULT_MAX_REQUEST_BYTES, depositAad, encodeDepositResponse, encodeReleaseResponse, encodeRevokeResponse,
  rawX25519Private, refToHex, releaseAad, signingBytes, type DepositRequest, type SignedRequest,
} from './wire.ts';

export interface CustodyServiceOptions {
  network: Pick<Network, 'handle' | 'unhandle' | 'self'>;
  /** the node's keys: Ed25519 signs receipts, X25519 opens deposited shares */
  identity: Pick<NodeIdentity, 'nodeId' | 'ed25519' | 'x25519'>;
  registry: Pick<Registry, 'getNode' | 'recordDeletion' | 'domain'>;
  /** the share store; the caller opens and closes it */
  vault: CustodyVault;
  /** the custodian's clock, ms since the epoch (default Date.now) */
  now?: () => number;
  limits?: CustodyServiceLimits;
  /** how often the expiry pass runs (default 30 s); 0 = never by itself (call runExpiryPass) */
  expiryIntervalMs?: number;
  logger?: Logger;
}

export interface ExpiryPassResult {
  /** shares deleted in this pass */
  deleted: number;
  /** deletion receipts that reached the registry in this pass */
  receiptsRecorded: number;
  /** receipts still owed, counted up to 1,000 (the registry refused or could not be reached) */
  receiptsOwed: number;
  /** tombstones forgotten after their retention */
  tombstonesPurged: number;
}

export interface CustodyService {
  /** Deletes due shares and records owed receipts now; passes never overlap. */
  runExpiryPass(): Promise<ExpiryPassResult>;
  /** Stops serving and the timer; waits for a running pass. The vault stays open. */
  stop(): Promise<void>;
}

const DUE_BATCH = 500;
const RECEIPT_BATCH = 1000;

/**
 * Starts serving custody requests.
 * @throws ValidationError from network.handle when the protocol is already served
 */
export async function startCustodyService(options: CustodyServiceOptions): Promise<CustodyService> {
  const { network, identity, registry, vault } = options;
  const now = options.now ?? Date.now;
  const limits = options.limits ?? {};
  const clockSkewMs = limits.clockSkewMs ?? 5 * 60_000;
  const maxLifetimeMs = limits.maxLifetimeMs ?? 5 * 365 * 24 * 3600_000;
  const tombstoneRetentionMs = limits.tombstoneRetentionMs ?? 30 * 24 * 3600_000;
  const log = (options.logger ?? silentLogger()).child({ component: 'custody' });
  const self = identity.nodeId;
  const x25519Private = rawX25519Private(identity.x25519.privateKey);

  // ── receipts: one flush at a time; a request for another while one runs makes it go round again ──
  let flushing: Promise<{ recorded: number; owed: number }> | null = null;
  let flushAgain = false;

  const flushOnce = async (): Promise<{ recorded: number; failed: boolean }> => {
    let recorded = 0;
    for (const tomb of vault.pendingReceipts(RECEIPT_BATCH)) {
      try {
        const receipt = await signDeletionReceipt(identity.ed25519, registry.domain, { messageRef: tomb.ref, time: tomb.deletedAt });
        await registry.recordDeletion(receipt);
      } catch (err) {
        // the registry is down, or refuses (e.g. this node is not registered yet): keep the debt, try next pass
        log.warn({ ref: refToHex(tomb.ref), err: (err as Error).message }, 'deletion receipt not recorded; will retry');
        return { recorded, failed: true };
      }
      vault.markReceipt(tomb.ref, tomb.sender, now());
      recorded++;
    }
    return { recorded, failed: false };
  };

  const flushReceipts = (): Promise<{ recorded: number; owed: number }> => {
    if (flushing !== null) {
      flushAgain = true;
      return flushing;
    }
    flushing = (async () => {
      let total = 0;
      for (;;) {
        flushAgain = false;
        const result = await flushOnce();
        total += result.recorded;
        if (result.failed || (!flushAgain && result.recorded < RECEIPT_BATCH)) break;
      }
      return { recorded: total, owed: vault.pendingReceipts(RECEIPT_BATCH).length };
    })().finally(() => {
      flushing = null;
    });
    return flushing;
  };

  /** Records receipts in the background (after a revoke or a deletion found by a request). */
  const flushSoon = (): void => {
    flushReceipts().catch((err: unknown) => log.error({ err }, 'BUG: receipt flush failed'));
  };

  // ── requests ──

  const authenticate = (request: SignedRequest, from: RemoteNode, at: number): void => {
    if (request.requester !== from.nodeId) {
      throw new CustodyError('CUSTODY_PEER_MISMATCH', 'the requester is not the node at the other end of the connection', { field: 'requester' });
    }
    if (Math.abs(request.time - at) > clockSkewMs) {
      throw new CustodyError('CUSTODY_STALE_REQUEST', `request time is more than ${clockSkewMs} ms from the custodian's clock`, { field: 'time' });
    }
    if (!verifyEd25519(parseNodeId(request.requester), signingBytes(request.op, request), request.sig)) {
      throw new CustodyError('CUSTODY_BAD_SIGNATURE', "the signature does not verify under the requester's node key", { field: 'sig' });
    }
  };

  /** Throws the answer for a share that is gone (tombstone) or was never here. */
  const gone = (request: { ref: Uint8Array; sender: string }): never => {
    const tomb = vault.tombstone(request.ref, request.sender);
    if (tomb?.reason === 'expired') throw new CustodyError('CUSTODY_EXPIRED', 'the share expired and was deleted');
    if (tomb?.reason === 'revoked') throw new CustodyError('CUSTODY_REVOKED', 'the sender revoked the share; it was deleted');
    throw new CustodyError('CUSTODY_NOT_FOUND', 'this custodian holds no share for this message and sender');
  };

  const deposit = (request: DepositRequest, from: RemoteNode): Uint8Array => {
    if (request.sender !== from.nodeId) throw new CustodyError('CUSTODY_PEER_MISMATCH', 'a deposit comes from its sender', { field: 'sender' });
    const at = now();
    if (request.expiresAt <= at) throw new CustodyError('CUSTODY_BAD_PARAMS', 'expiry has already passed', { field: 'expiresAt' });
    if (request.expiresAt > at + maxLifetimeMs) throw new CustodyError('CUSTODY_BAD_PARAMS', `expiry is more than ${maxLifetimeMs} ms away`, { field: 'expiresAt' });
    const plain = openSealed(x25519Private, request.sealed, depositAad(request.ref, request.sender, self, request.index));
    try {
      const share = decodeShare(plain);
      if (share.index !== request.index) throw new CustodyError('CUSTODY_BAD_SHARE', 'the share has another index than the deposit says', { field: 'index' });
      if (!verifyShare(share, decodeCommitments(request.commitments))) {
        throw new CustodyError('CUSTODY_BAD_SHARE', 'the share does not match the commitments', { field: 'sealed' });
      }
    } finally {
      plain.fill(0);
    }
    const result = vault.put({
      ref: request.ref, sender: request.sender, index: request.index, sealed: request.sealed,
      readers: request.readers, expiresAt: request.expiresAt, depositedAt: at,
    });
    log.info({ ref: refToHex(request.ref), sender: request.sender, index: request.index, expiresAt: request.expiresAt, result }, 'share deposited');
    return encodeDepositResponse({ stored: true, expiresAt: request.expiresAt });
  };

  const release = async (request: SignedRequest, from: RemoteNode): Promise<Uint8Array> => {
    const at = now();
    authenticate(request, from, at);
    const share = vault.get(request.ref, request.sender);
    if (share === null) return gone(request);
    if (share.expiresAt <= at) {
      // the timer has not come round yet: the request does its job
      vault.delete([share], 'expired', at);
      flushSoon();
      throw new CustodyError('CUSTODY_EXPIRED', 'the share expired and was deleted');
    }
    if (request.requester !== share.sender && !share.readers.includes(request.requester)) {
      log.warn({ ref: refToHex(request.ref), requester: request.requester }, 'release refused: not an authorised reader');
      throw new CustodyError('CUSTODY_NOT_AUTHORISED', 'the requester is not a recipient or the sender of this message');
    }
    const node = await registry.getNode(parseNodeId(request.requester));
    if (node === null) throw new CustodyError('CUSTODY_UNKNOWN_NODE', 'the requester is not in the registry');
    const plain = openSealed(x25519Private, share.sealed, depositAad(share.ref, share.sender, self, share.index));
    try {
      const sealed = sealTo(node.encKey, plain, releaseAad(share.ref, share.sender, self, request.requester, share.index));
      log.info({ ref: refToHex(share.ref), requester: request.requester, index: share.index }, 'share released');
      return encodeReleaseResponse({ index: share.index, sealed });
    } finally {
      plain.fill(0);
    }
  };

  const revoke = (request: SignedRequest, from: RemoteNode): Uint8Array => {
    const at = now();
    authenticate(request, from, at);
    if (request.requester !== request.sender) {
      log.warn({ ref: refToHex(request.ref), requester: request.requester }, 'revoke refused: not the sender');
      throw new CustodyError('CUSTODY_NOT_AUTHORISED', 'only the sender may revoke');
    }
    const share = vault.get(request.ref, request.sender);
    if (share === null) {
      if (vault.tombstone(request.ref, request.sender) === null) gone(request);
      return encodeRevokeResponse({ deleted: false });
    }
    vault.delete([share], share.expiresAt <= at ? 'expired' : 'revoked', at);
    flushSoon();
    log.info({ ref: refToHex(share.ref), sender: share.sender }, 'share revoked and deleted');
    return encodeRevokeResponse({ deleted: true });
  };

  await network.handle(CUSTODY_PROTOCOL, async (body, from) => {
    const request = decodeRequest(body);
    if (request.custodian !== self) throw new CustodyError('CUSTODY_BAD_REQUEST', 'addressed to another custodian', { field: 'custodian' });
    switch (request.op) {
      case 'deposit':
        return deposit(request, from);
      case 'release':
        return release(request, from);
      case 'revoke':
        return revoke(request, from);
    }
  }, {
    maxRequestBytes: limits.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    maxConcurrent: limits.maxConcurrent ?? 32,
    timeoutMs: limits.requestTimeoutMs ?? 10_000,
  });

  // ── expiry ──

  let passes: Promise<unknown> = Promise.resolve();
  const pass = async (): Promise<ExpiryPassResult> => {
    const at = now();
    let deleted = 0;
    for (;;) {
      const due = vault.due(at, DUE_BATCH);
      if (due.length > 0) deleted += vault.delete(due, 'expired', at);
      if (due.length < DUE_BATCH) break;
    }
    if (deleted > 0) log.info({ deleted }, 'expired shares deleted');
    const receipts = await flushReceipts();
    const tombstonesPurged = vault.purgeTombstones(at - tombstoneRetentionMs);
    return { deleted, receiptsRecorded: receipts.recorded, receiptsOwed: receipts.owed, tombstonesPurged };
  };
  const runExpiryPass = (): Promise<ExpiryPassResult> => {
    const next = passes.then(pass, pass);
    passes = next.catch(() => undefined);
    return next;
  };

  const intervalMs = options.expiryIntervalMs ?? 30_000;
  const timer = intervalMs > 0
    ? setInterval(() => {
      runExpiryPass().catch((err: unknown) => log.error({ err }, 'expiry pass failed'));
    }, intervalMs)
    : null;
  timer?.unref();

  let stopped: Promise<void> | null = null;
  return {
    runExpiryPass,
    stop() {
      stopped ??= (async () => {
        if (timer !== null) clearInterval(timer);
        await network.unhandle(CUSTODY_PROTOCOL);
        await passes;
        await (flushing ?? Promise.resolve()).catch(() => undefined);
      })();
      return stopped;
    },
  };
}
