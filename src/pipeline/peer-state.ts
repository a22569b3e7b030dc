// What the peer network part of the pipeline keeps on disk (network.db, SQLite):
// - the outbox: one stealth announcement per (message, recipient node), written
//   before SMTP answers 250, then posted to the registry and pushed to the node
//   (a crash in between posts it at the next start: nothing accepted is lost);
// - the scan cursor: where this node's scan of the registry's announcements
//   resumes (a node that was offline catches up from there);
// - which node was told of which ledger record, so that the record's proof is
//   given to that node only;
// - the custody tickets of expiring messages this node sends or receives;
// - the proofs of mail from other nodes, as checked at delivery.
import { DatabaseSync } from 'node:sqlite';
import type { Proof } from '../ledger/types.ts';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    entry TEXT NOT NULL,
    posted INTEGER NOT NULL DEFAULT 0,
    pushed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (seq, node_id)
  );
  CREATE INDEX outbox_unposted ON outbox (id) WHERE posted = 0;
  CREATE INDEX outbox_unpushed ON outbox (id) WHERE pushed = 0;
  CREATE TABLE scan (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor TEXT
  );
  INSERT INTO scan (id, cursor) VALUES (1, NULL);
  `,
  // 2: custody tickets of expiring messages (custodians, commitments, expiry;
  // never a share), by ciphertext CID: what a reader needs to collect the key.
  `
  CREATE TABLE tickets (
    cid TEXT PRIMARY KEY,
    ticket BLOB NOT NULL
  ) WITHOUT ROWID;
  `,
  // 3: proofs of mail from other nodes, as checked at delivery, so that
  // \`sealpost verify\` proves such a message without asking its sender's node.
  `
  CREATE TABLE proofs (
    cid TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    proof TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 4: the Message-ID of an expiring message this node sent, so that its
  // sender can revoke it by the Message-ID their client shows.
  `
  ALTER TABLE tickets ADD COLUMN message_id TEXT;
  CREATE INDEX tickets_message_id ON tickets (message_id) WHERE message_id IS NOT NULL;
  `,
  // 5: revocations asked for by \`sealpost revoke\` while the gateway runs: the
  // gateway carries them out (one libp2p node per identity at a time) and
  // writes the outcome back for the command to print.
  `
  CREATE TABLE revocations (
    message_id TEXT PRIMARY KEY,
    requested_at INTEGER NOT NULL,
    outcome TEXT
  ) WITHOUT ROWID;
  `,
];

export interface OutboxRow {
  id: number;
  seq: number;
  nodeId: string;
  /** the announcement as JSON (peers.ts encodeEntry) */
  entry: string;
}

export interface PeerState {
  /** Records the announcements of one message, durably, in one transaction. */
  queue(items: ReadonlyArray<{ seq: number; nodeId: string; entry: string }>): void;
  unposted(limit: number): OutboxRow[];
  markPosted(ids: readonly number[]): void;
  unpushed(limit: number): OutboxRow[];
  markPushed(id: number): void;
  /** whether node `nodeId` was announced record `seq` of this node */
  wasTold(seq: number, nodeId: string): boolean;
  cursor(): string | null;
  setCursor(cursor: string): void;
  saveTicket(cid: string, ticket: Uint8Array, messageId?: string): void;
  ticket(cid: string): Uint8Array | null;
  /** the CID and ticket of an expiring message sent from this node, by its Message-ID (no brackets) */
  sentTicket(messageId: string): { cid: string; ticket: Uint8Array } | null;
  /** Asks the running gateway to revoke a message (again, if asked before). */
  requestRevoke(messageId: string): void;
  /** Revocations asked for and not done yet. */
  pendingRevokes(): string[];
  finishRevoke(messageId: string, outcome: string): void;
  /** the outcome the gateway wrote (JSON), or null while it is not done */
  revokeOutcome(messageId: string): string | null;
  saveProof(cid: string, origin: string, proof: Proof): void;
  proof(cid: string): { origin: string; proof: Proof } | null;
  close(): void;
}

