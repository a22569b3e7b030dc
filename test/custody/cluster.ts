// A custody network for tests: real libp2p nodes on 127.0.0.1, each with its
// own data directory, identity, custody.db and custodian service, all
// registered in one local registry file they share, all on one injectable
// clock. Nodes are named; `teardown` is ava's t.teardown or a script's own.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CustodyClientContext } from '../../src/custody/client.ts';
import { sealTo, openSealed } from '../../src/custody/ecies.ts';
import { ORDER } from '../../src/custody/scalar.ts';
import { selectCustodians } from '../../src/custody/select.ts';
import { startCustodyService, type CustodyService } from '../../src/custody/service.ts';
import { decodeShare, encodeShare } from '../../src/custody/shamir.ts';
import type { CustodyVault } from '../../src/custody/types.ts';
import { openCustodyVault } from '../../src/custody/vault.ts';
import { depositAad, rawX25519Private } from '../../src/custody/wire.ts';
import { identityFiles, loadNodeIdentity, type NodeIdentity } from '../../src/network/identity.ts';
import { startNetwork } from '../../src/network/libp2p.ts';
import type { Network } from '../../src/network/types.ts';
import { openLocalRegistry } from '../../src/registry/local.ts';
import { signNodeRecord } from '../../src/registry/records.ts';
import type { Registry } from '../../src/registry/types.ts';

export type Teardown = (fn: () => unknown) => void;

export interface Clock {
  now: () => number;
  advance(ms: number): void;
}

/** A clock that moves only when told, starting at the real time. */
export function manualClock(start = Date.now()): Clock {
  let current = start;
  return { now: () => current, advance: (ms) => { current += ms; } };
}

export interface CustodyNode {
  name: string;
  dir: string;
  identity: NodeIdentity;
  nodeId: string;
  network: Network;
  /** this node's handle on the shared registry file */
  registry: Registry;
  vault: CustodyVault;
  service: CustodyService;
  /** DATA/custody.db */
  dbPath: string;
  /** this node as a custody client */
  ctx: CustodyClientContext;
  /** stops the custodian service and the network: the node is unreachable */
  stop(): Promise<void>;
}

export interface Cluster {
  clock: Clock;
  registryPath: string;
  nodes: Map<string, CustodyNode>;
  node(name: string): CustodyNode;
  byId(nodeId: string): CustodyNode;
}

export interface ClusterOptions {
  names: string[];
  clock?: Clock;
  /** wraps a node's vault (a tampering custodian) */
  wrapVault?: (name: string, vault: CustodyVault, identity: NodeIdentity) => CustodyVault;
  /** wraps a node's registry as its custodian service sees it (an outage) */
  wrapRegistry?: (name: string, registry: Registry) => Pick<Registry, 'domain' | 'getNode' | 'recordDeletion'>;
}

/** Starts one node per name, registers each, and runs a custodian on each (expiry timer off: tests call runExpiryPass). */
export async function startCluster(teardown: Teardown, options: ClusterOptions): Promise<Cluster> {
  const clock = options.clock ?? manualClock();
  const root = await mkdtemp(path.join(os.tmpdir(), 'sealpost-custody-'));
  teardown(() => rm(root, { recursive: true, force: true }));
  const registryPath = path.join(root, 'registry.db');
  const nodes = new Map<string, CustodyNode>();
  // one by one: the registry file is created and migrated by the first opener
  for (const name of options.names) nodes.set(name, await startCustodyNode(teardown, root, registryPath, name, clock, options));
  const byId = new Map([...nodes.values()].map((n) => [n.nodeId, n]));
  return {
    clock,
    registryPath,
    nodes,
    node: (name) => nodes.get(name) ?? fail(`no node ${name}`),
    byId: (id) => byId.get(id) ?? fail(`no node ${id}`),
  };
}

async function startCustodyNode(teardown: Teardown, root: string, registryPath: string, name: string, clock: Clock, options: ClusterOptions): Promise<CustodyNode> {
  const dir = path.join(root, name);
  const identity = await loadNodeIdentity(identityFiles(dir));
  const network = await startNetwork({ identity });
  const registry = openLocalRegistry({ path: registryPath });
  await registry.registerNode(await signNodeRecord(identity.ed25519, registry.domain, { encKey: identity.x25519.publicKey, addrs: network.addrs(), seq: 1 }));
  const dbPath = path.join(dir, 'custody.db');
  const rawVault = openCustodyVault({ path: dbPath });
  const vault = options.wrapVault?.(name, rawVault, identity) ?? rawVault;
  const service = await startCustodyService({
    network, identity, vault, now: clock.now, expiryIntervalMs: 0,
    registry: options.wrapRegistry?.(name, registry) ?? registry,
  });
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await service.stop();
      await network.stop();
    })();
    return stopped;
  };
  // teardowns run last-registered first: stop, then close the files
  teardown(() => registry.close());
  teardown(() => rawVault.close());
  teardown(stop);
  return {
    name, dir, identity, nodeId: identity.nodeId, network, registry, vault, service, dbPath, stop,
    ctx: { network, registry, identity, now: clock.now, timeoutMs: 10_000 },
  };
}

/**
 * A random message hash whose n custodians (parties excluded) leave out the
 * given nodes, so a test knows who is and who is not a custodian.
 */
export function hashAvoiding(cluster: Cluster, n: number, parties: readonly string[], avoid: readonly string[]): Uint8Array {
  const ids = [...cluster.nodes.values()].map((node) => ({ id: node.nodeId }));
  for (;;) {
    const hash = new Uint8Array(randomBytes(32));
    const chosen = selectCustodians(hash, ids, n, parties);
    if (!chosen.some((id) => avoid.includes(id))) return hash;
  }
}

/**
 * A vault that, while `on`, hands out its shares with f(i) changed by one:
 * the box still opens (it is re-sealed to this custodian with the right AAD)
 * and the share decodes, so only the Pedersen check can catch it.
 */
export function tamperingVault(vault: CustodyVault, identity: NodeIdentity): CustodyVault & { on: boolean } {
  const key = rawX25519Private(identity.x25519.privateKey);
  const wrapped: CustodyVault & { on: boolean } = {
    on: false,
    put: (share) => vault.put(share),
    get: (ref, sender) => {
      const share = vault.get(ref, sender);
      if (share === null || !wrapped.on) return share;
      const aad = depositAad(share.ref, share.sender, identity.nodeId, share.index);
      const plain = decodeShare(openSealed(key, share.sealed, aad));
      const forged = encodeShare({ ...plain, value: (plain.value + 1n) % ORDER });
      return { ...share, sealed: sealTo(identity.x25519.publicKey, forged, aad) };
    },
    tombstone: (ref, sender) => vault.tombstone(ref, sender),
    delete: (keys, reason, at) => vault.delete(keys, reason, at),
    due: (now, limit) => vault.due(now, limit),
    pendingReceipts: (limit) => vault.pendingReceipts(limit),
    markReceipt: (ref, sender, at) => vault.markReceipt(ref, sender, at),
    purgeTombstones: (before) => vault.purgeTombstones(before),
    count: () => vault.count(),
    close: () => vault.close(),
  };
  return wrapped;
}

export function idsOf(nodes: readonly CustodyNode[]): string[] {
  return nodes.map((n) => n.nodeId);
}

function fail(message: string): never {
  throw new Error(message);
}
