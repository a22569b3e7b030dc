// The sender's and the reader's side of expiry custody (the custodian is
// service.ts; the wire format wire.ts).
//
// depositShares  picks n custodians from the registry by rendezvous hashing of
//                the message hash (select.ts; the sender and readers excluded,
//                so no party to the message holds a share of it), splits the
//                secret t-of-n with Pedersen commitments (shamir.ts), seals
//                share i to custodian i's registered X25519 key (ecies.ts) and
//                sends them point to point, in parallel, each with a time
//                limit. It succeeds when at least t custodians stored their
//                share, and returns the ticket the announcement carries.
// collectSecret  asks every custodian of a ticket at once with a signed
//                release request, opens each answer with the reader's X25519
//                key, checks it against the commitments and skips bad ones,
//                stops at t good ones and interpolates the secret.
// revoke         the sender's signed request to delete early.
//
// Nothing here writes a share anywhere but to the custodian it is sealed to.
import type { Network } from '../network/types.ts';
import type { NodeIdentity } from '../network/identity.ts';
import { NetworkRemoteError, NetworkUnreachableError } from '../network/errors.ts';
import { SealpostError } from '../errors/index.ts';
import { isLoopbackMultiaddr } from '../network/libp2p.ts';
import { formatNodeId, parseNodeId } from '../registry/records.ts';
import type { NodeRecord, Registry } from '../registry/types.ts';
import { openSealed, sealTo } from './ecies.ts';
import { CustodyCollectError, CustodyDepositError, CustodyError, type CustodyTally } from './errors.ts';
import { decodeCommitments, encodeCommitments } from './pedersen.ts';
import { selectCustodians } from './select.ts';
import { combine, decodeShare, encodeShare, split, verifyShare, type Share } from './shamir.ts';
import { CUSTODY_PROTOCOL, DEFAULT_CUSTODY_POLICY, REF_BYTES, type CustodyPolicy, type CustodyTicket } from './types.ts';
import {
  decodeDepositResponse, decodeReleaseResponse, decodeRevokeResponse, depositAad, encodeRequest,
  MAX_CUSTODIANS, MAX_READERS, MAX_RESPONSE_BYTES, rawX25519Private, releaseAad, signRequest, type SignedOp,
} from './wire.ts';

/** What the client needs of its node. */
export interface CustodyClientContext {
  network: Pick<Network, 'request' | 'self'>;
  registry: Pick<Registry, 'listNodes' | 'getNode'>;
  /** this node: signs requests (Ed25519), opens released shares (X25519) */
  identity: Pick<NodeIdentity, 'nodeId' | 'ed25519' | 'x25519'>;
  /** the clock stamped on signed requests (default Date.now) */
  now?: () => number;
  /** time limit of each request to a custodian, dial included (default 5 s) */
  timeoutMs?: number;
}

export interface DepositParams {
  /** the 32-byte message hash of the ledger record: names the message and seeds custodian selection */
  messageHash: Uint8Array;
  /** the expiry secret (session-key.ts newExpirySecret) */
  secret: bigint;
  /** ms since the epoch when custodians delete their shares */
  expiresAt: number;
  /** node ids of the recipients allowed to collect (the sender always may) */
  readers: readonly string[];
  /** default { n: 5, t: 3 } */
  policy?: CustodyPolicy;
  /** node ids never chosen as custodians besides the sender; default the readers */
  exclude?: readonly string[];
}

export interface DepositResult {
  /** for the announcement (wire.ts encodeTicket) */
  ticket: CustodyTicket;
  /** custodians that stored their share */
  acknowledged: string[];
  /** custodians that did not, with the code they failed with */
  failures: Record<string, string>;
}

export interface CollectResult {
  secret: bigint;
  tally: CustodyTally;
}

