// The replica's records: one SQLite file (node:sqlite, e.g. DATA/replica.db,
// WAL, synchronous=FULL) saying which CIDs this node keeps for which owner
// node and account tag, and each (owner, tag)'s latest snapshot pointer. The
// blocks themselves are in the node's storage, pinned there; this file is
// what says why, so a CID is unpinned only when no owner and tag still holds
// it, and never when the node had pinned it for its own mail before any
// replica holding came (`adopted`). A holding is committed (fsynced) before a
// pin request answers "held", so an owner may count on the answer.
//
// Quotas are checked inside the transaction that adds a holding (BEGIN
// IMMEDIATE: sqlite/transaction.ts), against counters kept per owner, so that
// concurrent requests cannot together pass a limit and a check never counts
// a million rows.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';
import type { Cid } from '../storage/types.ts';
import { ReplicaError } from './errors.ts';
import type { HoldParams, HoldingStatus, PointerAnswer, ReleaseResult, ReplicaQuota, ReplicaStore, SignedPointer } from './types.ts';

export const REPLICA_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE holdings (
    owner BLOB NOT NULL,          -- 32-byte node id of the owner (as Noise authenticated it)
    tag BLOB NOT NULL,            -- 32-byte account tag chosen by the owner
    cid TEXT NOT NULL,            -- canonical CIDv1 base32
    bytes INTEGER,                -- object size when known
    held_at INTEGER NOT NULL,
    PRIMARY KEY (owner, tag, cid)
  ) WITHOUT ROWID;
  CREATE INDEX holdings_cid ON holdings (cid);

  -- one row per CID some holding names: whether the storage pin predates the replica's
  CREATE TABLE blocks (
    cid TEXT PRIMARY KEY,
    adopted INTEGER NOT NULL CHECK (adopted IN (0, 1))
  ) WITHOUT ROWID;

  -- per-owner counters for the quotas (kept in step with holdings in the same transactions)
  CREATE TABLE owners (
    owner BLOB PRIMARY KEY,
    held INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE pointers (
    owner BLOB NOT NULL,
    tag BLOB NOT NULL,
    seq INTEGER NOT NULL,
    cid TEXT NOT NULL,
    sig BLOB NOT NULL,            -- the owner's Ed25519 signature (wire.ts pointerSigningBytes)
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, tag)
  ) WITHOUT ROWID;
  `,
];

export interface ReplicaStoreOptions {
  /** the SQLite file, created with its directory; ':memory:' for a private one (tests) */
  path: string;
}

interface PointerRow { seq: number; cid: string; sig: Uint8Array }

/**
 * Opens (creating and migrating as needed) the replica's records.
 * @throws Error when the file's schema is newer than this Sealpost
 */
export function openReplicaStore(options: ReplicaStoreOptions): ReplicaStore {
  const memory = options.path === ':memory:';
  if (!memory) mkdirSync(path.dirname(options.path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(options.path);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
    // an answer "held" is a promise to the owner: committed means on disk
    db.exec('PRAGMA synchronous = FULL');
    migrate(db, REPLICA_MIGRATIONS, 'replica store');
    return new SqliteReplicaStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

class SqliteReplicaStore implements ReplicaStore {
  readonly #db: DatabaseSync;
  readonly #s: Record<
    | 'holding' | 'known' | 'insert' | 'delete' | 'block' | 'addBlock' | 'dropBlock' | 'usage' | 'addUsage' | 'subUsage' | 'total'
    | 'pointer' | 'setPointer' | 'status' | 'list' | 'listAfter',
    StatementSync
  >;

  constructor(db: DatabaseSync) {
    this.#db = db;
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.#s = {
      holding: p('SELECT bytes FROM holdings WHERE owner = ? AND tag = ? AND cid = ?'),
      known: p('SELECT 1 AS x FROM holdings WHERE cid = ? LIMIT 1'),
      insert: p('INSERT INTO holdings (owner, tag, cid, bytes, held_at) VALUES (?, ?, ?, ?, ?)'),
      delete: p('DELETE FROM holdings WHERE owner = ? AND tag = ? AND cid = ? RETURNING bytes'),
      block: p('SELECT adopted FROM blocks WHERE cid = ?'),
      addBlock: p('INSERT OR IGNORE INTO blocks (cid, adopted) VALUES (?, ?)'),
      dropBlock: p('DELETE FROM blocks WHERE cid = ?'),
      usage: p('SELECT held, bytes FROM owners WHERE owner = ?'),
      addUsage: p('INSERT INTO owners (owner, held, bytes) VALUES (?, 1, ?) ON CONFLICT (owner) DO UPDATE SET held = held + 1, bytes = bytes + excluded.bytes'),
      subUsage: p('UPDATE owners SET held = held - 1, bytes = bytes - ? WHERE owner = ?'),
      total: p('SELECT coalesce(sum(held), 0) AS n FROM owners'),
      pointer: p('SELECT seq, cid, sig FROM pointers WHERE owner = ? AND tag = ?'),
      setPointer: p('INSERT OR REPLACE INTO pointers (owner, tag, seq, cid, sig, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      status: p('SELECT count(*) AS held, count(bytes) AS sized, coalesce(sum(bytes), 0) AS bytes FROM holdings WHERE owner = ? AND tag = ?'),
      list: p('SELECT cid FROM holdings WHERE owner = ? AND tag = ? ORDER BY cid LIMIT ?'),
      listAfter: p('SELECT cid FROM holdings WHERE owner = ? AND tag = ? AND cid > ? ORDER BY cid LIMIT ?'),
    };
  }

  holds(owner: Uint8Array, tag: Uint8Array, cid: Cid): boolean {
    return this.#s.holding.get(owner, tag, cid) !== undefined;
  }

  known(cid: Cid): boolean {
    return this.#s.known.get(cid) !== undefined;
  }

  hold(h: HoldParams, quota: ReplicaQuota): 'added' | 'present' {
    return immediate(this.#db, () => {
      if (this.#s.holding.get(h.owner, h.tag, h.cid) !== undefined) return 'present';
      const usage = (this.#s.usage.get(h.owner) as { held: number; bytes: number } | undefined) ?? { held: 0, bytes: 0 };
      if (usage.held + 1 > quota.maxCidsPerOwner) {
        throw new ReplicaError('REPLICA_QUOTA_EXCEEDED', `this replica keeps at most ${quota.maxCidsPerOwner} CIDs for one node`);
      }
      if (h.bytes !== null && usage.bytes + h.bytes > quota.maxBytesPerOwner) {
        throw new ReplicaError('REPLICA_QUOTA_EXCEEDED', `this replica keeps at most ${quota.maxBytesPerOwner} octets for one node`);
      }
      if ((this.#s.total.get() as { n: number }).n + 1 > quota.maxCids) {
        throw new ReplicaError('REPLICA_QUOTA_EXCEEDED', `this replica keeps at most ${quota.maxCids} CIDs in all`);
      }
      this.#s.insert.run(h.owner, h.tag, h.cid, h.bytes, h.at);
      this.#s.addBlock.run(h.cid, h.adopted ? 1 : 0);
      this.#s.addUsage.run(h.owner, h.bytes ?? 0);
      return 'added';
    });
  }

  release(owner: Uint8Array, tag: Uint8Array, cids: readonly Cid[]): ReleaseResult {
    return immediate(this.#db, () => {
      const result: ReleaseResult = { removed: [], kept: [], freed: [] };
      const pointed = (this.#s.pointer.get(owner, tag) as PointerRow | undefined)?.cid;
      for (const cid of new Set(cids)) {
        if (cid === pointed) {
          if (this.#s.holding.get(owner, tag, cid) !== undefined) result.kept.push(cid);
          continue;
        }
        const row = this.#s.delete.get(owner, tag, cid) as { bytes: number | null } | undefined;
        if (row === undefined) continue;
        result.removed.push(cid);
        this.#s.subUsage.run(row.bytes ?? 0, owner);
        if (this.#s.known.get(cid) !== undefined) continue;
        const block = this.#s.block.get(cid) as { adopted: number } | undefined;
        this.#s.dropBlock.run(cid);
        if (block?.adopted !== 1) result.freed.push(cid);
      }
      return result;
    });
  }

  pointer(owner: Uint8Array, tag: Uint8Array): SignedPointer | null {
    const row = this.#s.pointer.get(owner, tag) as PointerRow | undefined;
    return row === undefined ? null : pointerOf(row);
  }

  setPointer(owner: Uint8Array, tag: Uint8Array, pointer: SignedPointer, at: number): PointerAnswer {
    return immediate(this.#db, () => {
      const row = this.#s.pointer.get(owner, tag) as PointerRow | undefined;
      if (row !== undefined) {
        const current = pointerOf(row);
        // the same pointer again is accepted; an older one, or another CID under the same seq, is not
        if (pointer.seq < current.seq || (pointer.seq === current.seq && pointer.cid !== current.cid)) return { accepted: false, pointer: current };
        if (pointer.seq === current.seq) return { accepted: true, pointer: current };
      }
      if (this.#s.holding.get(owner, tag, pointer.cid) === undefined) {
        throw new ReplicaError('REPLICA_BAD_PARAMS', 'a pointer names a CID held for its owner and tag', { field: 'pointer.cid' });
      }
      this.#s.setPointer.run(owner, tag, pointer.seq, pointer.cid, pointer.sig, at);
      return { accepted: true, pointer: { seq: pointer.seq, cid: pointer.cid, sig: new Uint8Array(pointer.sig) } };
    });
  }

  status(owner: Uint8Array, tag: Uint8Array): HoldingStatus {
    const row = this.#s.status.get(owner, tag) as { held: number; sized: number; bytes: number };
    return { held: row.held, bytes: row.sized === row.held ? row.bytes : null, pointer: this.pointer(owner, tag) };
  }

  list(owner: Uint8Array, tag: Uint8Array, after: Cid | null, limit: number): Cid[] {
    const rows = (after === null ? this.#s.list.all(owner, tag, limit) : this.#s.listAfter.all(owner, tag, after, limit)) as { cid: string }[];
    return rows.map((r) => r.cid as Cid);
  }

  usage(owner: Uint8Array): { held: number; bytes: number } {
    const row = this.#s.usage.get(owner) as { held: number; bytes: number } | undefined;
    return row === undefined ? { held: 0, bytes: 0 } : { held: row.held, bytes: row.bytes };
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function pointerOf(row: PointerRow): SignedPointer {
  return { seq: row.seq, cid: row.cid as Cid, sig: new Uint8Array(row.sig) };
}
