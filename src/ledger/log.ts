// The record log: an append-only SQLite table of canonical records (ledger.db)
// and the batches they are closed into. Schema versioned with PRAGMA
// user_version like the mail store. One INSERT per append (WAL,
// synchronous=FULL: the record is on disk when append returns); the Merkle
// tree is computed only when a batch closes, never per append.
//
// Rows are immutable by construction: triggers refuse DELETE and any UPDATE
// except setting a record's batch once and a batch's anchor once. They guard
// against our own bugs; someone with write access to the file can drop them,
// which is why proofs are checked against the anchor, not against this table.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { NotFoundError } from '../errors/index.ts';
import { LedgerCorruptError } from './errors.ts';
import { merkleRoot } from './merkle.ts';
import { canonical, decodeRecord, leafHashBytes, validateRecord } from './record.ts';
import type { AnchorRef, AppendedRecord, Batch, LedgerRecord } from './types.ts';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';

export const LOG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    root TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    size INTEGER NOT NULL,
    closed_at INTEGER NOT NULL,
    anchor TEXT,
    anchored_at INTEGER
  );
  CREATE INDEX batches_unanchored ON batches (id) WHERE anchor IS NULL;

  -- AUTOINCREMENT: a sequence number is never reused, even after a crash.
  CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL,
    leaf BLOB NOT NULL,
    cid TEXT NOT NULL,
    message_hash TEXT NOT NULL,
    batch_id INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX records_cid ON records (cid);
  CREATE INDEX records_message_hash ON records (message_hash);
  -- only the open batch's rows: the batcher's queries touch nothing else
  CREATE INDEX records_unbatched ON records (seq) WHERE batch_id IS NULL;

  CREATE TRIGGER records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'ledger records are append-only'); END;
  CREATE TRIGGER records_immutable BEFORE UPDATE OF seq, record, leaf, cid, message_hash, created_at ON records
    BEGIN SELECT RAISE(ABORT, 'ledger records are append-only'); END;
  CREATE TRIGGER records_batched_once BEFORE UPDATE OF batch_id ON records WHEN OLD.batch_id IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a ledger record belongs to one batch'); END;
  CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches
    BEGIN SELECT RAISE(ABORT, 'ledger batches are append-only'); END;
  CREATE TRIGGER batches_immutable BEFORE UPDATE OF id, root, first_seq, size, closed_at ON batches
    BEGIN SELECT RAISE(ABORT, 'ledger batches are append-only'); END;
  CREATE TRIGGER batches_anchored_once BEFORE UPDATE OF anchor, anchored_at ON batches WHEN OLD.anchor IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a ledger batch is anchored once'); END;
  `,
];

export interface StoredRecord {
  seq: number;
  /** decoded without validation: a record altered on disk is returned as it is now */
  record: LedgerRecord;
  /** the canonical encoding as stored */
  text: string;
  /** leaf hash recorded at append time, hex */
  leaf: string;
  batchId: number | null;
  createdAt: number;
}

export interface LogSummary {
  records: number;
  batches: number;
  anchoredBatches: number;
  /** ms since the epoch of the newest anchor, or null */
  lastAnchoredAt: number | null;
}

/** The log as the batcher and the anchorers see it. Synchronous: SQLite calls are. */
export interface RecordLog {
  /**
   * Validates, encodes and stores one record (one INSERT, durable on return).
   * @throws ValidationError naming the bad field
   */
  append(record: LedgerRecord, now: number): AppendedRecord;
  /**
   * Stores several records in one transaction (one fsync): all or none.
   * @throws ValidationError naming the bad field (then none is stored)
   */
  appendMany(records: readonly LedgerRecord[], now: number): AppendedRecord[];
  /** The stored row of `seq`, or null. */
  get(seq: number): StoredRecord | null;
  /** Sequence numbers of the records with this CID or message hash, ascending. */
  find(query: { cid: string } | { messageHash: string }): number[];
  /** How many records wait for a batch. */
  unbatchedCount(): number;
  /** The oldest record waiting for a batch, or null. */
  oldestUnbatched(): { seq: number; createdAt: number } | null;
  /**
   * Closes a batch of the oldest unbatched records (at most maxSize, one
   * contiguous run of sequence numbers): computes the root and assigns the
   * records, in one transaction. Null when no record waits.
   */
  closeBatch(maxSize: number, now: number): Batch | null;
  batch(id: number): Batch | null;
  /** Closed batches without an anchor, oldest first. */
  unanchoredBatches(): Batch[];
  /**
   * Records the anchor of a batch. A batch is anchored once: recording the
   * same anchor again is a no-op, a different one is refused.
   * @throws NotFoundError when there is no such batch
   * @throws LedgerCorruptError when the batch already has another anchor
   */
  setAnchor(batchId: number, anchor: AnchorRef, now: number): void;
  anchorOf(batchId: number): AnchorRef | null;
  /** The newest anchor of this kind on a batch before `batchId` (local checkpoints chain to it). */
  previousAnchor(batchId: number, kind: AnchorRef['kind']): AnchorRef | null;
  /**
   * The leaf hashes of a batch in order (proof material).
   * @throws LedgerCorruptError when the batch's records are not all there
   */
  batchLeaves(batchId: number): Uint8Array[];
  /** Counts for `sealpost status`. */
  summary(): LogSummary;
  close(): void;
  /** the connection, for tests and maintenance */
  readonly db: DatabaseSync;
}

interface BatchRow { id: number; root: string; first_seq: number; size: number; closed_at: number }
interface RecordRow { seq: number; record: string; leaf: Uint8Array; batch_id: number | null; created_at: number }

const toBatch = (r: BatchRow): Batch => ({ id: r.id, root: r.root, firstSeq: r.first_seq, size: r.size, closedAt: r.closed_at });

/**
 * Opens (creating and migrating as needed) the log at `path`, a file or ':memory:'.
 * @throws Error when the file's schema is newer than this Sealpost
 */
export function openRecordLog(options: { path: string }): RecordLog {
  const memory = options.path === ':memory:';
  if (!memory) mkdirSync(path.dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  try {
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
    migrate(db, LOG_MIGRATIONS, 'ledger');
    return new SqliteRecordLog(db);
  } catch (err) {
    db.close();
    throw err;
  }
}


class SqliteRecordLog implements RecordLog {
  readonly db: DatabaseSync;
  readonly #s: Record<
    | 'insert' | 'get' | 'byCid' | 'byHash' | 'count' | 'oldest' | 'takeUnbatched' | 'insertBatch' | 'assign'
    | 'batch' | 'unanchored' | 'setAnchor' | 'anchorOf' | 'previousAnchor' | 'leaves',
    StatementSync
  >;

  constructor(db: DatabaseSync) {
    this.db = db;
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.#s = {
      insert: p('INSERT INTO records (record, leaf, cid, message_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
      get: p('SELECT seq, record, leaf, batch_id, created_at FROM records WHERE seq = ?'),
      byCid: p('SELECT seq FROM records WHERE cid = ? ORDER BY seq'),
      byHash: p('SELECT seq FROM records WHERE message_hash = ? ORDER BY seq'),
      count: p('SELECT count(*) AS n FROM records WHERE batch_id IS NULL'),
      oldest: p('SELECT seq, created_at FROM records WHERE batch_id IS NULL ORDER BY seq LIMIT 1'),
      takeUnbatched: p('SELECT seq, leaf FROM records WHERE batch_id IS NULL ORDER BY seq LIMIT ?'),
      insertBatch: p('INSERT INTO batches (root, first_seq, size, closed_at) VALUES (?, ?, ?, ?)'),
      assign: p('UPDATE records SET batch_id = ? WHERE seq BETWEEN ? AND ? AND batch_id IS NULL'),
      batch: p('SELECT id, root, first_seq, size, closed_at FROM batches WHERE id = ?'),
      unanchored: p('SELECT id, root, first_seq, size, closed_at FROM batches WHERE anchor IS NULL ORDER BY id'),
      setAnchor: p('UPDATE batches SET anchor = ?, anchored_at = ? WHERE id = ? AND anchor IS NULL'),
      anchorOf: p('SELECT anchor FROM batches WHERE id = ?'),
      previousAnchor: p(
        "SELECT anchor FROM batches WHERE id < ? AND anchor IS NOT NULL AND json_extract(anchor, '$.kind') = ? ORDER BY id DESC LIMIT 1",
      ),
      leaves: p('SELECT leaf FROM records WHERE seq BETWEEN ? AND ? ORDER BY seq'),
    };
  }

  append(record: LedgerRecord, now: number): AppendedRecord {
    const r = validateRecord(record);
    const text = canonical(r);
    const leaf = leafHashBytes(text);
    const result = this.#s.insert.run(text, leaf, r.cid, r.messageHash, now);
    return { seq: Number(result.lastInsertRowid), leaf: leaf.toString('hex') };
  }

  appendMany(records: readonly LedgerRecord[], now: number): AppendedRecord[] {
    const checked = records.map(validateRecord);
    return immediate(this.db, () => checked.map((r) => {
      const text = canonical(r);
      const leaf = leafHashBytes(text);
      const result = this.#s.insert.run(text, leaf, r.cid, r.messageHash, now);
      return { seq: Number(result.lastInsertRowid), leaf: leaf.toString('hex') };
    }));
  }

  get(seq: number): StoredRecord | null {
    const row = this.#s.get.get(seq) as RecordRow | undefined;
    if (!row) return null;
    let record: LedgerRecord;
    try {
      record = decodeRecord(row.record);
    } catch (err) {
      throw new LedgerCorruptError(`record ${seq} is unreadable: ${(err as Error).message}`);
    }
    return {
      seq: row.seq,
      record,
      text: row.record,
      leaf: Buffer.from(row.leaf).toString('hex'),
      batchId: row.batch_id,
      createdAt: row.created_at,
    };
  }

  find(query: { cid: string } | { messageHash: string }): number[] {
    const rows = ('cid' in query ? this.#s.byCid.all(query.cid) : this.#s.byHash.all(query.messageHash)) as { seq: number }[];
    return rows.map((r) => r.seq);
  }

  unbatchedCount(): number {
    return (this.#s.count.get() as { n: number }).n;
  }

  oldestUnbatched(): { seq: number; createdAt: number } | null {
    const row = this.#s.oldest.get() as { seq: number; created_at: number } | undefined;
    return row ? { seq: row.seq, createdAt: row.created_at } : null;
  }

  closeBatch(maxSize: number, now: number): Batch | null {
    if (!Number.isSafeInteger(maxSize) || maxSize < 1) throw new RangeError('maxSize must be a positive integer');
    return this.#tx(() => {
      const rows = this.#s.takeUnbatched.all(maxSize) as { seq: number; leaf: Uint8Array }[];
      const first = rows[0];
      if (!first) return null;
      // A batch covers firstSeq..firstSeq+size-1: stop at a gap (there is none
      // unless rows were removed behind our back; the rest waits for the next batch).
      let size = 1;
      while (size < rows.length && (rows[size] as { seq: number }).seq === first.seq + size) size++;
      const root = Buffer.from(merkleRoot(rows.slice(0, size).map((r) => r.leaf))).toString('hex');
      const id = Number(this.#s.insertBatch.run(root, first.seq, size, now).lastInsertRowid);
      this.#s.assign.run(id, first.seq, first.seq + size - 1);
      return { id, root, firstSeq: first.seq, size, closedAt: now };
    });
  }

  batch(id: number): Batch | null {
    const row = this.#s.batch.get(id) as BatchRow | undefined;
    return row ? toBatch(row) : null;
  }

  unanchoredBatches(): Batch[] {
    return (this.#s.unanchored.all() as unknown as BatchRow[]).map(toBatch);
  }

  setAnchor(batchId: number, anchor: AnchorRef, now: number): void {
    const json = JSON.stringify(anchor);
    this.#tx(() => {
      if (Number(this.#s.setAnchor.run(json, now, batchId).changes) === 1) return;
      const row = this.#s.anchorOf.get(batchId) as { anchor: string | null } | undefined;
      if (!row) throw new NotFoundError('batch', `batch ${batchId} not found`);
      if (row.anchor !== json) throw new LedgerCorruptError(`batch ${batchId} is already anchored elsewhere`);
    });
  }

  anchorOf(batchId: number): AnchorRef | null {
    const row = this.#s.anchorOf.get(batchId) as { anchor: string | null } | undefined;
    return row?.anchor ? parseAnchor(batchId, row.anchor) : null;
  }

  previousAnchor(batchId: number, kind: AnchorRef['kind']): AnchorRef | null {
    const row = this.#s.previousAnchor.get(batchId, kind) as { anchor: string } | undefined;
    return row ? parseAnchor(batchId, row.anchor) : null;
  }

  batchLeaves(batchId: number): Uint8Array[] {
    const b = this.batch(batchId);
    if (!b) throw new NotFoundError('batch', `batch ${batchId} not found`);
    const rows = this.#s.leaves.all(b.firstSeq, b.firstSeq + b.size - 1) as { leaf: Uint8Array }[];
    if (rows.length !== b.size) throw new LedgerCorruptError(`batch ${batchId} should hold ${b.size} records, the log has ${rows.length}`);
    return rows.map((r) => r.leaf);
  }

  summary(): LogSummary {
    const records = (this.db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
    const b = this.db.prepare('SELECT count(*) AS n, count(anchor) AS anchored, max(anchored_at) AS last FROM batches').get() as { n: number; anchored: number; last: number | null };
    return { records, batches: b.n, anchoredBatches: b.anchored, lastAnchoredAt: b.last };
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  #tx<T>(fn: () => T): T {
    return immediate(this.db, fn);
  }
}

function parseAnchor(batchId: number, json: string): AnchorRef {
  try {
    return JSON.parse(json) as AnchorRef;
  } catch {
    throw new LedgerCorruptError(`the anchor of batch ${batchId} is unreadable`);
  }
}
