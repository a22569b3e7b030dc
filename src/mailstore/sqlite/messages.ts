// Messages in SQLite: APPEND (RFC 3501 §6.3.11), FETCH data (§6.4.5), STORE
// (§6.4.6, RFC 7162 §3.1.3 UNCHANGEDSINCE), COPY/MOVE (§6.4.7, RFC 6851),
// EXPUNGE (§6.4.3, RFC 4315 UID EXPUNGE) and CONDSTORE/QRESYNC change lists
// (RFC 7162 §3.1.4, §3.2.5). Functions run inside the caller's transaction.
//
// Sets of UIDs are sent to SQLite as one JSON array of [first, last] ranges and
// joined against the clustered (mailbox_id, uid) key, so FETCH 1:* of 10,000
// messages is one statement of range seeks, never one query per UID.
//
// With a BodyCipher the `data` column is sealed per account (body-cipher.ts);
// the index columns (header, structure, envelope, search text) are not.
import { NotFoundError } from '../../errors/index.ts';
import type { MimeNode } from '../../mime/types.ts';
import { applyFlags } from '../flags.ts';
import type { PreparedMessage } from '../prepare.ts';
import type { BodyCipher } from '../body-cipher.ts';
import type { AccountId, ChangesSince, MessageRef, SealedRef, CopyResult, FlagMode, MailboxId, MessageFields, MessageRecord, MessageState, ModSeq, StoreFlagsResult, Uid, UidValidity } from '../types.ts';
import type { Db } from './db.ts';
import { mailboxRow } from './mailboxes.ts';

interface StateRow { uid: number; flags: string; modseq: number }

/** Flags are atoms (no spaces), so a space-joined string is a cheap exact encoding. */
const encodeFlags = (flags: readonly string[]): string => flags.join(' ');
const decodeFlags = (s: string): string[] => (s === '' ? [] : s.split(' '));
const toState = (r: StateRow): MessageState => ({ uid: r.uid as Uid, flags: decodeFlags(r.flags), modSeq: r.modseq as ModSeq });

/** Sorted, de-duplicated UIDs folded into [first, last] ranges, as JSON. */
export function uidRanges(uids: readonly Uid[]): string {
  const sorted = Float64Array.from(uids).sort();
  const ranges: Array<[number, number]> = [];
  for (const uid of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && uid <= last[1] + 1) last[1] = Math.max(last[1], uid);
    else ranges.push([uid, uid]);
  }
  return JSON.stringify(ranges);
}

// CROSS JOIN keeps json_each as the outer loop: each range is one seek on the primary key.
const IN_RANGES = `FROM json_each(?) AS r CROSS JOIN messages AS m
  ON m.mailbox_id = ? AND m.uid BETWEEN r.value ->> 0 AND r.value ->> 1`;

export const SQL = {
  list: 'SELECT uid, flags, modseq FROM messages WHERE mailbox_id = ? ORDER BY uid',
  recent: 'SELECT count(*) AS n FROM messages WHERE mailbox_id = ? AND uid >= ?',
  changed: 'SELECT uid, flags, modseq FROM messages WHERE mailbox_id = ? AND modseq > ?',
  expungedSince: 'SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ?',
  deleted: 'SELECT uid FROM messages WHERE mailbox_id = ? AND deleted = 1 ORDER BY uid',
  meta: `SELECT m.uid, m.flags, m.modseq, m.internal_date, m.size ${IN_RANGES}`,
  full: `SELECT m.uid, m.flags, m.modseq, m.internal_date, m.size, b.structure, b.header ${IN_RANGES}
    JOIN bodies AS b ON b.id = m.body_id`,
  summary: `SELECT m.uid, m.flags, m.modseq, m.internal_date, m.size, b.envelope, b.bodystructure ${IN_RANGES}
    JOIN bodies AS b ON b.id = m.body_id`,
  summaryFull: `SELECT m.uid, m.flags, m.modseq, m.internal_date, m.size, b.envelope, b.bodystructure, b.structure, b.header ${IN_RANGES}
    JOIN bodies AS b ON b.id = m.body_id`,
  rows: `SELECT m.uid, m.body_id, m.flags, m.seen, m.deleted, m.internal_date, m.size, m.modseq, m.expires ${IN_RANGES}`,
  body: 'SELECT b.data FROM messages AS m JOIN bodies AS b ON b.id = m.body_id WHERE m.mailbox_id = ? AND m.uid = ?',
} as const;

