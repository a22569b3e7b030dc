// The owner's side of account replication (the replica is service.ts; the
// wire format wire.ts).
//
// Replicas of an account are the k nodes of the registry that rendezvous
// hashing of the account tag ranks highest (select.ts), this node excluded;
// fewer when the registry has fewer other nodes (its node list is cached for
// 10 s). A node is reached at the loopback /p2p/ addresses its registry
// record gives, the next only when the dial to one failed (as
// custody/client.ts does). Requests to the replicas go
// out in parallel, each with its own time limit; one replica that is down or
// refuses shows in its own result and never fails the others.
//
// replicate       pins CIDs on every replica, in batches of 256; the replica
//                 fetches them from this node over bitswap while the request
//                 waits (waitMs); per replica: held and failed (with a code).
// publishPointer  signs {seq, cid} with the node key and gives it to every
//                 replica, which pins the snapshot and keeps the highest seq.
// copies          each replica's count of CIDs and its pointer (for `status`).
// latestPointer   asks the replicas (2k candidates by default, so a node that
//                 joined since the last replication and now outranks an old
//                 replica hides nothing) and takes the highest seq whose
//                 signature verifies under this node's key: a stale replica
//                 cannot roll a restore back unless every replica is stale, a
//                 lying one cannot forge a pointer.
// list, unpin, fetch   the CIDs one replica holds; dropping CIDs; reading a
//                 block after connecting to the replicas (storage then gets
//                 it over bitswap).
import type { Logger } from 'pino';
import { SealpostError } from '../errors/index.ts';
import { silentLogger } from '../log.ts';
import { NetworkRemoteError, NetworkUnreachableError } from '../network/errors.ts';
import type { NodeIdentity } from '../network/identity.ts';
import type { Network } from '../network/types.ts';
import { formatNodeId, parseNodeId, verifyEd25519 } from '../registry/records.ts';
import type { NodeRecord, Registry } from '../registry/types.ts';
import { isLoopbackMultiaddr } from '../storage/peers.ts';
import type { BlockStorage, Cid } from '../storage/types.ts';
import { ReplicaError } from './errors.ts';
import { checkK, checkTag, MAX_REPLICAS, selectReplicas } from './select.ts';
import {
  DEFAULT_REPLICAS, REPLICA_PROTOCOL, type CidFailure, type HoldingStatus, type ListAnswer, type PointerAnswer, type SignedPointer,
  type SnapshotPointer, type UnpinAnswer,
} from './types.ts';
import {
  canonicalCid, decodeLatestAnswer, decodeListAnswer, decodePinAnswer, decodePointerAnswer, decodeStatusAnswer, decodeUnpinAnswer, encodeRequest,
  MAX_CIDS_PER_REQUEST, MAX_LIST_LIMIT, MAX_RESPONSE_BYTES, MAX_WAIT_MS, pointerSigningBytes, type ReplicaRequest,
} from './wire.ts';

export interface ReplicaClientOptions {
  network: Pick<Network, 'request' | 'dial'>;
  registry: Pick<Registry, 'listNodes'>;
  /** this node: never its own replica; signs snapshot pointers */
  self: Pick<NodeIdentity, 'nodeId'> & { ed25519: Pick<NodeIdentity['ed25519'], 'sign'> };
  /** for fetch(): the node's storage on the network's libp2p */
  storage?: Pick<BlockStorage, 'get'>;
  logger?: Logger;
  /** replicas per account (default 3) */
  k?: number;
  /** time limit of a status, latest, list or unpin request, dial included (default 10 s) */
  timeoutMs?: number;
  /** how long a pin or pointer request waits for the replica's fetches (default 15 s; the replica may cap it) */
  waitMs?: number;
}

/** A replica that could not answer, or refused: `code` is the remote code (REPLICA_*, BUSY) or a NETWORK_* code. */
export interface ReplicaFailure {
  node: string;
  ok: false;
  code: string;
}

export type PerReplica<T> = ({ node: string; ok: true } & T) | ReplicaFailure;

/** One replica's part in a replicate call: every CID asked for is in `held` or in `failed`. */
export interface ReplicateResult {
  node: string;
  held: Cid[];
  /** a request that failed as a whole lists each of its CIDs with the request's code */
  failed: CidFailure[];
}

export interface LatestResult {
  /** the highest-seq pointer with a good signature, or null when no replica has one */
  pointer: SignedPointer | null;
  /** replicas holding exactly that pointer */
  from: string[];
  /** replicas that answered with an older pointer */
  stale: string[];
  /** replicas that hold no pointer for the tag */
  missing: string[];
  /** replicas that did not answer, refused, or offered a pointer whose signature fails (REPLICA_BAD_SIGNATURE) */
  failures: ReplicaFailure[];
}