export function openPeerState(file: string): PeerState {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
  migrate(db, MIGRATIONS, 'network state');
  const toRow = (r: Record<string, unknown>): OutboxRow => ({ id: Number(r['id']), seq: Number(r['seq']), nodeId: String(r['node_id']), entry: String(r['entry']) });
  const insert = db.prepare('INSERT OR IGNORE INTO outbox (seq, node_id, entry, created_at) VALUES (?, ?, ?, ?)');
  const unposted = db.prepare('SELECT id, seq, node_id, entry FROM outbox WHERE posted = 0 ORDER BY id LIMIT ?');
  const unpushed = db.prepare('SELECT id, seq, node_id, entry FROM outbox WHERE pushed = 0 ORDER BY id LIMIT ?');
  const posted = db.prepare('UPDATE outbox SET posted = 1 WHERE id = ?');
  const pushed = db.prepare('UPDATE outbox SET pushed = 1 WHERE id = ?');
  const told = db.prepare('SELECT 1 AS x FROM outbox WHERE seq = ? AND node_id = ?');
  const tx = (fn: () => void): void => immediate(db, fn);
  return {
    queue(items) {
      const now = Date.now();
      tx(() => {
        for (const item of items) insert.run(item.seq, item.nodeId, item.entry, now);
      });
    },
    unposted: (limit) => unposted.all(limit).map(toRow),
    markPosted(ids) {
      tx(() => {
        for (const id of ids) posted.run(id);
      });
    },
    unpushed: (limit) => unpushed.all(limit).map(toRow),
    markPushed(id) {
      pushed.run(id);
    },
    wasTold: (seq, nodeId) => told.get(seq, nodeId) !== undefined,
    cursor: () => (db.prepare('SELECT cursor FROM scan WHERE id = 1').get()?.['cursor'] as string | null | undefined) ?? null,
    setCursor(cursor) {
      db.prepare('UPDATE scan SET cursor = ? WHERE id = 1').run(cursor);
    },
    saveTicket(cid, ticket, messageId) {
      db.prepare('INSERT OR IGNORE INTO tickets (cid, ticket, message_id) VALUES (?, ?, ?)').run(cid, ticket, messageId ?? null);
    },
    sentTicket(messageId) {
      const row = db.prepare('SELECT cid, ticket FROM tickets WHERE message_id = ? LIMIT 1').get(messageId);
      return row === undefined ? null : { cid: String(row['cid']), ticket: new Uint8Array(row['ticket'] as Uint8Array) };
    },
    ticket(cid) {
      const row = db.prepare('SELECT ticket FROM tickets WHERE cid = ?').get(cid);
      return row === undefined ? null : new Uint8Array(row['ticket'] as Uint8Array);
    },
    requestRevoke(messageId) {
      db.prepare('INSERT OR REPLACE INTO revocations (message_id, requested_at, outcome) VALUES (?, ?, NULL)').run(messageId, Date.now());
    },
    pendingRevokes: () => db.prepare('SELECT message_id FROM revocations WHERE outcome IS NULL ORDER BY requested_at').all().map((r) => String(r['message_id'])),
    finishRevoke(messageId, outcome) {
      db.prepare('UPDATE revocations SET outcome = ? WHERE message_id = ?').run(outcome, messageId);
    },
    revokeOutcome(messageId) {
      const row = db.prepare('SELECT outcome FROM revocations WHERE message_id = ?').get(messageId);
      return (row?.['outcome'] as string | null | undefined) ?? null;
    },
    saveProof(cid, origin, proof) {
      db.prepare('INSERT OR REPLACE INTO proofs (cid, origin, proof) VALUES (?, ?, ?)').run(cid, origin, JSON.stringify(proof));
    },
    proof(cid) {
      const row = db.prepare('SELECT origin, proof FROM proofs WHERE cid = ?').get(cid);
      return row === undefined ? null : { origin: String(row['origin']), proof: JSON.parse(String(row['proof'])) as Proof };
    },
    close() {
      db.close();
    },
  };
}
