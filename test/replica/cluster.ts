// A replication network for tests: real libp2p nodes on 127.0.0.1, each with
// its own data directory, node identity, Helia storage on the network's
// libp2p (bitswap), replica.db and replica service, all registered in one
// in-memory registry. A node can be stopped and brought back from a copy of
// its key files in a fresh directory (a restore on a new machine).
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import type { Logger } from 'pino';
import { NetworkRemoteError } from '../../src/network/errors.ts';
import { identityFiles, loadNodeIdentity, type NodeIdentity } from '../../src/network/identity.ts';
import { startNetwork } from '../../src/network/libp2p.ts';
import type { Network } from '../../src/network/types.ts';
import { openMemoryRegistry } from '../../src/registry/memory.ts';
import { signNodeRecord } from '../../src/registry/records.ts';
import type { Registry } from '../../src/registry/types.ts';
import { createReplicaClient, type ReplicaClient, type ReplicaClientOptions } from '../../src/replica/client.ts';
import { selectReplicas } from '../../src/replica/select.ts';
import { startReplicaService, type ReplicaService } from '../../src/replica/service.ts';
import { openReplicaStore } from '../../src/replica/store.ts';
import { REPLICA_PROTOCOL, type ReplicaServiceLimits, type ReplicaStore } from '../../src/replica/types.ts';
import { encodeRequest, type ReplicaRequest } from '../../src/replica/wire.ts';
import { openHeliaStorage, type HeliaStorage } from '../../src/storage/helia.ts';

export interface ReplicaNode {
  name: string;
  dir: string;
  identity: NodeIdentity;
  nodeId: string;
  network: Network;
  storage: HeliaStorage;
  store: ReplicaStore;
  service: ReplicaService;
  /** this node as an owner */
  client: ReplicaClient;
  /** stops the service, the storage and the network: the machine is gone */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  names: string[];
  k?: number;
  limits?: ReplicaServiceLimits;
  /** how long storage waits for bitswap (default 3 s) */
  fetchTimeoutMs?: number;
  client?: Partial<Pick<ReplicaClientOptions, 'waitMs' | 'timeoutMs'>>;
  /** the replica services' logger (default silent) */
  logger?: Logger;
}

export interface Cluster {
  root: string;
  registry: Registry;
  nodes: Map<string, ReplicaNode>;
  node(name: string): ReplicaNode;
  byId(nodeId: string): ReplicaNode;
  /** starts a node in `dir` (fresh, or holding copied key files) and registers it with `seq` */
  start(name: string, dir: string, seq: number): Promise<ReplicaNode>;
  /** a node started from a copy of `of`'s key files in a fresh directory (same node id, nothing else) */
  restore(of: ReplicaNode, name: string): Promise<ReplicaNode>;
}

export async function startCluster(t: ExecutionContext, options: ClusterOptions): Promise<Cluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sealpost-replica-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const registry = openMemoryRegistry();
  t.teardown(() => registry.close());
  const nodes = new Map<string, ReplicaNode>();

  const start = async (name: string, dir: string, seq: number): Promise<ReplicaNode> => {
    const identity = await loadNodeIdentity(identityFiles(dir));
    const network = await startNetwork({ identity });
    const storage = await openHeliaStorage({ dir: path.join(dir, 'ipfs'), libp2p: network.libp2p, fetchTimeoutMs: options.fetchTimeoutMs ?? 3_000 });
    const store = openReplicaStore({ path: path.join(dir, 'replica.db') });
    const service = await startReplicaService({
      network, storage, store, registry, limits: options.limits ?? {}, ...(options.logger === undefined ? {} : { logger: options.logger }), sizeOf: async (cid) => (await storage.get(cid)).byteLength,
    });
    await registry.registerNode(await signNodeRecord(identity.ed25519, registry.domain, { encKey: identity.x25519.publicKey, addrs: network.addrs(), seq }));
    const client = createReplicaClient({ network, registry, self: identity, storage, k: options.k ?? 2, waitMs: 5_000, timeoutMs: 5_000, ...options.client });
    let stopped: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        await service.stop();
        await storage.close();
        await network.stop();
      })();
      return stopped;
    };
    // teardowns run last-registered first: stop everything, then close the file
    t.teardown(() => store.close());
    t.teardown(stop);
    const node: ReplicaNode = { name, dir, identity, nodeId: identity.nodeId, network, storage, store, service, client, stop };
    nodes.set(name, node);
    return node;
  };

  for (const name of options.names) await start(name, path.join(root, name), 1);

  return {
    root,
    registry,
    nodes,
    node: (name) => nodes.get(name) ?? fail(`no node ${name}`),
    byId: (id) => [...nodes.values()].find((n) => n.nodeId === id && n.network.libp2p.status === 'started') ?? fail(`no running node ${id}`),
    start,
    async restore(of, name) {
      const dir = path.join(root, name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const from = identityFiles(of.dir);
      const to = identityFiles(dir);
      await copyFile(from.nodeKeyFile, to.nodeKeyFile);
      await copyFile(from.x25519KeyFile, to.x25519KeyFile);
      return start(name, dir, 2);
    },
  };
}

/** A random tag whose k replicas (owner excluded) include none of `avoid`. */
export function tagAvoiding(cluster: Cluster, owner: ReplicaNode, k: number, avoid: readonly ReplicaNode[]): Uint8Array {
  const ids = [...cluster.nodes.values()].map((n) => n.nodeId);
  for (;;) {
    const tag = new Uint8Array(randomBytes(32));
    const chosen = selectReplicas(tag, ids, k, [owner.nodeId]);
    if (!avoid.some((n) => chosen.includes(n.nodeId))) return tag;
  }
}

/** A raw replica request from one node to another. */
export function ask(from: ReplicaNode | { network: Network }, to: ReplicaNode, request: ReplicaRequest | Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
  const body = request instanceof Uint8Array ? request : encodeRequest(request);
  return from.network.request(to.network.addrs()[0]!, REPLICA_PROTOCOL, body, { timeoutMs });
}

/** The remote code of a refused request. */
export async function refusal(t: ExecutionContext, promise: Promise<unknown>): Promise<string> {
  const err = await t.throwsAsync(promise, { instanceOf: NetworkRemoteError });
  return err?.remoteCode ?? '(none)';
}

/** Bytes that differ per call. */
export function randomObject(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

/** Polls `check` until it is true or `ms` pass. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function fail(message: string): never {
  throw new Error(message);
}
