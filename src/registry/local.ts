// The embedded registry: one SQLite file (node:sqlite) that every node
// process on one machine may open at once (a devnet points all its nodes at
// one registry.db). WAL lets readers run beside the one writer; each write is
// one BEGIN IMMEDIATE transaction that re-reads what it checks (first come
// for addresses, higher seq for updates), and busy_timeout makes a second
// writer wait for the first instead of failing.
//
// Announcements and deletion receipts are append-only: triggers refuse UPDATE
// and DELETE; nodes and claims change only to a higher seq of the same node.
// The triggers guard against our own bugs; whoever can write the file can
// drop them, which is why every read verifies the signatures again and skips
// what fails. Like the EVM registry, the file holds address hashes, never
// plain addresses.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ValidationError } from '../errors/index.ts';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';
import { RegistryClosedError, RegistryUnknownNodeError } from './errors.ts';
import { addressHash, canonicalAddress, decodeAddrs, encodeAddrs, validateAnnouncements, verifyAddressClaim, verifyDeletionReceipt, verifyNodeRecord } from './records.ts';
import { acceptAddressClaim, acceptDeletionReceipt, acceptNodeRecord, claimAction, nodeAction } from './rules.ts';
import type {
  AddressClaim,
  Announcement,
  AnnouncementCursor,
  AnnouncementListener,
  AnnouncementPage,
  DeletionReceipt,
  NodeRecord,
  Registry,
  RegistryDomain,
  WatchOptions,
  WriteResult,
} from './types.ts';
import { Watchers } from './watch.ts';

