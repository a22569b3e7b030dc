// The replica: serves '/sealpost/replica/1.0.0' (wire.ts) on the node's
// network and keeps other nodes' account data pinned in its storage, with its
// records in store.ts. The owner of everything is the node at the other end of
// the Noise connection; a request never names it, so a node reaches only its
// own entries (another node asking for the same tag finds nothing).
//
// pin      fetches each CID from storage (bitswap: the owner is connected, it
//          just sent the request), pins it, records the holding, and answers
//          which CIDs are held and which failed, with a code. The work is
//          bounded, not deferred: at most 256 CIDs a request, at most
//          maxFetches fetches at once across all requests, and the answer
//          comes when the last CID is done or the request's waitMs (capped by
//          maxWaitMs) is up, whichever is first; CIDs not done by then are
//          REPLICA_FETCH_TIMEOUT. Why not "accepted, fetching in the
//          background": that needs a durable queue and a second round trip to
//          learn the outcome, and the answer would promise nothing; here the
//          owner learns the truth in one exchange and simply sends the
//          failed CIDs again (pin is idempotent). A fetch already started
//          when time runs out is not abandoned (storage.pin cannot be
//          cancelled): if it succeeds it is recorded, so status and list
//          show it and a repeat pin answers at once.
// unpin    drops holdings of (owner, tag); the storage pin goes when no
//          owner or tag holds the CID any more, and never when the node had
//          pinned it for itself first (store.ts `adopted`). The CID the
//          tag's pointer names is kept (answered in `kept`).
// pointer  checks the owner's signature, keeps the highest seq, and pins the
//          snapshot first: a pointer is only kept with its block.
// status, latest, list   read (owner, tag); latest answers REPLICA_NOT_FOUND
//          when this node has no pointer from the asking node for the tag,
//          the same answer whether or not another node stored one.
//
// Work on one CID (pin, unpin) is serialised by a per-CID lock, so a holding
// and the storage pin it stands for cannot be split by two requests racing.
import type { Logger } from 'pino';
import { SealpostError } from '../errors/index.ts';
import { silentLogger } from '../log.ts';
import type { Network, RemoteNode } from '../network/types.ts';
import { parseNodeId, verifyEd25519 } from '../registry/records.ts';
import type { Registry } from '../registry/types.ts';
import { BlockNotFoundError } from '../storage/errors.ts';
import type { BlockStorage, Cid } from '../storage/types.ts';
import { KeyedLock, Slots, untilAborted, withDeadline } from './concurrency.ts';
import { ReplicaError } from './errors.ts';
import {
  REPLICA_PROTOCOL, type HoldingStatus, type ListAnswer, type PinAnswer, type PointerAnswer, type ReplicaQuota, type ReplicaServiceLimits,
  type ReplicaStore, type SignedPointer,
} from './types.ts';
import {
  decodeRequest, DEFAULT_MAX_REQUEST_BYTES, encodeLatestAnswer, encodeListAnswer, encodePinAnswer, encodePointerAnswer, encodeStatusAnswer,
  encodeUnpinAnswer, pointerSigningBytes, tagToHex,
} from './wire.ts';

export interface ReplicaServiceOptions {
  network: Pick<Network, 'handle' | 'unhandle'>;
  /** the node's block storage on the network's libp2p (storage/helia.ts with `libp2p`), so pins fetch over bitswap */
  storage: Pick<BlockStorage, 'pin' | 'unpin' | 'isPinned'>;
  /** the replica's records; the caller opens and closes it */
  store: ReplicaStore;
  /**
   * When given, only nodes in the registry may have data pinned here (pin,
   * pointer); reading back what one stored is always allowed.
   */
  registry?: Pick<Registry, 'getNode'>;
  /**
   * The size of an object this node has, for the byte quota and `status`;
   * absent: sizes are unknown and only the CID quotas apply.
   */
  sizeOf?: (cid: Cid) => Promise<number>;
  limits?: ReplicaServiceLimits;
  /** ms since the epoch (default Date.now) */
  now?: () => number;
  logger?: Logger;
}

export interface ReplicaService {
  /** Stops serving and waits for fetches still running. The store stays open. */
  stop(): Promise<void>;
}

/** time beyond the fetch wait for the store, the size lookup and the answer */
const HANDLER_MARGIN_MS = 10_000;
/** how long a registry answer "this node is registered" is trusted */
const MEMBER_CACHE_MS = 60_000;

/**
 * Starts serving replica requests.
 * @throws ValidationError from network.handle when the protocol is already served
 */
