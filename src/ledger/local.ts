// The embedded ledger backend: the record log in ledger.db, batch roots
// anchored by checkpoints signed with the node key (node-key.pem). Also an
// in-memory variant (':memory:' database, key in memory) for unit tests.
import type { Logger } from 'pino';
import { createLedger } from './ledger.ts';
import { createLocalAnchorer } from './local-anchor.ts';
import { openRecordLog, type RecordLog } from './log.ts';
import { createMemoryNodeKey, loadOrCreateNodeKey, type NodeKey } from './node-key.ts';
import type { Ledger } from './types.ts';

export interface LocalLedgerOptions {
  /** the SQLite file (DataPaths.ledgerDb) */
  path: string;
  /** the node's Ed25519 key, created on first use (DataPaths.nodeKey) */
  nodeKeyFile: string;
  batchSize: number;
  batchIntervalMs: number;
  logger?: Logger;
  /** read-only use: do not resume anchoring (see LedgerOptions.passive) */
  passive?: boolean;
}

/**
 * Opens the embedded ledger, creating its database and node key as needed,
 * and resumes anchoring whatever a previous run left unanchored.
 * @throws ValidationError (field `nodeKey`) when the key file holds no Ed25519 key
 * @throws RangeError when batchSize or batchIntervalMs is invalid
 */
export async function openLocalLedger(options: LocalLedgerOptions): Promise<Ledger> {
  const key = await loadOrCreateNodeKey(options.nodeKeyFile);
  const log = openRecordLog({ path: options.path });
  try {
    return createLedger({
      log,
      anchorer: createLocalAnchorer({ key, log }),
      batchSize: options.batchSize,
      batchIntervalMs: options.batchIntervalMs,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.passive === true ? { passive: true } : {}),
    });
  } catch (err) {
    log.close();
    throw err;
  }
}

export interface MemoryLedgerOptions {
  batchSize?: number;
  batchIntervalMs?: number;
  logger?: Logger;
  now?: () => number;
  /** a key to sign with (default: a fresh one) */
  key?: NodeKey;
  retryBaseMs?: number;
}

/** The memory ledger, with its parts exposed for tests. */
export interface MemoryLedger extends Ledger {
  readonly log: RecordLog;
  readonly key: NodeKey;
}

/** A ledger in memory: nothing survives close(). Defaults: config's batchSize 256, 200 ms. */
export async function openMemoryLedger(options: MemoryLedgerOptions = {}): Promise<MemoryLedger> {
  const key = options.key ?? createMemoryNodeKey();
  const log = openRecordLog({ path: ':memory:' });
  const now = options.now;
  const ledger = createLedger({
    log,
    anchorer: createLocalAnchorer({ key, log, ...(now ? { now } : {}) }),
    batchSize: options.batchSize ?? 256,
    batchIntervalMs: options.batchIntervalMs ?? 200,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(now ? { now } : {}),
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
  });
  return Object.assign(ledger, { log, key });
}
