// Accounts, mailboxes and subscriptions in SQLite (RFC 3501 §6.3: CREATE,
// DELETE, RENAME, SUBSCRIBE; §2.3.1.1 UIDVALIDITY). Each mutating function runs
// inside the caller's transaction and returns what it changed.
import { AlreadyExistsError, NotAllowedError, NotFoundError, ValidationError } from '../../errors/index.ts';
import { isDescendant, MAX_MAILBOX_NAME, renamedName, validateMailboxName } from '../names.ts';
import { nextUidValidity } from '../prepare.ts';
import {
  DEFAULT_MAILBOXES, MAILBOX_DELIMITER,
  type Account, type AccountId, type AccountSecrets, type MailboxId, type MailboxInfo, type ModSeq,
  type SpecialUse, type Uid, type UidValidity,
} from '../types.ts';
import type { Db } from './db.ts';

export interface MailboxRow {
  id: number;
  account_id: number;
  name: string;
  special_use: string | null;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  first_recent_uid: number;
  message_count: number;
  unseen_count: number;
  total_size: number;
}

interface AccountRow {
  id: number;
  address: string;
  name: string;
  created_at: number;
  password_hash: string;
  public_key: string;
  private_key: string;
  fingerprint: string;
}

export function toAccount(r: AccountRow): Account {
  return { id: r.id as AccountId, address: r.address, name: r.name, createdAt: new Date(r.created_at) };
}

export function toMailbox(r: MailboxRow): MailboxInfo {
  return {
    id: r.id as MailboxId, accountId: r.account_id as AccountId, name: r.name,
    specialUse: r.special_use as SpecialUse | null, uidValidity: r.uid_validity as UidValidity,
    uidNext: r.uid_next as Uid, highestModSeq: r.highest_modseq as ModSeq,
  };
}

export function mailboxRow(db: Db, id: MailboxId): MailboxRow {
  const row = db.get<MailboxRow>('SELECT * FROM mailboxes WHERE id = ?', id);
  if (!row) throw new NotFoundError('mailbox');
  return row;
}

export function accountRow(db: Db, id: AccountId): AccountRow {
  const row = db.get<AccountRow>('SELECT * FROM accounts WHERE id = ?', id);
  if (!row) throw new NotFoundError('account');
  return row;
}

function findMailbox(db: Db, accountId: AccountId, name: string): MailboxRow | undefined {
  return db.get<MailboxRow>('SELECT * FROM mailboxes WHERE account_id = ? AND name = ?', accountId, name);
}

export function insertMailbox(db: Db, accountId: AccountId, name: string, specialUse: SpecialUse | null): MailboxRow {
  if (findMailbox(db, accountId, name)) throw new AlreadyExistsError('mailbox');
  const last = db.get<{ value: number }>("SELECT value FROM meta WHERE key = 'last_uid_validity'")?.value ?? 0;
  const uidValidity = nextUidValidity(last);
  db.run("UPDATE meta SET value = ? WHERE key = 'last_uid_validity'", uidValidity);
  const { lastInsertRowid } = db.run(
    'INSERT INTO mailboxes (account_id, name, special_use, uid_validity) VALUES (?, ?, ?, ?)',
    accountId, name, specialUse, uidValidity,
  );
  return mailboxRow(db, lastInsertRowid as MailboxId);
}

export function createAccount(db: Db, input: { address: string; name: string } & AccountSecrets): Account {
  const address = input.address.trim().toLowerCase();
  if (address.length === 0 || /[\s\0]/.test(address)) throw new ValidationError('address', 'invalid address');
  if (db.get('SELECT id FROM accounts WHERE address = ?', address)) throw new AlreadyExistsError('account');
  const { lastInsertRowid } = db.run(
    'INSERT INTO accounts (address, name, created_at, password_hash, public_key, private_key, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?)',
    address, input.name, Date.now(), input.passwordHash, input.publicKey, input.privateKey, input.fingerprint,
  );
  const id = lastInsertRowid as AccountId;
  for (const d of DEFAULT_MAILBOXES) insertMailbox(db, id, d.name, d.specialUse);
  return toAccount(accountRow(db, id));
}

export function getSecrets(db: Db, id: AccountId): AccountSecrets {
  const r = accountRow(db, id);
  return { passwordHash: r.password_hash, publicKey: r.public_key, privateKey: r.private_key, fingerprint: r.fingerprint };
}

export function updateSecrets(db: Db, id: AccountId, s: Partial<AccountSecrets>): void {
  const cur = getSecrets(db, id);
  db.run(
    'UPDATE accounts SET password_hash = ?, public_key = ?, private_key = ?, fingerprint = ? WHERE id = ?',
    s.passwordHash ?? cur.passwordHash, s.publicKey ?? cur.publicKey, s.privateKey ?? cur.privateKey, s.fingerprint ?? cur.fingerprint, id,
  );
}

