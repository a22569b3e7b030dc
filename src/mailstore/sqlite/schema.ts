// The SQLite schema of the mail store and its migrations, versioned with
// PRAGMA user_version: migration N (1-based) brings a database from version
// N-1 to N, each in its own transaction. Later issues append to MIGRATIONS;
// a migration that has shipped is never edited.
//
// Index design (100,000 messages per mailbox; every IMAP query is a seek):
// - messages PRIMARY KEY (mailbox_id, uid) WITHOUT ROWID: the sequence map,
//   FETCH by UID ranges and getBody are range seeks on the clustered key;
// - messages_modseq (mailbox_id, modseq): CONDSTORE/QRESYNC changedSince;
// - messages_deleted / messages_unseen: partial indexes holding only the
//   \Deleted / un-\Seen rows, so EXPUNGE and SEARCH UNSEEN touch only those;
// - STATUS reads counters kept in `mailboxes` by triggers (O(1));
// - bodies are shared by COPY and counted by triggers (refcount), so a copy
//   costs no message bytes and the last expunge frees them.
import type { DatabaseSync } from 'node:sqlite';
import { migrate as runMigrations } from '../../sqlite/migrate.ts';

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('last_uid_validity', 0);

  -- AUTOINCREMENT: ids are never reused, so a session holding the id of a
  -- deleted mailbox cannot end up acting on a newer one.
  CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL
  );

  CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    special_use TEXT,
    uid_validity INTEGER NOT NULL,
    uid_next INTEGER NOT NULL DEFAULT 1,
    highest_modseq INTEGER NOT NULL DEFAULT 1,
    first_recent_uid INTEGER NOT NULL DEFAULT 1,
    message_count INTEGER NOT NULL DEFAULT 0,
    unseen_count INTEGER NOT NULL DEFAULT 0,
    total_size INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, name)
  );

  CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
  ) WITHOUT ROWID;

  -- The message bytes come last: SQLite stores a row's columns in order, so
  -- reading header or structure would otherwise walk the overflow pages of
  -- every message body (FETCH ENVELOPE / SEARCH HEADER on 10,000 messages).
  CREATE TABLE bodies (
    id INTEGER PRIMARY KEY,
    size INTEGER NOT NULL,
    refcount INTEGER NOT NULL DEFAULT 0,
    search_header TEXT NOT NULL,
    envelope TEXT NOT NULL,
    bodystructure TEXT NOT NULL,
    structure TEXT NOT NULL,
    header BLOB NOT NULL,
    data BLOB NOT NULL
  );

  CREATE TABLE messages (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    uid INTEGER NOT NULL,
    body_id INTEGER NOT NULL, -- no FK: refcount triggers own it, and an FK would scan messages on every body delete
    flags TEXT NOT NULL,
    seen INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    internal_date INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
  CREATE INDEX messages_deleted ON messages (mailbox_id, uid) WHERE deleted = 1;
  CREATE INDEX messages_unseen ON messages (mailbox_id, uid) WHERE seen = 0;

  CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);

  CREATE TRIGGER messages_insert AFTER INSERT ON messages BEGIN
    UPDATE mailboxes SET message_count = message_count + 1,
      unseen_count = unseen_count + (NEW.seen = 0), total_size = total_size + NEW.size
      WHERE id = NEW.mailbox_id;
    UPDATE bodies SET refcount = refcount + 1 WHERE id = NEW.body_id;
  END;
  CREATE TRIGGER messages_delete AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET message_count = message_count - 1,
      unseen_count = unseen_count - (OLD.seen = 0), total_size = total_size - OLD.size
      WHERE id = OLD.mailbox_id;
    UPDATE bodies SET refcount = refcount - 1 WHERE id = OLD.body_id;
    DELETE FROM bodies WHERE id = OLD.body_id AND refcount <= 0;
  END;
  CREATE TRIGGER messages_update AFTER UPDATE OF seen, mailbox_id, size ON messages BEGIN
    UPDATE mailboxes SET message_count = message_count - 1,
      unseen_count = unseen_count - (OLD.seen = 0), total_size = total_size - OLD.size
      WHERE id = OLD.mailbox_id;
    UPDATE mailboxes SET message_count = message_count + 1,
      unseen_count = unseen_count + (NEW.seen = 0), total_size = total_size + NEW.size
      WHERE id = NEW.mailbox_id;
  END;
  `,
  // 2: the account's body cache key (mailstore/body-cipher.ts), OpenPGP-encrypted
  // to the account key (accounts/keyring.ts); NULL until the first unlock.
  `
  ALTER TABLE accounts ADD COLUMN cache_key BLOB;
  `,
  // 3: the delivery queue of the secure pipeline. The partial index holds only
  // pending rows, so draining an account and finding accounts to drain stay
  // seeks however many deliveries the node has ever made.
  `
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    cid TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    error TEXT,
    mailbox_id INTEGER,
    uid INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_pending ON deliveries (account_id, id) WHERE state = 'pending';
  CREATE INDEX deliveries_cid ON deliveries (cid);
  CREATE INDEX deliveries_message_id ON deliveries (message_id) WHERE message_id IS NOT NULL;
  `,
  // 4: sender-defined expiry. The partial index holds only expiring messages,
  // so the expiry clock's "what is next / what is due" is a seek. sent_expiry
  // lets the Sent copy a client APPENDs expire with the message it sent.
  `
  ALTER TABLE messages ADD COLUMN expires INTEGER;
  CREATE INDEX messages_expires ON messages (expires) WHERE expires IS NOT NULL;
  CREATE TABLE sent_expiry (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (account_id, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX sent_expiry_expires ON sent_expiry (expires);
  `,
  // 5: mail from other Sealpost nodes: the node whose ledger holds the record.
  // The unique index makes queueing a remote message twice (pushed, then seen
  // again by the ledger scan) a no-op per recipient.
  `
  ALTER TABLE deliveries ADD COLUMN origin TEXT;
  CREATE UNIQUE INDEX deliveries_remote ON deliveries (origin, seq, account_id) WHERE origin IS NOT NULL;
  `,
  // 6: migration and restore. A body knows the storage ciphertext it is sealed
  // in (sealed_cid; plaintext = data from sealed_offset on), so that snapshots
  // can name it; bodies not sealed yet (a client's APPEND) are found through a
  // partial index. `imports` remembers every source message imported, so an
  // import run again skips what is already in (its row commits with the append).
  `
  ALTER TABLE bodies ADD COLUMN sealed_cid TEXT;
  ALTER TABLE bodies ADD COLUMN sealed_offset INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX bodies_unsealed ON bodies (id) WHERE sealed_cid IS NULL;
  CREATE INDEX messages_body ON messages (body_id);
  CREATE TABLE imports (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    PRIMARY KEY (account_id, source)
  ) WITHOUT ROWID;
  `,
];

/** Connection settings: WAL for concurrent readers, synchronous=FULL because
 *  an SMTP 250 / IMAP APPEND OK promises the message is on disk. */
export function configure(db: DatabaseSync, memory: boolean): void {
  if (!memory) db.exec('PRAGMA journal_mode = WAL');
  // secure_delete: an expired (or expunged) message's pages are zeroed, not
  // left readable in the file's free list.
  db.exec('PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY; PRAGMA secure_delete = ON');
}

/** Brings the schema up to date. Each migration commits on its own. */
export function migrate(db: DatabaseSync): void {
  runMigrations(db, MIGRATIONS, 'mail store');
}