export interface RevokeResult {
  /** custodians that deleted their share now */
  deleted: string[];
  /** custodians whose share was already gone (expired or revoked before) */
  alreadyGone: string[];
  /** custodians that refused or could not be reached, with the code */
  failures: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Splits `secret` among n custodians and deposits the shares.
 * @throws CustodyError CUSTODY_BAD_PARAMS (field named) for a bad hash, policy, expiry or reader list;
 *   CUSTODY_TOO_FEW_NODES when the registry has fewer than n eligible nodes;
 *   CustodyDepositError (CUSTODY_DEPOSIT_FAILED) when fewer than t custodians stored their share
 */
export async function depositShares(ctx: CustodyClientContext, params: DepositParams): Promise<DepositResult> {
  const { n, t } = params.policy ?? DEFAULT_CUSTODY_POLICY;
  const sender = ctx.identity.nodeId;
  const ref = new Uint8Array(params.messageHash);
  if (ref.length !== REF_BYTES) throw new CustodyError('CUSTODY_BAD_PARAMS', `expected ${REF_BYTES} bytes`, { field: 'messageHash' });
  if (!Number.isInteger(n) || n < 1 || n > MAX_CUSTODIANS) throw new CustodyError('CUSTODY_BAD_PARAMS', `must be an integer in 1..${MAX_CUSTODIANS}`, { field: 'n' });
  if (!Number.isSafeInteger(params.expiresAt) || params.expiresAt <= (ctx.now ?? Date.now)()) {
    throw new CustodyError('CUSTODY_BAD_PARAMS', 'must be a time in the future (ms since the epoch)', { field: 'expiresAt' });
  }
  const readers = [...new Set(params.readers)];
  if (readers.length > MAX_READERS) throw new CustodyError('CUSTODY_BAD_PARAMS', `at most ${MAX_READERS}`, { field: 'readers' });
  readers.forEach((r, i) => checkNodeId(r, `readers[${i}]`));

  const nodes = new Map<string, NodeRecord>();
  for (const record of await ctx.registry.listNodes()) nodes.set(formatNodeId(record.nodeId), record);
  // never the sender itself (it cannot dial itself, and a party to the message should not hold a share of it)
  const custodians = selectCustodians(ref, [...nodes.keys()].map((id) => ({ id })), n, [sender, ...(params.exclude ?? readers)]);
  const sharing = split(params.secret, { t, n });
  const commitments = encodeCommitments(sharing.commitments);

  const outcomes = await Promise.allSettled(custodians.map(async (custodian, i) => {
    const share = sharing.shares[i]!;
    const encoded = encodeShare(share);
    let sealed: Uint8Array;
    try {
      sealed = sealTo(nodes.get(custodian)!.encKey, encoded, depositAad(ref, sender, custodian, share.index));
    } finally {
      encoded.fill(0);
    }
    const body = encodeRequest({ op: 'deposit', ref, sender, custodian, index: share.index, expiresAt: params.expiresAt, readers, commitments, sealed });
    const answer = decodeDepositResponse(await send(ctx, nodes.get(custodian)!, body));
    if (answer.expiresAt !== params.expiresAt) throw new CustodyError('CUSTODY_BAD_REQUEST', 'the custodian stored another expiry', { field: 'expiresAt' });
  }));

  const acknowledged: string[] = [];
  const failures: Record<string, string> = {};
  outcomes.forEach((o, i) => {
    const custodian = custodians[i]!;
    if (o.status === 'fulfilled') acknowledged.push(custodian);
    else failures[custodian] = codeOf(o.reason);
  });
  const ticket: CustodyTicket = { ref, sender, t, custodians, commitments, expiresAt: params.expiresAt };
  if (acknowledged.length < t) {
    // fewer than t shares say nothing about the secret, but they need not linger either
    await revokeAt(ctx, ticket, acknowledged).catch(() => undefined);
    throw new CustodyDepositError(t, acknowledged.length, failures);
  }
  return { ticket, acknowledged, failures };
}

/**
 * Collects t verified shares of a ticket's secret and recombines it.
 * @throws CustodyError CUSTODY_BAD_COMMITMENTS for a ticket with malformed commitments;
 *   CustodyCollectError CUSTODY_EXPIRED when too many custodians deleted their share for t to be reached
 *   (permanent), CUSTODY_TOO_FEW_SHARES otherwise; its `tally` says how each custodian answered
 */
export async function collectSecret(ctx: CustodyClientContext, ticket: CustodyTicket): Promise<CollectResult> {
  const commitments = decodeCommitments(ticket.commitments);
  if (commitments.length !== ticket.t) throw new CustodyError('CUSTODY_BAD_COMMITMENTS', 'the ticket threshold does not match its commitments', { field: 't' });
  const me = ctx.identity.nodeId;
  const myKey = rawX25519Private(ctx.identity.x25519.privateKey);
  const tally: CustodyTally = { good: 0, unreachable: 0, refused: 0, bad: 0, expired: 0, revoked: 0, missing: 0 };
  const good: Share[] = [];
  const enough = new AbortController();

  await Promise.allSettled(ticket.custodians.map(async (custodian, i) => {
    const index = i + 1;
    try {
      const record = await ctx.registry.getNode(parseNodeId(custodian));
      if (record === null) throw new NetworkUnreachableError(custodian, 'dial', 'the custodian is not in the registry');
      const request = await signRequest('release', { ref: ticket.ref, sender: ticket.sender, custodian, requester: me, time: (ctx.now ?? Date.now)() }, (data) => ctx.identity.ed25519.sign(data));
      const answer = decodeReleaseResponse(await send(ctx, record, encodeRequest(request), enough.signal));
      if (answer.index !== index) throw new CustodyError('CUSTODY_BAD_SHARE', `custodian ${index} answered for index ${answer.index}`, { field: 'index' });
      const plain = openSealed(myKey, answer.sealed, releaseAad(ticket.ref, ticket.sender, custodian, me, index));
      let share: Share;
      try {
        share = decodeShare(plain);
      } finally {
        plain.fill(0);
      }
      if (share.index !== index || !verifyShare(share, commitments)) throw new CustodyError('CUSTODY_BAD_SHARE', 'the share does not match the commitments');
      if (enough.signal.aborted) return;
      good.push(share);
      tally.good++;
      if (good.length >= ticket.t) enough.abort();
    } catch (err) {
      if (enough.signal.aborted) return; // t good shares came first; this one no longer counts
      tally[classify(err)]++;
    }
  }));
  myKey.fill(0);

  if (good.length >= ticket.t) return { secret: combine(good, ticket.t), tally };
  const gone = tally.expired + tally.revoked;
  throw new CustodyCollectError(ticket.custodians.length - gone < ticket.t ? 'CUSTODY_EXPIRED' : 'CUSTODY_TOO_FEW_SHARES', ticket.t, tally);
}

/**
 * Asks every custodian of a ticket to delete its share now. Only the sender's
 * request is honoured; a custodian refusing says so in `failures`.
 */
export async function revoke(ctx: CustodyClientContext, ticket: CustodyTicket): Promise<RevokeResult> {
  return revokeAt(ctx, ticket, ticket.custodians);
}

async function revokeAt(ctx: CustodyClientContext, ticket: CustodyTicket, custodians: readonly string[]): Promise<RevokeResult> {
  const result: RevokeResult = { deleted: [], alreadyGone: [], failures: {} };
  await Promise.all(custodians.map(async (custodian) => {
    try {
      const answer = decodeRevokeResponse(await signed(ctx, 'revoke', ticket, custodian));
      (answer.deleted ? result.deleted : result.alreadyGone).push(custodian);
    } catch (err) {
      result.failures[custodian] = codeOf(err);
    }
  }));
  return result;
}

async function signed(ctx: CustodyClientContext, op: SignedOp, ticket: CustodyTicket, custodian: string): Promise<Uint8Array> {
  const record = await ctx.registry.getNode(parseNodeId(custodian));
  if (record === null) throw new NetworkUnreachableError(custodian, 'dial', 'the custodian is not in the registry');
  const request = await signRequest(op, { ref: ticket.ref, sender: ticket.sender, custodian, requester: ctx.identity.nodeId, time: (ctx.now ?? Date.now)() }, (data) => ctx.identity.ed25519.sign(data));
  return send(ctx, record, encodeRequest(request));
}

/**
 * One request to a custodian at the addresses its registry record gives
 * (loopback only: the network refuses others), the next address only when
 * the dial to one failed.
 */
async function send(ctx: CustodyClientContext, record: NodeRecord, body: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
  const addrs = record.addrs.filter((a) => isLoopbackMultiaddr(a) && a.includes('/p2p/'));
  const options = { timeoutMs: ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxResponseBytes: MAX_RESPONSE_BYTES, ...(signal === undefined ? {} : { signal }) };
  let last: unknown = new NetworkUnreachableError(formatNodeId(record.nodeId), 'dial', 'the custodian registered no loopback address');
  for (const addr of addrs) {
    try {
      return await ctx.network.request(addr, CUSTODY_PROTOCOL, body, options);
    } catch (err) {
      if (!(err instanceof NetworkUnreachableError && err.phase === 'dial')) throw err;
      last = err;
    }
  }
  throw last;
}

const REFUSALS = new Set(['CUSTODY_NOT_AUTHORISED', 'CUSTODY_PEER_MISMATCH', 'CUSTODY_BAD_SIGNATURE', 'CUSTODY_STALE_REQUEST', 'CUSTODY_UNKNOWN_NODE', 'CUSTODY_BAD_REQUEST']);

/** Which column of the tally a failed release falls in. */
function classify(err: unknown): Exclude<keyof CustodyTally, 'good'> {
  if (err instanceof NetworkRemoteError) {
    const code = err.remoteCode;
    if (code === 'CUSTODY_EXPIRED') return 'expired';
    if (code === 'CUSTODY_REVOKED') return 'revoked';
    if (code === 'CUSTODY_NOT_FOUND') return 'missing';
    if (REFUSALS.has(code)) return 'refused';
    // the custodian's own box would not open: its share is unusable
    if (code === 'CUSTODY_UNSEALABLE' || code === 'CUSTODY_BAD_SHARE') return 'bad';
    return 'unreachable'; // BUSY, INTERNAL, a registry outage at the custodian: may pass
  }
  if (err instanceof CustodyError) return 'bad'; // the answer did not decode, open or verify
  if (err instanceof SealpostError && (err.code === 'NETWORK_PROTOCOL_VIOLATION' || err.code === 'NETWORK_FRAME_TOO_LARGE')) return 'bad';
  return 'unreachable';
}

function codeOf(err: unknown): string {
  if (err instanceof NetworkRemoteError) return err.remoteCode;
  if (err instanceof SealpostError) return err.code;
  return 'INTERNAL';
}

function checkNodeId(id: string, field: string): void {
  try {
    parseNodeId(id);
  } catch (cause) {
    throw new CustodyError('CUSTODY_BAD_PARAMS', 'must be a node id (base64 of 32 bytes)', { field, cause });
  }
}