const byUid = (a: { uid: number }, b: { uid: number }): number => a.uid - b.uid;

export function listMessages(db: Db, id: MailboxId): MessageState[] {
  mailboxRow(db, id);
  return db.all<StateRow>(SQL.list, id).map(toState);
}

interface RecordRow extends StateRow {
  internal_date: number;
  size: number;
  structure?: string;
  header?: Uint8Array;
  envelope?: string;
  bodystructure?: string;
}

export function getMessages(db: Db, id: MailboxId, uids: readonly Uid[], fields: MessageFields): MessageRecord[] {
  mailboxRow(db, id);
  if (uids.length === 0) return [];
  const withBody = fields.structure === true || fields.header === true;
  let sql: string = fields.summary ? (withBody ? SQL.summaryFull : SQL.summary) : withBody ? SQL.full : SQL.meta;
  const params: Array<string | number> = [uidRanges(uids), id];
  if (fields.headerContains !== undefined) {
    // instr() runs in SQLite over the text decoded at delivery: no header leaves the database unless it can match.
    if (sql === SQL.meta) sql = SQL.full;
    sql += ' WHERE instr(b.search_header, ?) > 0';
    params.push(fields.headerContains);
  }
  const rows = db.all<RecordRow>(sql, ...params).sort(byUid);
  return rows.map((r) => {
    const rec: MessageRecord = { ...toState(r), internalDate: new Date(r.internal_date), size: r.size };
    if (fields.structure && r.structure !== undefined) rec.structure = JSON.parse(r.structure) as MimeNode;
    if (fields.header && r.header !== undefined) rec.header = r.header;
    if (fields.summary && r.envelope !== undefined && r.bodystructure !== undefined) rec.summary = { envelope: r.envelope, bodyStructure: r.bodystructure };
    return rec;
  });
}

/** The stored message, opened with `cipher` when the store seals bodies. */
export function getBody(db: Db, id: MailboxId, uid: Uid, cipher: BodyCipher | null): Uint8Array {
  const box = mailboxRow(db, id);
  const row = db.get<{ data: Uint8Array }>(SQL.body, id, uid);
  if (!row) throw new NotFoundError('message');
  return cipher ? cipher.open(box.account_id as AccountId, row.data) : row.data;
}

export function recentCount(db: Db, id: MailboxId, firstRecent: number): number {
  return db.get<{ n: number }>(SQL.recent, id, firstRecent)?.n ?? 0;
}

/** What appendPrepared takes: a message prepared once (prepare.ts) with its state. */
export interface PreparedAppend {
  message: PreparedMessage;
  flags: string[];
  internalDate: Date;
  expires: number | null;
  sealed: SealedRef | null;
}

/** Appends already-prepared messages; they share one new MODSEQ. With a
 *  cipher, the `data` column holds the sealed message (size stays the clear size). */
export function appendPrepared(
  db: Db, id: MailboxId, items: ReadonlyArray<PreparedAppend>, cipher: BodyCipher | null,
): { uids: Uid[]; uidValidity: UidValidity } {
  const box = mailboxRow(db, id);
  const accountId = box.account_id as AccountId;
  const modSeq = box.highest_modseq + 1;
  let uid = box.uid_next;
  const uids: Uid[] = [];
  for (const { message, flags, internalDate, expires, sealed } of items) {
    const { data, header, structure, summary, searchHeader } = message;
    const { lastInsertRowid: bodyId } = db.run(
      'INSERT INTO bodies (data, header, structure, envelope, bodystructure, search_header, size, sealed_cid, sealed_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      cipher ? cipher.seal(accountId, data) : data, header, JSON.stringify(structure), summary.envelope, summary.bodyStructure, searchHeader, data.byteLength,
      sealed?.cid ?? null, sealed?.offset ?? 0,
    );
    insertMessage(db, id, uid, bodyId, flags, internalDate.getTime(), modSeq, data.byteLength, expires);
    uids.push(uid++ as Uid);
  }
  db.run('UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?', uid, modSeq, id);
  return { uids, uidValidity: box.uid_validity as UidValidity };
}

