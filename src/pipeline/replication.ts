// Replication of each account's data in a peer network (issue: "a node in a
// network has its accounts' ciphertexts and snapshots pinned by k peer
// nodes"): this node serves as a replica for others (replica/service.ts) and
// hands its own accounts' new CIDs and latest snapshot pointer to their k
// replicas after each snapshot (replica/client.ts), so that a lost machine
// loses nothing a restore (restore/restore.ts) cannot fetch back.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Account } from '../mailstore/types.ts';
import type { PeerNetwork } from '../peer-node.ts';
import type { SnapshotPointer, SnapshotState } from '../snapshot/state.ts';
import type { BlockStorage, Cid } from '../storage/types.ts';

/** The account's name among replicas: a hash of its key fingerprint, so replicas never learn addresses. */
export function accountTag(fingerprint: string): Uint8Array {
  return createHash('sha256').update(`sealpost/replica-tag/1\0${fingerprint.toUpperCase()}`).digest();
}

export interface ReplicaCopies {
  /** replicas that answered, with what they hold of the account */
  replicas: Array<{ node: string; held: number; bytes: number | null; pointer: { seq: number; cid: string } | null }>;
  /** replicas that did not answer */
  unreachable: Array<{ node: string; code: string }>;
}

export interface Replication {
  /** Hands a new snapshot and the CIDs it names to the account's replicas. */
  published(account: Account & { fingerprint: string }, pointer: SnapshotPointer, cids: readonly string[]): Promise<void>;
  /** What each replica of the account holds now. */
  copies(fingerprint: string): Promise<ReplicaCopies>;
  close(): Promise<void>;
}

export async function startReplication(options: {
  peer: PeerNetwork;
  storage: BlockStorage;
  state: SnapshotState;
  replicaDb: string;
  k: number;
  logger: Logger;
}): Promise<Replication> {
  const { peer, storage, state } = options;
  const log = options.logger.child({ part: 'replication' });
  const { openReplicaStore } = await import('../replica/store.ts');
  const { startReplicaService } = await import('../replica/service.ts');
  const { createReplicaClient } = await import('../replica/client.ts');
  const store = openReplicaStore({ path: options.replicaDb });
  const service = await startReplicaService({ network: peer.network, storage, store, registry: peer.registry, logger: options.logger }).catch((error: unknown) => {
    store.close();
    throw error;
  });
  const client = createReplicaClient({ network: peer.network, registry: peer.registry, self: peer.identity, storage, logger: options.logger, k: options.k });

  return {
    async published(account, pointer, cids) {
      const tag = accountTag(account.fingerprint);
      const nodes = await client.replicas(tag);
      const fresh = state.unreplicated(account.address, nodes, cids);
      if (fresh.length > 0) {
        // Sent to every replica; each records what it holds (pin is idempotent for those that had it).
        const results = await client.replicate(tag, fresh);
        for (const r of results) state.markReplicated(account.address, r.node, r.held.map(String));
        const short = results.filter((r) => r.failed.length > 0).map((r) => ({ node: r.node, failed: r.failed.length, code: r.failed[0]?.code }));
        if (short.length > 0) log.warn({ account: account.address, short }, 'some replicas could not pin every object yet; they get them with the next snapshot');
      }
      const answers = await client.publishPointer(tag, { seq: pointer.seq, cid: pointer.cid as Cid });
      log.info({ account: account.address, seq: pointer.seq, replicas: answers.filter((a) => a.ok).length, objects: fresh.length }, 'snapshot handed to replicas');
    },
    async copies(fingerprint) {
      const answers = await client.copies(accountTag(fingerprint));
      const out: ReplicaCopies = { replicas: [], unreachable: [] };
      for (const a of answers) {
        if (a.ok) out.replicas.push({ node: a.node, held: a.held, bytes: a.bytes, pointer: a.pointer === null ? null : { seq: a.pointer.seq, cid: String(a.pointer.cid) } });
        else out.unreachable.push({ node: a.node, code: a.code });
      }
      return out;
    },
    async close() {
      await service.stop();
      store.close();
    },
  };
}