export interface ReplicaClient {
  readonly k: number;
  /**
   * The replicas of `tag`, best first (at most `count`, default k).
   * @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`, `count`)
   */
  replicas(tag: Uint8Array, count?: number): Promise<string[]>;
  /**
   * Pins `cids` on each replica of `tag`.
   * @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`, `cids[i]`)
   */
  replicate(tag: Uint8Array, cids: readonly string[]): Promise<ReplicateResult[]>;
  /**
   * Signs and publishes the snapshot pointer of `tag` to each replica.
   * @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`, `seq`, `cid`)
   */
  publishPointer(tag: Uint8Array, pointer: SnapshotPointer): Promise<PerReplica<PointerAnswer>[]>;
  /** @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`) */
  copies(tag: Uint8Array): Promise<PerReplica<HoldingStatus>[]>;
  /**
   * The latest snapshot pointer any of the best `breadth` nodes (default 2k) holds for `tag`.
   * @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`)
   */
  latestPointer(tag: Uint8Array, options?: { breadth?: number }): Promise<LatestResult>;
  /**
   * One page of the CIDs `node` holds for `tag`.
   * @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`, `after`, `limit`); REPLICA_BAD_RESPONSE
   * @throws NetworkUnreachableError, NetworkTimeoutError, NetworkRemoteError, … (network/errors.ts)
   */
  list(tag: Uint8Array, node: string, options?: { after?: Cid; limit?: number }): Promise<ListAnswer>;
  /**
   * Drops `cids` on each replica of `tag`.
   * @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`, `cids[i]`)
   */
  unpin(tag: Uint8Array, cids: readonly string[]): Promise<PerReplica<UnpinAnswer>[]>;
  /**
   * Connects to the replicas of `tag` (the best `breadth`, default 2k) and reads `cid`
   * from storage, which fetches it over bitswap from whichever has it.
   * @throws ReplicaError REPLICA_BAD_PARAMS (field `storage`) when the client has no storage
   * @throws BlockNotFoundError, BlockCorruptError (storage/errors.ts)
   */
  fetch(tag: Uint8Array, cid: Cid, options?: { breadth?: number }): Promise<Uint8Array>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_WAIT_MS = 15_000;
/** time beyond waitMs for the dial, the replica's bookkeeping and the answer */
const WAIT_MARGIN_MS = 5_000;
const DIAL_TIMEOUT_MS = 3_000;
const REGISTRY_CACHE_MS = 10_000;

/**
 * The owner's replication client.
 * @throws ReplicaError REPLICA_BAD_PARAMS (field `k`, `waitMs`, `timeoutMs`)
 */
export function createReplicaClient(options: ReplicaClientOptions): ReplicaClient {
  const { network, registry, self, storage } = options;
  const k = options.k ?? DEFAULT_REPLICAS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  checkK(k, 'k');
  if (!Number.isSafeInteger(waitMs) || waitMs < 1 || waitMs > MAX_WAIT_MS) throw new ReplicaError('REPLICA_BAD_PARAMS', `must be an integer in 1..${MAX_WAIT_MS}`, { field: 'waitMs' });
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new ReplicaError('REPLICA_BAD_PARAMS', 'must be a positive integer', { field: 'timeoutMs' });
  const log = (options.logger ?? silentLogger()).child({ component: 'replica-client' });
  const owner = parseNodeId(self.nodeId);

  // The registry's node list, read at most every REGISTRY_CACHE_MS: a restore
  // fetches thousands of objects, and an EVM registry read is a chain call.
  let nodeList: { at: number; records: Promise<Map<string, NodeRecord>> } | null = null;
  const nodes = (): Promise<Map<string, NodeRecord>> => {
    if (nodeList === null || Date.now() - nodeList.at > REGISTRY_CACHE_MS) {
      const records = registry.listNodes().then((list) => new Map(list.map((r) => [formatNodeId(r.nodeId), r])));
      nodeList = { at: Date.now(), records };
      records.catch(() => { nodeList = null; });
    }
    return nodeList.records;
  };

  /** The best `count` nodes for `tag` with their records. */
  const chosen = async (tag: Uint8Array, count: number, field = 'breadth'): Promise<NodeRecord[]> => {
    checkTag(tag);
    checkK(count, field);
    const records = await nodes();
    return selectReplicas(tag, records.keys(), count, [self.nodeId]).map((id) => records.get(id)!);
  };

  /** One request to a node at the addresses its record gives (loopback only), the next only when a dial failed. */
  const send = async (record: NodeRecord, request: ReplicaRequest, limitMs: number): Promise<Uint8Array> => {
    const body = encodeRequest(request);
    const addrs = record.addrs.filter((a) => isLoopbackMultiaddr(a) && a.includes('/p2p/'));
    let last: unknown = new NetworkUnreachableError(formatNodeId(record.nodeId), 'dial', 'the node registered no loopback address');
    for (const addr of addrs) {
      try {
        return await network.request(addr, REPLICA_PROTOCOL, body, { timeoutMs: limitMs, maxResponseBytes: MAX_RESPONSE_BYTES });
      } catch (err) {
        if (!(err instanceof NetworkUnreachableError && err.phase === 'dial')) throw err;
        last = err;
      }
    }
    throw last;
  };

  const verifies = (tag: Uint8Array, p: SignedPointer): boolean => verifyEd25519(owner, pointerSigningBytes(owner, tag, p.seq, p.cid), p.sig);

  /** Runs `fn` on each record in parallel; a throw becomes that node's failure. */
  const each = <T>(records: readonly NodeRecord[], what: string, fn: (record: NodeRecord) => Promise<T>): Promise<PerReplica<T>[]> =>
    Promise.all(records.map(async (record): Promise<PerReplica<T>> => {
      const node = formatNodeId(record.nodeId);
      try {
        return { node, ok: true, ...(await fn(record)) };
      } catch (err) {
        const code = codeOf(err);
        log.warn({ node, code, what }, 'replica request failed');
        return { node, ok: false, code };
      }
    }));

  const client: ReplicaClient = {
    k,

    async replicas(tag, count = k) {
      return (await chosen(tag, count, 'count')).map((r) => formatNodeId(r.nodeId));
    },

    async replicate(tag, cids) {
      const wanted = checkCids(cids);
      const records = await chosen(tag, k);
      return Promise.all(records.map(async (record): Promise<ReplicateResult> => {
        const result: ReplicateResult = { node: formatNodeId(record.nodeId), held: [], failed: [] };
        for (let at = 0; at < wanted.length; at += MAX_CIDS_PER_REQUEST) {
          const batch = wanted.slice(at, at + MAX_CIDS_PER_REQUEST);
          try {
            const answer = decodePinAnswer(await send(record, { op: 'pin', tag, cids: batch, waitMs }, waitMs + WAIT_MARGIN_MS));
            const accounted = accountFor(batch, answer.held, answer.failed);
            result.held.push(...accounted.held);
            result.failed.push(...accounted.failed);
          } catch (err) {
            const code = codeOf(err);
            log.warn({ node: result.node, code }, 'pin request failed');
            // the rest would fail the same way: a replica that is down is down for every batch
            for (const cid of wanted.slice(at)) result.failed.push({ cid, code });
            break;
          }
        }
        return result;
      }));
    },

    async publishPointer(tag, pointer) {
      checkTag(tag);
      if (!Number.isSafeInteger(pointer.seq) || pointer.seq < 0) throw new ReplicaError('REPLICA_BAD_PARAMS', 'must be an integer in 0..2^53 − 1', { field: 'seq' });
      const cid = canonicalCid(pointer.cid);
      if (cid === null) throw new ReplicaError('REPLICA_BAD_PARAMS', 'must be a canonical CIDv1', { field: 'cid' });
      const sig = new Uint8Array(await self.ed25519.sign(pointerSigningBytes(owner, tag, pointer.seq, cid)));
      const signed: SignedPointer = { seq: pointer.seq, cid, sig };
      return each(await chosen(tag, k), 'pointer', async (record) => {
        const answer = decodePointerAnswer(await send(record, { op: 'pointer', tag, pointer: signed, waitMs }, waitMs + WAIT_MARGIN_MS));
        if (!verifies(tag, answer.pointer)) throw new ReplicaError('REPLICA_BAD_SIGNATURE', 'the replica answered with a pointer this node did not sign');
        return answer;
      });
    },

    async copies(tag) {
      return each(await chosen(tag, k), 'status', async (record) => {
        const status = decodeStatusAnswer(await send(record, { op: 'status', tag }, timeoutMs));
        if (status.pointer !== null && !verifies(tag, status.pointer)) throw new ReplicaError('REPLICA_BAD_SIGNATURE', 'the replica holds a pointer this node did not sign');
        return status;
      });
    },

    async latestPointer(tag, latestOptions = {}) {
      const records = await chosen(tag, latestOptions.breadth ?? Math.min(2 * k, MAX_REPLICAS));
      const result: LatestResult = { pointer: null, from: [], stale: [], missing: [], failures: [] };
      const answers: Array<{ node: string; pointer: SignedPointer }> = [];
      await Promise.all(records.map(async (record) => {
        const node = formatNodeId(record.nodeId);
        try {
          const pointer = decodeLatestAnswer(await send(record, { op: 'latest', tag }, timeoutMs));
          if (!verifies(tag, pointer)) {
            log.warn({ node }, 'a replica offered a snapshot pointer with a bad signature');
            result.failures.push({ node, ok: false, code: 'REPLICA_BAD_SIGNATURE' });
            return;
          }
          answers.push({ node, pointer });
        } catch (err) {
          const code = codeOf(err);
          if (code === 'REPLICA_NOT_FOUND') result.missing.push(node);
          else result.failures.push({ node, ok: false, code });
        }
      }));
      for (const { pointer } of answers) if (result.pointer === null || pointer.seq > result.pointer.seq) result.pointer = pointer;
      const best = result.pointer;
      for (const { node, pointer } of answers) {
        (best !== null && pointer.seq === best.seq && pointer.cid === best.cid ? result.from : result.stale).push(node);
      }
      return result;
    },

    async list(tag, node, listOptions = {}) {
      checkTag(tag);
      const limit = listOptions.limit ?? MAX_LIST_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new ReplicaError('REPLICA_BAD_PARAMS', `must be an integer in 1..${MAX_LIST_LIMIT}`, { field: 'limit' });
      const after = listOptions.after === undefined ? null : canonicalCid(listOptions.after);
      if (after === null && listOptions.after !== undefined) throw new ReplicaError('REPLICA_BAD_PARAMS', 'must be a canonical CIDv1', { field: 'after' });
      const record = (await nodes()).get(node);
      if (record === undefined) throw new NetworkUnreachableError(node, 'dial', 'the node is not in the registry');
      const page = decodeListAnswer(await send(record, { op: 'list', tag, after, limit }, timeoutMs));
      if (page.cids.length > limit || (after !== null && page.cids.some((c) => c <= after))) {
        throw new ReplicaError('REPLICA_BAD_RESPONSE', 'the page does not follow the request', { field: 'cids' });
      }
      return page;
    },

    async unpin(tag, cids) {
      const wanted = checkCids(cids);
      return each(await chosen(tag, k), 'unpin', async (record) => {
        const total: UnpinAnswer = { removed: [], kept: [] };
        for (let at = 0; at < wanted.length; at += MAX_CIDS_PER_REQUEST) {
          const answer = decodeUnpinAnswer(await send(record, { op: 'unpin', tag, cids: wanted.slice(at, at + MAX_CIDS_PER_REQUEST) }, timeoutMs));
          total.removed.push(...answer.removed);
          total.kept.push(...answer.kept);
        }
        return total;
      });
    },

    async fetch(tag, cid, fetchOptions = {}) {
      if (storage === undefined) throw new ReplicaError('REPLICA_BAD_PARAMS', 'this client was made without storage', { field: 'storage' });
      const records = await chosen(tag, fetchOptions.breadth ?? Math.min(2 * k, MAX_REPLICAS));
      await Promise.all(records.map(async (record) => {
        for (const addr of record.addrs.filter((a) => isLoopbackMultiaddr(a) && a.includes('/p2p/'))) {
          try {
            await network.dial(addr, { timeoutMs: DIAL_TIMEOUT_MS });
            return;
          } catch (err) {
            log.debug({ node: formatNodeId(record.nodeId), addr, err: (err as Error).message }, 'dial failed');
          }
        }
      }));
      return storage.get(cid);
    },
  };
  return client;
}

/** Every CID of a batch in exactly one list; anything the replica left out or made up is REPLICA_BAD_RESPONSE. */
function accountFor(batch: readonly Cid[], held: readonly Cid[], failed: readonly CidFailure[]): { held: Cid[]; failed: CidFailure[] } {
  const asked = new Set(batch);
  const seen = new Set<Cid>();
  const out = { held: [] as Cid[], failed: [] as CidFailure[] };
  for (const cid of held) if (asked.has(cid) && !seen.has(cid)) { seen.add(cid); out.held.push(cid); }
  for (const f of failed) if (asked.has(f.cid) && !seen.has(f.cid)) { seen.add(f.cid); out.failed.push(f); }
  for (const cid of batch) if (!seen.has(cid)) out.failed.push({ cid, code: 'REPLICA_BAD_RESPONSE' });
  return out;
}

function checkCids(cids: readonly string[]): Cid[] {
  const out = new Set<Cid>();
  cids.forEach((c, i) => {
    const cid = canonicalCid(c);
    if (cid === null) throw new ReplicaError('REPLICA_BAD_PARAMS', 'must be a canonical CIDv1 (base32; raw or dag-pb; sha2-256)', { field: `cids[${i}]` });
    out.add(cid);
  });
  return [...out];
}

function codeOf(err: unknown): string {
  if (err instanceof NetworkRemoteError) return err.remoteCode;
  if (err instanceof SealpostError) return err.code;
  return 'INTERNAL';
}