function insertMessage(
  db: Db, id: MailboxId, uid: number, bodyId: number, flags: readonly string[], internalDate: number, modSeq: number, size: number, expires: number | null,
): void {
  db.run(
    'INSERT INTO messages (mailbox_id, uid, body_id, flags, seen, deleted, internal_date, modseq, size, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    id, uid, bodyId, encodeFlags(flags), flags.includes('\\Seen') ? 1 : 0, flags.includes('\\Deleted') ? 1 : 0, internalDate, modSeq, size, expires,
  );
}

export function storeFlags(db: Db, id: MailboxId, uids: readonly Uid[], mode: FlagMode, given: string[], unchangedSince?: ModSeq): StoreFlagsResult {
  const box = mailboxRow(db, id);
  const result: StoreFlagsResult = { changed: [], unchanged: [], modified: [] };
  if (uids.length === 0) return result;
  const updates: Array<[Uid, string[]]> = [];
  for (const r of db.all<StateRow>(SQL.meta, uidRanges(uids), id).sort(byUid)) {
    if (unchangedSince !== undefined && r.modseq > unchangedSince) {
      result.modified.push(r.uid as Uid);
      continue;
    }
    const state = toState(r);
    const next = applyFlags(state.flags, mode, given);
    if (next) updates.push([state.uid, next]);
    else result.unchanged.push(state);
  }
  if (updates.length === 0) return result;
  const modSeq = (box.highest_modseq + 1) as ModSeq;
  for (const [uid, flags] of updates) {
    db.run(
      'UPDATE messages SET flags = ?, seen = ?, deleted = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?',
      encodeFlags(flags), flags.includes('\\Seen') ? 1 : 0, flags.includes('\\Deleted') ? 1 : 0, modSeq, id, uid,
    );
    result.changed.push({ uid, flags, modSeq });
  }
  db.run('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?', modSeq, id);
  return result;
}

interface CopyRow { uid: number; body_id: number; flags: string; internal_date: number; size: number; expires: number | null }

/** COPY: new UIDs in the destination, bodies shared (refcount). Returns the map. */
export function copyMessages(db: Db, id: MailboxId, uids: readonly Uid[], destination: MailboxId): CopyResult {
  mailboxRow(db, id);
  const dst = mailboxRow(db, destination);
  const map: Array<[Uid, Uid]> = [];
  if (uids.length > 0) {
    const rows = db.all<CopyRow>(SQL.rows, uidRanges(uids), id).sort(byUid);
    const modSeq = dst.highest_modseq + 1;
    let uid = dst.uid_next;
    for (const r of rows) {
      insertMessage(db, destination, uid, r.body_id, decodeFlags(r.flags), r.internal_date, modSeq, r.size, r.expires);
      map.push([r.uid as Uid, uid++ as Uid]);
    }
    if (map.length > 0) db.run('UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?', uid, modSeq, destination);
  }
  return { uidValidity: dst.uid_validity as UidValidity, map };
}

/** Removes the given (existing) UIDs and remembers them for QRESYNC VANISHED. */
export function removeMessages(db: Db, id: MailboxId, uids: readonly Uid[]): void {
  if (uids.length === 0) return;
  const modSeq = mailboxRow(db, id).highest_modseq + 1;
  for (const uid of uids) {
    db.run('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?', id, uid);
    db.run('INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)', id, uid, modSeq);
  }
  db.run('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?', modSeq, id);
}

