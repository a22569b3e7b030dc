// The SQLite MailStore: node:sqlite (DatabaseSync) on one file, `sealpost.db`
// in the data directory. Implements mailstore/types.ts (RFC 3501 mailbox model,
// RFC 7162 MODSEQ); each mutating method is one BEGIN IMMEDIATE transaction,
// and listeners hear about a change only after it is committed and durable.
// Given a BodyCipher, message bytes are sealed per account at rest
// (body-cipher.ts); the delivery queue lives here too (deliveries.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { normalizeFlags } from '../flags.ts';
import { canonicalMailboxName, compareMailboxNames } from '../names.ts';
import type { BodyCipher } from '../body-cipher.ts';
import { checkLimit } from '../deliveries.ts';
import { checkSealed, checkSource } from '../imports.ts';
import { prepareMessage } from '../prepare.ts';
import type { AccountId, AppendInput, ImportInput, MailboxId, MailboxInfo, MailStore, SpecialUse, Uid } from '../types.ts';
import { Db } from './db.ts';
import * as queue from './deliveries.ts';
import * as boxes from './mailboxes.ts';
import * as imports from './imports.ts';
import * as msgs from './messages.ts';
import { Notifier } from './notify.ts';
import { configure, migrate } from './schema.ts';

export interface SqliteMailStore extends MailStore {
  /** Appends many messages to one mailbox in a single transaction (importers,
   *  benchmarks): one fsync instead of one per message. They share a MODSEQ. */
  appendMany(id: MailboxId, inputs: readonly AppendInput[]): Promise<Uid[]>;
  /** the underlying connection, for tests (EXPLAIN QUERY PLAN) and maintenance */
  readonly db: DatabaseSync;
}

export interface SqliteMailStoreOptions {
  /** a file, or ':memory:' */
  path: string;
  /** seals message bodies at rest; without it they are stored in clear */
  cipher?: BodyCipher;
}

/** Opens (creating and migrating as needed) the store at `path`. */
export async function openSqliteMailStore(options: SqliteMailStoreOptions): Promise<SqliteMailStore> {
  const memory = options.path === ':memory:';
  if (!memory) mkdirSync(path.dirname(options.path), { recursive: true });
  const raw = new DatabaseSync(options.path);
  try {
    configure(raw, memory);
    const db = new Db(raw);
    migrate(db.raw);
    return createStore(db, options.cipher ?? null);
  } catch (err) {
    raw.close();
    throw err;
  }
}

