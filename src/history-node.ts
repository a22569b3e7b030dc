// What keeps a node's mail restorable after the machine is lost, for app.ts:
// sealing what clients APPEND (pipeline/archive.ts), mailbox snapshots
// (pipeline/snapshots.ts) and, in a peer network, replication of every
// account's ciphertexts and snapshots to k peers (pipeline/replication.ts).
import type { Logger } from 'pino';
import type { KeyRing } from './accounts/keyring.ts';
import type { SealpostConfig } from './config/config.ts';
import type { DataPaths } from './config/paths.ts';
import type { encryptMessage } from './crypto/pgp.ts';
import type { Ledger } from './ledger/types.ts';
import type { MailStore } from './mailstore/types.ts';
import type { PeerNetwork } from './peer-node.ts';
import { startArchiver } from './pipeline/archive.ts';
import { startReplication, type ReplicaCopies, type Replication } from './pipeline/replication.ts';
import { startSnapshotter, type Snapshotter } from './pipeline/snapshots.ts';
import { openSnapshotState, type SnapshotState } from './snapshot/state.ts';
import type { BlockStorage } from './storage/types.ts';

export interface History {
  snapshotter: Snapshotter;
  state: SnapshotState;
  /** null outside a peer network */
  replication: Replication | null;
  close(): Promise<void>;
}

export async function startHistory(options: {
  paths: DataPaths;
  config: SealpostConfig;
  store: MailStore;
  keyring: KeyRing;
  storage: BlockStorage;
  ledger: Ledger;
  logger: Logger;
  encrypt?: typeof encryptMessage;
  now?: () => number;
  peer: PeerNetwork | null;
  /** the peer network's custody tickets and scan cursor */
  ticket?: (cid: string) => Uint8Array | null;
  scanCursor?: () => string | null;
}): Promise<History> {
  const { store, keyring, storage, ledger, logger, config } = options;
  const clock = options.now === undefined ? {} : { now: options.now };
  const archiver = startArchiver({ store, keyring, storage, ledger, logger, ...clock, ...(options.encrypt === undefined ? {} : { encrypt: options.encrypt }) });
  const state = openSnapshotState(options.paths.snapshotsDb);
  let replication: Replication | null = null;
  try {
    if (options.peer !== null) {
      replication = await startReplication({ peer: options.peer, storage, state, replicaDb: options.paths.replicaDb, k: config.network.replicas, logger });
    }
  } catch (error) {
    await archiver.close();
    state.close();
    throw error;
  }
  const replicas = replication;
  const snapshotter = startSnapshotter({
    store, keyring, storage, ledger, state, archiver, logger, intervalMs: config.network.snapshotIntervalMs, ...clock,
    ...(options.ticket === undefined ? {} : { ticket: options.ticket }),
    ...(options.scanCursor === undefined ? {} : { scanCursor: options.scanCursor }),
    ...(replicas === null ? {} : {
      published: async (account, pointer, cids) => {
        const { fingerprint } = await store.getSecrets(account.id);
        await replicas.published({ ...account, fingerprint }, pointer, cids);
      },
    }),
  });
  return {
    snapshotter,
    state,
    replication,
    close: async () => {
      await snapshotter.close();
      await archiver.close();
      await replication?.close();
      state.close();
    },
  };
}

export type { ReplicaCopies };