export function expunge(db: Db, id: MailboxId, uids?: readonly Uid[]): Uid[] {
  mailboxRow(db, id);
  let gone = db.all<{ uid: number }>(SQL.deleted, id).map((r) => r.uid as Uid);
  if (uids) {
    const wanted = new Set(uids);
    gone = gone.filter((u) => wanted.has(u));
  }
  removeMessages(db, id, gone);
  return gone;
}

export function changesSince(db: Db, id: MailboxId, modSeq: ModSeq): ChangesSince {
  const box = mailboxRow(db, id);
  return {
    changed: db.all<StateRow>(SQL.changed, id, modSeq).sort(byUid).map(toState),
    expunged: db.all<{ uid: number }>(SQL.expungedSince, id, modSeq).map((r) => r.uid as Uid).sort((a, b) => a - b),
    highestModSeq: box.highest_modseq as ModSeq,
  };
}

/** Expunges every message due at `now` from every mailbox; returns the mailboxes touched and the count. */
export function expireMessages(db: Db, now: number): { touched: MailboxId[]; count: number } {
  const due = db.all<{ mailbox_id: number; uid: number }>('SELECT mailbox_id, uid FROM messages WHERE expires IS NOT NULL AND expires <= ?', now);
  const byBox = new Map<MailboxId, Uid[]>();
  for (const r of due) {
    const list = byBox.get(r.mailbox_id as MailboxId) ?? [];
    list.push(r.uid as Uid);
    byBox.set(r.mailbox_id as MailboxId, list);
  }
  for (const [id, uids] of byBox) removeMessages(db, id, uids);
  db.run('DELETE FROM sent_expiry WHERE expires <= ?', now);
  return { touched: [...byBox.keys()], count: due.length };
}

/** One message per unsealed body of the account that does not expire (mailstore/types.ts unsealedMessages). */
export function unsealedMessages(db: Db, accountId: AccountId, limit: number): Array<{ mailboxId: MailboxId; uid: Uid }> {
  // The lowest (mailbox, uid) holding each body, as one integer (UIDs are 32-bit).
  return db.all<{ k: number }>(
    `SELECT min(m.mailbox_id * 4294967296 + m.uid) AS k FROM bodies AS b INDEXED BY bodies_unsealed
       JOIN messages AS m ON m.body_id = b.id JOIN mailboxes AS x ON x.id = m.mailbox_id
       WHERE b.sealed_cid IS NULL AND x.account_id = ?
       GROUP BY b.id HAVING max(m.expires IS NOT NULL) = 0 ORDER BY b.id LIMIT ?`,
    accountId, limit,
  ).map(({ k }) => ({ mailboxId: Math.floor(k / 4294967296) as MailboxId, uid: (k % 4294967296) as Uid }));
}

/** Records where the message's body is sealed; copies share the body row, so they follow. */
export function setSealed(db: Db, id: MailboxId, uid: Uid, sealed: SealedRef): void {
  const row = db.get<{ body_id: number }>('SELECT body_id FROM messages WHERE mailbox_id = ? AND uid = ?', id, uid);
  if (!row) throw new NotFoundError('message');
  db.run('UPDATE bodies SET sealed_cid = ?, sealed_offset = ? WHERE id = ?', sealed.cid, sealed.offset, row.body_id);
}

export function messageRefs(db: Db, id: MailboxId): MessageRef[] {
  mailboxRow(db, id);
  return db.all<StateRow & { internal_date: number; size: number; expires: number | null; sealed_cid: string | null; sealed_offset: number }>(
    `SELECT m.uid, m.flags, m.modseq, m.internal_date, m.size, m.expires, b.sealed_cid, b.sealed_offset
       FROM messages AS m JOIN bodies AS b ON b.id = m.body_id WHERE m.mailbox_id = ? ORDER BY m.uid`,
    id,
  ).map((r) => ({
    ...toState(r), internalDate: new Date(r.internal_date), size: r.size, expires: r.expires,
    sealed: r.sealed_cid === null ? null : { cid: r.sealed_cid, offset: r.sealed_offset },
  }));
}