function createStore(db: Db, cipher: BodyCipher | null): SqliteMailStore {
  const notifier = new Notifier(db);
  /** one transaction, then notification of the mailboxes it touched */
  const write = <T>(touched: (result: T) => Iterable<MailboxId>, fn: () => T): T => {
    const result = db.tx(fn);
    notifier.committed(touched(result));
    return result;
  };
  const prepareAll = (inputs: readonly AppendInput[]) =>
    inputs.map((input) => {
      checkSealed(input.sealed);
      return {
        flags: normalizeFlags(input.flags ?? []),
        message: prepareMessage(input.raw),
        internalDate: new Date(input.internalDate ?? Date.now()),
        expires: input.expires ?? null,
        sealed: input.sealed ?? null,
      };
    });

  return {
    db: db.raw,
    async createAccount(input) {
      return db.tx(() => boxes.createAccount(db, input));
    },
    async getAccount(address) {
      const row = db.get<Parameters<typeof boxes.toAccount>[0]>('SELECT * FROM accounts WHERE address = ?', address.trim().toLowerCase());
      return row ? boxes.toAccount(row) : null;
    },
    async getAccountById(id) {
      const row = db.get<Parameters<typeof boxes.toAccount>[0]>('SELECT * FROM accounts WHERE id = ?', id);
      return row ? boxes.toAccount(row) : null;
    },
    async listAccounts() {
      return db.all<Parameters<typeof boxes.toAccount>[0]>('SELECT * FROM accounts ORDER BY id').map(boxes.toAccount);
    },
    async getSecrets(id) {
      return boxes.getSecrets(db, id);
    },
    async updateSecrets(id, secrets) {
      db.tx(() => boxes.updateSecrets(db, id, secrets));
    },
    async getCacheKey(id) {
      return boxes.getCacheKey(db, id);
    },
    async setCacheKey(id, wrapped) {
      db.tx(() => boxes.setCacheKey(db, id, wrapped));
    },
    async initCacheKey(id, wrapped) {
      return db.tx(() => boxes.initCacheKey(db, id, wrapped));
    },

    async listMailboxes(accountId: AccountId) {
      boxes.accountRow(db, accountId);
      return db.all<boxes.MailboxRow>('SELECT * FROM mailboxes WHERE account_id = ?', accountId)
        .map(boxes.toMailbox).sort((a, b) => compareMailboxNames(a.name, b.name));
    },
    async getMailbox(accountId, name) {
      const row = db.get<boxes.MailboxRow>('SELECT * FROM mailboxes WHERE account_id = ? AND name = ?', accountId, canonicalMailboxName(name));
      return row ? boxes.toMailbox(row) : null;
    },
    async getMailboxById(id) {
      const row = db.get<boxes.MailboxRow>('SELECT * FROM mailboxes WHERE id = ?', id);
      return row ? boxes.toMailbox(row) : null;
    },
    async createMailbox(accountId, name, specialUse: SpecialUse | null = null) {
      return db.tx(() => boxes.createMailbox(db, accountId, name, specialUse));
    },
    async deleteMailbox(id) {
      write(() => [id], () => boxes.deleteMailbox(db, id));
    },
    async renameMailbox(id, newName): Promise<MailboxInfo> {
      return write((r) => r.touched, () => boxes.renameMailbox(db, id, newName)).info;
    },
    async listSubscriptions(accountId) {
      return db.all<{ name: string }>('SELECT name FROM subscriptions WHERE account_id = ?', accountId)
        .map((r) => r.name).sort(compareMailboxNames);
    },
    async setSubscribed(accountId, name, subscribed) {
      db.tx(() => boxes.setSubscribed(db, accountId, name, subscribed));
    },
    async status(id) {
      const row = boxes.mailboxRow(db, id);
      const info = boxes.toMailbox(row);
      return {
        messages: row.message_count, recent: msgs.recentCount(db, id, row.first_recent_uid), unseen: row.unseen_count,
        uidNext: info.uidNext, uidValidity: info.uidValidity, highestModSeq: info.highestModSeq, size: row.total_size,
      };
    },
    async claimRecent(id) {
      return db.tx(() => {
        const row = boxes.mailboxRow(db, id);
        db.run('UPDATE mailboxes SET first_recent_uid = uid_next WHERE id = ?', id);
        return row.first_recent_uid as Uid;
      });
    },

    async listMessages(id) {
      return msgs.listMessages(db, id);
    },
    async getMessages(id, uids, fields = {}) {
      return msgs.getMessages(db, id, uids, fields);
    },
    async getBody(id, uid) {
      return msgs.getBody(db, id, uid, cipher);
    },
    async append(id, input) {
      const items = prepareAll([input]);
      const { uids, uidValidity } = write(() => [id], () => msgs.appendPrepared(db, id, items, cipher));
      return { uid: uids[0] as Uid, uidValidity };
    },
    async appendMany(id, inputs) {
      const items = prepareAll(inputs);
      return write(() => [id], () => msgs.appendPrepared(db, id, items, cipher)).uids;
    },
    async storeFlags(id, uids, mode, flags, unchangedSince) {
      const given = normalizeFlags(flags);
      return write((r) => (r.changed.length > 0 ? [id] : []), () => msgs.storeFlags(db, id, uids, mode, given, unchangedSince));
    },
    async copy(id, uids, destination) {
      return write((r) => (r.map.length > 0 ? [destination] : []), () => msgs.copyMessages(db, id, uids, destination));
    },
    async move(id, uids, destination) {
      return write((r) => (r.map.length > 0 ? [id, destination] : []), () => {
        const result = msgs.copyMessages(db, id, uids, destination);
        msgs.removeMessages(db, id, result.map.map(([source]) => source));
        return result;
      });
    },
    async expunge(id, uids) {
      return write((gone) => (gone.length > 0 ? [id] : []), () => msgs.expunge(db, id, uids));
    },
    async changesSince(id, modSeq) {
      return msgs.changesSince(db, id, modSeq);
    },
    subscribe(id, listener) {
      return notifier.subscribe(id, listener);
    },

    async enqueueDeliveries(items) {
      return db.tx(() => queue.enqueue(db, items, Date.now()));
    },
    async pendingDeliveries(accountId, limit) {
      checkLimit(limit);
      return queue.pending(db, accountId, limit);
    },
    async deliver(deliveryId, mailboxId, input) {
      const items = prepareAll([input]);
      const { uids, uidValidity } = write(() => [mailboxId], () => {
        queue.pendingRow(db, deliveryId, mailboxId);
        const appended = msgs.appendPrepared(db, mailboxId, items, cipher);
        queue.markDelivered(db, deliveryId, mailboxId, appended.uids[0] as Uid);
        return appended;
      });
      return { uid: uids[0] as Uid, uidValidity };
    },
    async failDelivery(deliveryId, error) {
      db.tx(() => queue.fail(db, deliveryId, error));
    },
    async findDeliveries(query) {
      return queue.find(db, query);
    },
    async accountsWithPending() {
      return queue.accountsWithPending(db);
    },
    async expireMessages(now) {
      const { count } = write((r) => r.touched, () => msgs.expireMessages(db, now));
      // The deleted rows are zeroed (secure_delete), but the WAL still holds the
      // pages as they were: copy them back and empty it now, not at some later checkpoint.
      if (count > 0) db.raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      return count;
    },
    async nextExpiry() {
      return db.get<{ next: number | null }>('SELECT min(expires) AS next FROM messages WHERE expires IS NOT NULL')?.next ?? null;
    },
    async rememberSentExpiry(accountId, messageId, expires) {
      db.tx(() => {
        boxes.accountRow(db, accountId);
        db.run('INSERT OR REPLACE INTO sent_expiry (account_id, message_id, expires) VALUES (?, ?, ?)', accountId, messageId, expires);
      });
    },
    async sentExpiry(accountId, messageId) {
      return db.get<{ expires: number }>('SELECT expires FROM sent_expiry WHERE account_id = ? AND message_id = ?', accountId, messageId)?.expires ?? null;
    },
    async importMessages(id, items) {
      for (const item of items) checkSource(item.source);
      const prepared = prepareAll(items).map((p, i) => ({ ...p, source: (items[i] as ImportInput).source }));
      return write((r) => (r.some((x) => x !== null) ? [id] : []), () => imports.importPrepared(db, id, prepared, cipher));
    },
    async importedSources(accountId, sources) {
      return imports.importedSources(db, accountId, sources);
    },
    async unsealedMessages(accountId, limit) {
      checkLimit(limit);
      return msgs.unsealedMessages(db, accountId, limit);
    },
    async setSealed(id, uid, sealed) {
      db.tx(() => msgs.setSealed(db, id, uid, sealed));
    },
    async messageRefs(id) {
      return msgs.messageRefs(db, id);
    },
    async close() {
      notifier.close();
      db.close();
    },
  };
}