export const REGISTRY_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
  -- the registry's domain: signatures made for this file verify nowhere else
  INSERT INTO meta (key, value) VALUES ('registry_id', randomblob(32));
  CREATE TRIGGER meta_immutable BEFORE UPDATE ON meta
    BEGIN SELECT RAISE(ABORT, 'registry meta is immutable'); END;
  CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta
    BEGIN SELECT RAISE(ABORT, 'registry meta is immutable'); END;

  -- rowid order = order of first registration (an update keeps the rowid)
  CREATE TABLE nodes (
    node_id BLOB PRIMARY KEY,
    enc_key BLOB NOT NULL,
    addrs BLOB NOT NULL,          -- canonical address list (records.ts encodeAddrs)
    seq INTEGER NOT NULL,
    signature BLOB NOT NULL,
    registered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TRIGGER nodes_no_delete BEFORE DELETE ON nodes
    BEGIN SELECT RAISE(ABORT, 'registry nodes are never removed'); END;
  CREATE TRIGGER nodes_seq_up BEFORE UPDATE ON nodes
    WHEN NEW.node_id IS NOT OLD.node_id OR NEW.seq <= OLD.seq OR NEW.registered_at IS NOT OLD.registered_at
    BEGIN SELECT RAISE(ABORT, 'a node record is replaced only by a higher seq'); END;

  CREATE TABLE claims (
    address_hash BLOB PRIMARY KEY, -- records.ts addressHash: no plain addresses here
    node_id BLOB NOT NULL REFERENCES nodes (node_id),
    fingerprint TEXT NOT NULL,
    key_ref TEXT NOT NULL,
    seq INTEGER NOT NULL,
    signature BLOB NOT NULL,
    claimed_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims
    BEGIN SELECT RAISE(ABORT, 'address claims are never removed'); END;
  CREATE TRIGGER claims_first_come BEFORE UPDATE ON claims
    WHEN NEW.address_hash IS NOT OLD.address_hash OR NEW.node_id IS NOT OLD.node_id OR NEW.seq <= OLD.seq OR NEW.claimed_at IS NOT OLD.claimed_at
    BEGIN SELECT RAISE(ABORT, 'a claim is updated only by its node, with a higher seq'); END;

  -- AUTOINCREMENT: a position is never reused; one writer at a time, so a
  -- reader never sees a later position before an earlier one is committed.
  CREATE TABLE announcements (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    ephemeral BLOB NOT NULL,
    view_tag INTEGER NOT NULL,
    tag BLOB NOT NULL,
    payload BLOB NOT NULL,
    time INTEGER NOT NULL
  );
  CREATE TRIGGER announcements_no_update BEFORE UPDATE ON announcements
    BEGIN SELECT RAISE(ABORT, 'announcements are append-only'); END;
  CREATE TRIGGER announcements_no_delete BEFORE DELETE ON announcements
    BEGIN SELECT RAISE(ABORT, 'announcements are append-only'); END;

  CREATE TABLE deletions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_ref BLOB NOT NULL,
    custodian BLOB NOT NULL,
    time INTEGER NOT NULL,
    signature BLOB NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (message_ref, custodian, time, signature) -- also the index of deletionReceipts()
  );
  CREATE TRIGGER deletions_no_update BEFORE UPDATE ON deletions
    BEGIN SELECT RAISE(ABORT, 'deletion receipts are append-only'); END;
  CREATE TRIGGER deletions_no_delete BEFORE DELETE ON deletions
    BEGIN SELECT RAISE(ABORT, 'deletion receipts are append-only'); END;
  `,
];

export interface LocalRegistryOptions {
  /** the SQLite file (e.g. DATA/registry.db), created with its directory; ':memory:' for a private one */
  path: string;
  /** how long a writer waits for another process's write (default 5 s) */
  busyTimeoutMs?: number;
  /** the clock stamped on records and announcements (default Date.now) */
  now?: () => number;
  /** default polling interval of onAnnouncement (default 500 ms) */
  pollIntervalMs?: number;
}

/**
 * Opens (creating and migrating as needed) the registry file.
 * @throws Error when the file's schema is newer than this Sealpost
 */
export function openLocalRegistry(options: LocalRegistryOptions): Registry {
  const memory = options.path === ':memory:';
  if (!memory) mkdirSync(path.dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  try {
    // busy_timeout first: switching to WAL needs a lock another opener may hold.
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON');
    migrate(db, REGISTRY_MIGRATIONS, 'registry');
    return new LocalRegistry(db, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

const NOTHING_SENT: WriteResult = { tx: null };
const MAX_SCAN = 10_000;

interface NodeRow { node_id: Uint8Array; enc_key: Uint8Array; addrs: Uint8Array; seq: number; signature: Uint8Array }
interface ClaimRow { node_id: Uint8Array; fingerprint: string; key_ref: string; seq: number; signature: Uint8Array }
interface AnnouncementRow { position: number; ephemeral: Uint8Array; view_tag: number; tag: Uint8Array; payload: Uint8Array; time: number }
interface DeletionRow { message_ref: Uint8Array; custodian: Uint8Array; time: number; signature: Uint8Array }

class LocalRegistry implements Registry {
  readonly kind = 'local' as const;
  readonly domain: RegistryDomain;
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #watchers: Watchers;
  readonly #s: Record<
    | 'node' | 'nodes' | 'insertNode' | 'updateNode' | 'claim' | 'insertClaim' | 'updateClaim'
    | 'announce' | 'scan' | 'head' | 'insertDeletion' | 'deletions',
    StatementSync
  >;
  #closed = false;

  constructor(db: DatabaseSync, options: LocalRegistryOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    const id = (db.prepare("SELECT value FROM meta WHERE key = 'registry_id'").get() as { value: Uint8Array } | undefined)?.value;
    if (id?.length !== 32) throw new Error('registry meta has no 32-byte registry_id');
    this.domain = { kind: 'local', id: new Uint8Array(id) };
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.#s = {
      node: p('SELECT node_id, enc_key, addrs, seq, signature FROM nodes WHERE node_id = ?'),
      nodes: p('SELECT node_id, enc_key, addrs, seq, signature FROM nodes ORDER BY rowid'),
      insertNode: p('INSERT INTO nodes (node_id, enc_key, addrs, seq, signature, registered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateNode: p('UPDATE nodes SET enc_key = ?, addrs = ?, seq = ?, signature = ?, updated_at = ? WHERE node_id = ?'),
      claim: p('SELECT node_id, fingerprint, key_ref, seq, signature FROM claims WHERE address_hash = ?'),
      insertClaim: p('INSERT INTO claims (address_hash, node_id, fingerprint, key_ref, seq, signature, claimed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      updateClaim: p('UPDATE claims SET fingerprint = ?, key_ref = ?, seq = ?, signature = ?, updated_at = ? WHERE address_hash = ?'),
      announce: p('INSERT INTO announcements (ephemeral, view_tag, tag, payload, time) VALUES (?, ?, ?, ?, ?)'),
      scan: p('SELECT position, ephemeral, view_tag, tag, payload, time FROM announcements WHERE position > ? ORDER BY position LIMIT ?'),
      head: p('SELECT coalesce(max(position), 0) AS head FROM announcements'),
      insertDeletion: p('INSERT OR IGNORE INTO deletions (message_ref, custodian, time, signature, recorded_at) VALUES (?, ?, ?, ?, ?)'),
      deletions: p('SELECT message_ref, custodian, time, signature FROM deletions WHERE message_ref = ? ORDER BY id'),
    };
    this.#watchers = new Watchers(this, options.pollIntervalMs ?? 500);
  }

  async registerNode(input: NodeRecord): Promise<WriteResult> {
    this.#open();
    const r = acceptNodeRecord(this.domain, input);
    const addrs = encodeAddrs(r.addrs);
    this.#tx(() => {
      const row = this.#s.node.get(r.nodeId) as NodeRow | undefined;
      const now = this.#now();
      switch (nodeAction(row === undefined ? null : nodeFromRow(row), r)) {
        case 'insert':
          this.#s.insertNode.run(r.nodeId, r.encKey, addrs, r.seq, r.signature, now, now);
          break;
        case 'update':
          this.#s.updateNode.run(r.encKey, addrs, r.seq, r.signature, now, r.nodeId);
          break;
        case 'none':
          break;
      }
    });
    return NOTHING_SENT;
  }

  async getNode(nodeId: Uint8Array): Promise<NodeRecord | null> {
    this.#open();
    const row = this.#s.node.get(nodeId) as NodeRow | undefined;
    return row === undefined ? null : this.#verifiedNode(row);
  }

  async listNodes(): Promise<NodeRecord[]> {
    this.#open();
    return (this.#s.nodes.all() as unknown as NodeRow[]).flatMap((row) => this.#verifiedNode(row) ?? []);
  }

  async claimAddress(input: AddressClaim): Promise<WriteResult> {
    this.#open();
    const c = acceptAddressClaim(this.domain, input);
    const hash = addressHash(c.address);
    this.#tx(() => {
      if (this.#s.node.get(c.nodeId) === undefined) throw new RegistryUnknownNodeError();
      const row = this.#s.claim.get(hash) as ClaimRow | undefined;
      const now = this.#now();
      switch (claimAction(row === undefined ? null : claimFromRow(c.address, row), c)) {
        case 'insert':
          this.#s.insertClaim.run(hash, c.nodeId, c.fingerprint, c.keyRef, c.seq, c.signature, now, now);
          break;
        case 'update':
          this.#s.updateClaim.run(c.fingerprint, c.keyRef, c.seq, c.signature, now, hash);
          break;
        case 'none':
          break;
      }
    });
    return NOTHING_SENT;
  }

  async lookupAddress(address: string): Promise<AddressClaim | null> {
    this.#open();
    const canonical = canonicalAddress(address);
    const row = this.#s.claim.get(addressHash(canonical)) as ClaimRow | undefined;
    if (row === undefined) return null;
    const claim = safely(() => claimFromRow(canonical, row));
    return claim !== null && verifyAddressClaim(this.domain, claim) ? claim : null;
  }

  async announce(entries: readonly Announcement[]): Promise<WriteResult> {
    this.#open();
    const checked = validateAnnouncements(entries);
    this.#tx(() => {
      const time = this.#now();
      for (const e of checked) this.#s.announce.run(e.ephemeralPublic, e.viewTag, e.tag, e.payload, time);
    });
    return NOTHING_SENT;
  }

  async scanAnnouncements(cursor: AnnouncementCursor | null, limit: number): Promise<AnnouncementPage> {
    this.#open();
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SCAN) throw new ValidationError('limit', `must be an integer 1..${MAX_SCAN}`);
    const after = cursor === null ? 0 : parseCursor(cursor);
    const rows = this.#s.scan.all(after, limit) as unknown as AnnouncementRow[];
    const entries = rows.map((r) => ({
      ephemeralPublic: new Uint8Array(r.ephemeral),
      viewTag: r.view_tag,
      tag: new Uint8Array(r.tag),
      payload: new Uint8Array(r.payload),
      time: r.time,
      cursor: localCursor(r.position),
    }));
    return { entries, next: localCursor(rows.at(-1)?.position ?? after) };
  }

  async announcementHead(): Promise<AnnouncementCursor> {
    this.#open();
    return localCursor((this.#s.head.get() as { head: number }).head);
  }

  onAnnouncement(listener: AnnouncementListener, options?: WatchOptions): () => void {
    this.#open();
    return this.#watchers.add(listener, options);
  }

  async recordDeletion(input: DeletionReceipt): Promise<WriteResult> {
    this.#open();
    const d = acceptDeletionReceipt(this.domain, input);
    this.#tx(() => {
      if (this.#s.node.get(d.custodian) === undefined) throw new RegistryUnknownNodeError('the custodian is not registered');
      this.#s.insertDeletion.run(d.messageRef, d.custodian, d.time, d.signature, this.#now());
    });
    return NOTHING_SENT;
  }

  async deletionReceipts(messageRef: Uint8Array): Promise<DeletionReceipt[]> {
    this.#open();
    if (!(messageRef instanceof Uint8Array) || messageRef.length !== 32) throw new ValidationError('messageRef', 'must be 32 bytes');
    const rows = this.#s.deletions.all(messageRef) as unknown as DeletionRow[];
    return rows
      .map((r) => ({ messageRef: new Uint8Array(r.message_ref), custodian: new Uint8Array(r.custodian), time: r.time, signature: new Uint8Array(r.signature) }))
      .filter((d) => verifyDeletionReceipt(this.domain, d));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.stopAll();
    this.#db.close();
  }

  /** The row as a record if it is well-formed and its signature verifies; otherwise null (skipped). */
  #verifiedNode(row: NodeRow): NodeRecord | null {
    const record = safely(() => nodeFromRow(row));
    return record !== null && verifyNodeRecord(this.domain, record) ? record : null;
  }

  #open(): void {
    if (this.#closed) throw new RegistryClosedError();
  }

  /** One write transaction, taking the write lock first (the checks inside re-read under it). */
  #tx(fn: () => void): void {
    immediate(this.#db, fn);
  }
}

function nodeFromRow(row: NodeRow): NodeRecord {
  return {
    nodeId: new Uint8Array(row.node_id),
    encKey: new Uint8Array(row.enc_key),
    addrs: decodeAddrs(row.addrs),
    seq: row.seq,
    signature: new Uint8Array(row.signature),
  };
}

function claimFromRow(address: string, row: ClaimRow): AddressClaim {
  return { address, nodeId: new Uint8Array(row.node_id), fingerprint: row.fingerprint, keyRef: row.key_ref, seq: row.seq, signature: new Uint8Array(row.signature) };
}

/** Local cursors: "l:<n>", n = the position of the last entry consumed (0: none). */
function localCursor(position: number): AnnouncementCursor {
  return `l:${position}` as AnnouncementCursor;
}

function parseCursor(cursor: string): number {
  const m = /^l:(0|[1-9]\d{0,15})$/.exec(cursor);
  if (m === null) throw new ValidationError('cursor', 'is not a cursor of this registry');
  return Number(m[1]);
}

function safely<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
