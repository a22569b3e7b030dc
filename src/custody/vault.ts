// The custodian's share store: one SQLite file (node:sqlite, e.g.
// DATA/custody.db) holding the shares this node keeps for other nodes, sealed
// to its X25519 key, and tombstones of the ones it deleted (so it can answer
// EXPIRED / REVOKED and still owes or has recorded a deletion receipt).
//
// Deleting must destroy the bytes, not just unlink them (the point of an
// expiring message is that nobody can read it afterwards, the Vanish lesson):
// PRAGMA secure_delete = ON makes SQLite overwrite deleted cells and freed
// pages with zeros (sqlite.org/pragma.html#pragma_secure_delete), and after
// every deletion a wal_checkpoint(TRUNCATE) copies the zeroed pages into the
// main file and cuts the write-ahead log to zero bytes, since its older frames
// still hold the share as it was written (sqlite.org/wal.html). What the
// filesystem or the disk keeps of blocks it once held is beyond SQLite's
// reach; the share is also sealed, so those remnants need the node key too.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { formatNodeId, parseNodeId } from '../registry/records.ts';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';
import { CustodyError } from './errors.ts';
import type { CustodyVault, CustodyVaultLimits, PutResult, StoredShare, Tombstone } from './types.ts';

export const CUSTODY_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE shares (
    ref BLOB NOT NULL,            -- 32-byte message hash
    sender BLOB NOT NULL,         -- 32-byte node id of the depositor
    idx INTEGER NOT NULL,         -- share index 1..255
    sealed BLOB NOT NULL,         -- encoded share sealed to this node's X25519 key
    readers BLOB NOT NULL,        -- authorised readers: 32-byte node ids back to back
    expires_at INTEGER NOT NULL,
    deposited_at INTEGER NOT NULL,
    PRIMARY KEY (ref, sender)
  ) WITHOUT ROWID;
  CREATE INDEX shares_expiry ON shares (expires_at);
  CREATE INDEX shares_sender ON shares (sender);

  CREATE TABLE tombstones (
    ref BLOB NOT NULL,
    sender BLOB NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('expired', 'revoked')),
    deleted_at INTEGER NOT NULL,  -- the time the deletion receipt states
    receipt_at INTEGER,           -- when the receipt reached the registry; NULL while owed
    PRIMARY KEY (ref, sender)
  ) WITHOUT ROWID;
  CREATE INDEX tombstones_owed ON tombstones (deleted_at) WHERE receipt_at IS NULL;
  CREATE INDEX tombstones_done ON tombstones (receipt_at) WHERE receipt_at IS NOT NULL;
  `,
];

export interface CustodyVaultOptions {
  /** the SQLite file, created with its directory; ':memory:' for a private one (tests) */
  path: string;
  limits?: CustodyVaultLimits;
}

interface ShareRow { ref: Uint8Array; sender: Uint8Array; idx: number; sealed: Uint8Array; readers: Uint8Array; expires_at: number; deposited_at: number }
interface TombstoneRow { ref: Uint8Array; sender: Uint8Array; reason: 'expired' | 'revoked'; deleted_at: number; receipt_at: number | null }

/**
 * Opens (creating and migrating as needed) the vault file.
 * @throws Error when the file's schema is newer than this Sealpost
 */
export function openCustodyVault(options: CustodyVaultOptions): CustodyVault {
  const memory = options.path === ':memory:';
  if (!memory) mkdirSync(path.dirname(options.path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(options.path);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    // before anything is written: every later deletion zeroes what it frees
    db.exec('PRAGMA secure_delete = ON');
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
    // a WAL reset by a checkpoint shrinks back to nothing instead of keeping old frames' bytes
    db.exec('PRAGMA journal_size_limit = 0; PRAGMA synchronous = FULL');
    migrate(db, CUSTODY_MIGRATIONS, 'custody vault');
    return new SqliteCustodyVault(db, options.limits ?? {}, memory);
  } catch (err) {
    db.close();
    throw err;
  }
}

class SqliteCustodyVault implements CustodyVault {
  readonly #db: DatabaseSync;
  readonly #maxShares: number;
  readonly #maxPerSender: number;
  readonly #memory: boolean;
  readonly #s: Record<
    'get' | 'upsert' | 'count' | 'countSender' | 'delete' | 'due' | 'tombstone' | 'bury' | 'owed' | 'mark' | 'purge',
    StatementSync
  >;
  /** a TRUNCATE checkpoint could not finish (another reader): try again on the next write */
  #checkpointOwed = false;

  constructor(db: DatabaseSync, limits: CustodyVaultLimits, memory: boolean) {
    this.#db = db;
    this.#memory = memory;
    this.#maxShares = limits.maxShares ?? 100_000;
    this.#maxPerSender = limits.maxSharesPerSender ?? 10_000;
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.#s = {
      get: p('SELECT ref, sender, idx, sealed, readers, expires_at, deposited_at FROM shares WHERE ref = ? AND sender = ?'),
      upsert: p('INSERT OR REPLACE INTO shares (ref, sender, idx, sealed, readers, expires_at, deposited_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      count: p('SELECT count(*) AS n FROM shares'),
      countSender: p('SELECT count(*) AS n FROM shares WHERE sender = ?'),
      delete: p('DELETE FROM shares WHERE ref = ? AND sender = ?'),
      due: p('SELECT ref, sender FROM shares WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'),
      tombstone: p('SELECT ref, sender, reason, deleted_at, receipt_at FROM tombstones WHERE ref = ? AND sender = ?'),
      bury: p('INSERT OR REPLACE INTO tombstones (ref, sender, reason, deleted_at, receipt_at) VALUES (?, ?, ?, ?, NULL)'),
      owed: p('SELECT ref, sender, reason, deleted_at, receipt_at FROM tombstones WHERE receipt_at IS NULL ORDER BY deleted_at LIMIT ?'),
      mark: p('UPDATE tombstones SET receipt_at = ? WHERE ref = ? AND sender = ? AND receipt_at IS NULL'),
      purge: p('DELETE FROM tombstones WHERE receipt_at IS NOT NULL AND receipt_at < ?'),
    };
  }

  put(share: StoredShare): PutResult {
    const sender = parseNodeId(share.sender);
    const readers = new Uint8Array(Buffer.concat(share.readers.map((r) => parseNodeId(r))));
    let result = 'stored' as PutResult;
    this.#tx(() => {
      const buried = this.#s.tombstone.get(share.ref, sender) as TombstoneRow | undefined;
      // a deleted share stays deleted: an expired message does not come back to life by a second deposit
      if (buried !== undefined) {
        throw new CustodyError(buried.reason === 'expired' ? 'CUSTODY_EXPIRED' : 'CUSTODY_REVOKED', `this custodian deleted its share of the message (${buried.reason})`);
      }
      if (this.#s.get.get(share.ref, sender) !== undefined) result = 'replaced';
      else {
        if ((this.#s.count.get() as { n: number }).n >= this.#maxShares) throw new CustodyError('CUSTODY_FULL', `this custodian holds its limit of ${this.#maxShares} shares`);
        if ((this.#s.countSender.get(sender) as { n: number }).n >= this.#maxPerSender) {
          throw new CustodyError('CUSTODY_FULL', `this custodian holds its limit of ${this.#maxPerSender} shares for one sender`);
        }
      }
      this.#s.upsert.run(share.ref, sender, share.index, share.sealed, readers, share.expiresAt, share.depositedAt);
    });
    // the replaced share's old bytes sit in WAL frames until a checkpoint
    if (result === 'replaced' || this.#checkpointOwed) this.#checkpoint();
    return result;
  }

  get(ref: Uint8Array, sender: string): StoredShare | null {
    const row = this.#s.get.get(ref, parseNodeId(sender)) as ShareRow | undefined;
    if (row === undefined) return null;
    const readers: string[] = [];
    for (let at = 0; at + 32 <= row.readers.length; at += 32) readers.push(formatNodeId(row.readers.subarray(at, at + 32)));
    return {
      ref: new Uint8Array(row.ref),
      sender: formatNodeId(row.sender),
      index: row.idx,
      sealed: new Uint8Array(row.sealed),
      readers,
      expiresAt: row.expires_at,
      depositedAt: row.deposited_at,
    };
  }

  tombstone(ref: Uint8Array, sender: string): Tombstone | null {
    const row = this.#s.tombstone.get(ref, parseNodeId(sender)) as TombstoneRow | undefined;
    return row === undefined ? null : tombstoneFromRow(row);
  }

  delete(keys: readonly { ref: Uint8Array; sender: string }[], reason: Tombstone['reason'], at: number): number {
    let deleted = 0;
    this.#tx(() => {
      for (const key of keys) {
        const sender = parseNodeId(key.sender);
        if (Number(this.#s.delete.run(key.ref, sender).changes) === 0) continue;
        this.#s.bury.run(key.ref, sender, reason, at);
        deleted++;
      }
    });
    if (deleted > 0 || this.#checkpointOwed) this.#checkpoint();
    return deleted;
  }

  due(now: number, limit: number): { ref: Uint8Array; sender: string }[] {
    return (this.#s.due.all(now, limit) as unknown as Pick<ShareRow, 'ref' | 'sender'>[])
      .map((r) => ({ ref: new Uint8Array(r.ref), sender: formatNodeId(r.sender) }));
  }

  pendingReceipts(limit: number): Tombstone[] {
    return (this.#s.owed.all(limit) as unknown as TombstoneRow[]).map(tombstoneFromRow);
  }

  markReceipt(ref: Uint8Array, sender: string, at: number): void {
    this.#s.mark.run(at, ref, parseNodeId(sender));
  }

  purgeTombstones(before: number): number {
    return Number(this.#s.purge.run(before).changes);
  }

  count(): number {
    return (this.#s.count.get() as { n: number }).n;
  }

  close(): void {
    if (!this.#db.isOpen) return;
    if (this.#checkpointOwed) this.#checkpoint();
    this.#db.close();
  }

  /** Copies the WAL into the file and truncates it to zero bytes; remembers to retry when a reader holds it. */
  #checkpoint(): void {
    if (this.#memory) return;
    const row = this.#db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number } | undefined;
    this.#checkpointOwed = row === undefined || row.busy !== 0;
  }

  #tx(fn: () => void): void {
    immediate(this.#db, fn);
  }
}

function tombstoneFromRow(row: TombstoneRow): Tombstone {
  return { ref: new Uint8Array(row.ref), sender: formatNodeId(row.sender), reason: row.reason, deletedAt: row.deleted_at, receiptAt: row.receipt_at };
}