export function getCacheKey(db: Db, id: AccountId): Uint8Array | null {
  accountRow(db, id);
  return db.get<{ cache_key: Uint8Array | null }>('SELECT cache_key FROM accounts WHERE id = ?', id)?.cache_key ?? null;
}

export function setCacheKey(db: Db, id: AccountId, wrapped: Uint8Array | null): void {
  accountRow(db, id);
  db.run('UPDATE accounts SET cache_key = ? WHERE id = ?', wrapped, id);
}

/** Stores `wrapped` unless a key is there already; returns the stored one. */
export function initCacheKey(db: Db, id: AccountId, wrapped: Uint8Array): Uint8Array {
  accountRow(db, id);
  db.run('UPDATE accounts SET cache_key = ? WHERE id = ? AND cache_key IS NULL', wrapped, id);
  return getCacheKey(db, id) as Uint8Array;
}

export function createMailbox(db: Db, accountId: AccountId, name: string, specialUse: SpecialUse | null): MailboxInfo {
  accountRow(db, accountId);
  return toMailbox(insertMailbox(db, accountId, validateMailboxName(name), specialUse));
}

/** Deletes one mailbox row with its messages (bodies are freed by trigger). */
export function deleteMailbox(db: Db, id: MailboxId): void {
  const row = mailboxRow(db, id);
  if (row.name === 'INBOX') throw new NotAllowedError('INBOX cannot be deleted');
  db.run('DELETE FROM messages WHERE mailbox_id = ?', id);
  db.run('DELETE FROM expunged WHERE mailbox_id = ?', id);
  db.run('DELETE FROM mailboxes WHERE id = ?', id);
}

/** RENAME (RFC 3501 §6.3.5). Returns the renamed (or, for INBOX, the new)
 *  mailbox and the ids whose contents changed, for notification. */
export function renameMailbox(db: Db, id: MailboxId, newName: string): { info: MailboxInfo; touched: MailboxId[] } {
  const row = mailboxRow(db, id);
  const to = validateMailboxName(newName);
  const from = row.name;
  const accountId = row.account_id as AccountId;
  if (to === from || findMailbox(db, accountId, to)) throw new AlreadyExistsError('mailbox');

  if (from === 'INBOX') {
    // The messages move to a new mailbox (new UIDVALIDITY, same UIDs); INBOX
    // stays, empty, and reports them expunged; INBOX's children do not move.
    const target = insertMailbox(db, accountId, to, null);
    if (row.message_count > 0) {
      const inboxModSeq = row.highest_modseq + 1;
      const targetModSeq = target.highest_modseq + 1;
      db.run('INSERT INTO expunged (mailbox_id, uid, modseq) SELECT mailbox_id, uid, ? FROM messages WHERE mailbox_id = ?', inboxModSeq, id);
      db.run('UPDATE messages SET mailbox_id = ?, modseq = ? WHERE mailbox_id = ?', target.id, targetModSeq, id);
      db.run('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?', inboxModSeq, id);
      db.run('UPDATE mailboxes SET highest_modseq = ?, uid_next = ? WHERE id = ?', targetModSeq, row.uid_next, target.id);
    }
    return { info: toMailbox(mailboxRow(db, target.id as MailboxId)), touched: [id, target.id as MailboxId] };
  }

  if (isDescendant(to, from)) throw new NotAllowedError('cannot rename a mailbox into its own child');
  // Children are the names in [from + "/", from + "0"): "0" sorts right after "/".
  const upper = from + String.fromCharCode(MAILBOX_DELIMITER.charCodeAt(0) + 1);
  const family = [row, ...db.all<MailboxRow>(
    'SELECT * FROM mailboxes WHERE account_id = ? AND name > ? AND name < ?', accountId, from + MAILBOX_DELIMITER, upper,
  )];
  for (const m of family) {
    const target = renamedName(m.name, from, to);
    if (target.length > MAX_MAILBOX_NAME) throw new ValidationError('name', 'renamed child name is too long');
    if (m.id !== row.id && findMailbox(db, accountId, target)) throw new AlreadyExistsError('mailbox');
  }
  for (const m of family) db.run('UPDATE mailboxes SET name = ? WHERE id = ?', renamedName(m.name, from, to), m.id);
  return { info: toMailbox(mailboxRow(db, id)), touched: family.map((m) => m.id as MailboxId) };
}

export function setSubscribed(db: Db, accountId: AccountId, name: string, subscribed: boolean): void {
  accountRow(db, accountId);
  const canonical = validateMailboxName(name);
  if (subscribed) db.run('INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)', accountId, canonical);
  else db.run('DELETE FROM subscriptions WHERE account_id = ? AND name = ?', accountId, canonical);
}