export async function startReplicaService(options: ReplicaServiceOptions): Promise<ReplicaService> {
  const { network, storage, store, registry, sizeOf } = options;
  const limits = options.limits ?? {};
  const now = options.now ?? Date.now;
  const maxWaitMs = limits.maxWaitMs ?? 20_000;
  const quota: ReplicaQuota = {
    maxCidsPerOwner: limits.maxCidsPerOwner ?? 1_000_000,
    maxBytesPerOwner: limits.maxBytesPerOwner ?? 16 * 1024 ** 3,
    maxCids: limits.maxCids ?? 10_000_000,
  };
  const log = (options.logger ?? silentLogger()).child({ component: 'replica' });
  const fetchSlots = new Slots(limits.maxFetches ?? 8);
  const locks = new KeyedLock();
  /** work that outlives its request (a fetch past its deadline): stop() waits for it */
  const running = new Set<Promise<unknown>>();
  /** holdings being fetched per owner (hex), so one request cannot fetch far beyond the owner's quota */
  const inFlight = new Map<string, number>();
  const members = new Map<string, number>();
  let stopping = false;

  const codeOf = (err: unknown, cid: Cid): string => {
    if (err instanceof BlockNotFoundError) return 'REPLICA_FETCH_FAILED';
    if (err instanceof SealpostError) return err.code;
    log.error({ cid, err }, 'BUG: pinning a replicated block failed');
    return 'INTERNAL';
  };

  /** Pins one CID for (owner, tag) and records it; the caller holds the CID's lock. Returns null or the failure code. */
  const pinOne = async (owner: Uint8Array, tag: Uint8Array, cid: Cid): Promise<string | null> => {
    const held = store.holds(owner, tag, cid);
    const known = held || store.known(cid);
    // A pin the node made for itself before any replica holding must survive every unpin.
    const adopted = known ? false : await storage.isPinned(cid);
    try {
      // also for a CID already held: its pin may have been lost with the storage directory
      await storage.pin(cid);
    } catch (err) {
      return codeOf(err, cid);
    }
    if (held) return null;
    let bytes: number | null = null;
    if (sizeOf !== undefined) {
      try {
        bytes = await sizeOf(cid);
      } catch (err) {
        log.warn({ cid, err: (err as Error).message }, 'size of a pinned block unknown');
      }
    }
    try {
      store.hold({ owner, tag, cid, bytes, adopted, at: now() }, quota);
      return null;
    } catch (err) {
      if (!known && !adopted && !store.known(cid)) await storage.unpin(cid).catch((e: unknown) => log.warn({ cid, err: (e as Error).message }, 'could not unpin'));
      return codeOf(err, cid);
    }
  };

  /** One CID of a pin request: null when held, else the failure code. Gives up waiting (not working) when `signal` aborts. */
  const attempt = async (owner: Uint8Array, ownerKey: string, tag: Uint8Array, cid: Cid, signal: AbortSignal): Promise<string | null> => {
    const held = store.holds(owner, tag, cid);
    if (held && (await storage.isPinned(cid))) return null;
    const usage = store.usage(owner);
    const full = usage.held + (inFlight.get(ownerKey) ?? 0) >= quota.maxCidsPerOwner || usage.bytes >= quota.maxBytesPerOwner;
    if (!held && full) return 'REPLICA_QUOTA_EXCEEDED';
    inFlight.set(ownerKey, (inFlight.get(ownerKey) ?? 0) + 1);
    const done = (): void => {
      const left = (inFlight.get(ownerKey) ?? 1) - 1;
      if (left === 0) inFlight.delete(ownerKey);
      else inFlight.set(ownerKey, left);
    };
    let release: () => void;
    try {
      release = await fetchSlots.acquire(signal);
    } catch {
      done();
      return 'REPLICA_FETCH_TIMEOUT';
    }
    // From here the work runs to its end, whether or not the request still waits for it.
    const work = locks.run([cid], () => pinOne(owner, tag, cid)).finally(() => {
      release();
      done();
    });
    running.add(work);
    void work.catch(() => undefined).finally(() => running.delete(work));
    return untilAborted(work.catch((err: unknown) => codeOf(err, cid)), signal, 'REPLICA_FETCH_TIMEOUT');
  };

  const pin = async (owner: Uint8Array, ownerKey: string, tag: Uint8Array, cids: readonly Cid[], waitMs: number, signal: AbortSignal): Promise<PinAnswer> => {
    const codes = await withDeadline(Math.min(waitMs, maxWaitMs), signal, (deadline) => Promise.all(cids.map((cid) => attempt(owner, ownerKey, tag, cid, deadline))));
    const answer: PinAnswer = { held: [], failed: [] };
    cids.forEach((cid, i) => {
      const code = codes[i];
      if (code === null) answer.held.push(cid);
      else answer.failed.push({ cid, code: code ?? 'INTERNAL' });
    });
    log.info({ tag: tagToHex(tag), held: answer.held.length, failed: answer.failed.length }, 'pin request answered');
    return answer;
  };

  const unpin = async (owner: Uint8Array, tag: Uint8Array, cids: readonly Cid[]) => locks.run(cids, async () => {
    const result = store.release(owner, tag, cids);
    for (const cid of result.freed) {
      await storage.unpin(cid).catch((err: unknown) => log.warn({ cid, err: (err as Error).message }, 'could not unpin a released block'));
    }
    log.info({ tag: tagToHex(tag), removed: result.removed.length, kept: result.kept.length, unpinned: result.freed.length }, 'unpin request answered');
    return { removed: result.removed, kept: result.kept };
  });

  const setPointer = async (owner: Uint8Array, ownerKey: string, tag: Uint8Array, pointer: SignedPointer, waitMs: number, signal: AbortSignal): Promise<PointerAnswer> => {
    if (!verifyEd25519(owner, pointerSigningBytes(owner, tag, pointer.seq, pointer.cid), pointer.sig)) {
      throw new ReplicaError('REPLICA_BAD_SIGNATURE', "the pointer's signature does not verify under the node's key", { field: 'sig' });
    }
    const current = store.pointer(owner, tag);
    if (current !== null && (pointer.seq < current.seq || (pointer.seq === current.seq && pointer.cid !== current.cid))) return { accepted: false, pointer: current };
    const code = await withDeadline(Math.min(waitMs, maxWaitMs), signal, (deadline) => attempt(owner, ownerKey, tag, pointer.cid, deadline));
    if (code !== null) throw failure(code, `the snapshot ${pointer.cid} could not be pinned`);
    const answer = store.setPointer(owner, tag, pointer, now());
    log.info({ tag: tagToHex(tag), seq: answer.pointer.seq, accepted: answer.accepted }, 'snapshot pointer');
    return answer;
  };

  const list = (owner: Uint8Array, tag: Uint8Array, after: Cid | null, limit: number): ListAnswer => {
    const cids = store.list(owner, tag, after, limit + 1);
    const more = cids.length > limit;
    if (more) cids.length = limit;
    return { cids, next: more ? (cids[limit - 1] ?? null) : null };
  };

  const requireMember = async (from: RemoteNode, owner: Uint8Array): Promise<void> => {
    if (registry === undefined) return;
    const until = members.get(from.nodeId);
    if (until !== undefined && until > Date.now()) return;
    if ((await registry.getNode(owner)) === null) {
      log.warn({ node: from.nodeId }, 'refused: the node is not in the registry');
      throw new ReplicaError('REPLICA_UNKNOWN_NODE', 'this replica keeps data for registered nodes only');
    }
    members.set(from.nodeId, Date.now() + MEMBER_CACHE_MS);
  };

  await network.handle(REPLICA_PROTOCOL, async (body, from, { signal }) => {
    if (stopping) throw new ReplicaError('REPLICA_STOPPING', 'the replica is stopping');
    const request = decodeRequest(body);
    const owner = parseNodeId(from.nodeId);
    const ownerKey = from.nodeId;
    switch (request.op) {
      case 'pin':
        await requireMember(from, owner);
        return encodePinAnswer(await pin(owner, ownerKey, request.tag, request.cids, request.waitMs, signal));
      case 'unpin':
        return encodeUnpinAnswer(await unpin(owner, request.tag, request.cids));
      case 'pointer':
        await requireMember(from, owner);
        return encodePointerAnswer(await setPointer(owner, ownerKey, request.tag, request.pointer, request.waitMs, signal));
      case 'status': {
        const status: HoldingStatus = store.status(owner, request.tag);
        return encodeStatusAnswer(status);
      }
      case 'latest': {
        const pointer = store.pointer(owner, request.tag);
        if (pointer === null) throw new ReplicaError('REPLICA_NOT_FOUND', 'no snapshot pointer from this node for this tag');
        return encodeLatestAnswer(pointer);
      }
      case 'list':
        return encodeListAnswer(list(owner, request.tag, request.after, request.limit));
    }
  }, {
    maxRequestBytes: limits.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    maxConcurrent: limits.maxConcurrent ?? 16,
    timeoutMs: maxWaitMs + HANDLER_MARGIN_MS,
  });

  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        await network.unhandle(REPLICA_PROTOCOL);
        while (running.size > 0) await Promise.allSettled([...running]);
      })();
      return stopped;
    },
  };
}

/** A refusal with `code`: a ReplicaError for ours, a SealpostError carrying another layer's code (BLOCK_CORRUPT, …). */
function failure(code: string, message: string): SealpostError {
  const ours = ['REPLICA_QUOTA_EXCEEDED', 'REPLICA_FETCH_FAILED', 'REPLICA_FETCH_TIMEOUT', 'REPLICA_STOPPING'] as const;
  const known = ours.find((c) => c === code);
  return known === undefined ? new SealpostError(code, message) : new ReplicaError(known, message);
}
