// Imported source messages (migrate/): which source ids an account has taken
// in, written in the same transaction as the append, so an import that is
// interrupted at any point and run again neither loses nor duplicates.
import type { AccountId, AppendResult, MailboxId, Uid } from '../types.ts';
import type { Db } from './db.ts';
import { mailboxRow } from './mailboxes.ts';
import { appendPrepared, type PreparedAppend } from './messages.ts';
import type { BodyCipher } from '../body-cipher.ts';

/** Appends the items whose source is new to the account; null for the others. Runs in the caller's transaction. */
export function importPrepared(
  db: Db, id: MailboxId, items: ReadonlyArray<PreparedAppend & { source: string }>, cipher: BodyCipher | null,
): Array<AppendResult | null> {
  const accountId = mailboxRow(db, id).account_id;
  const seen = new Set<string>();
  const fresh: Array<PreparedAppend & { source: string; index: number }> = [];
  items.forEach((item, index) => {
    if (seen.has(item.source)) return; // the same source twice in one call: once
    seen.add(item.source);
    if (db.get('SELECT 1 AS x FROM imports WHERE account_id = ? AND source = ?', accountId, item.source) === undefined) fresh.push({ ...item, index });
  });
  const results: Array<AppendResult | null> = items.map(() => null);
  if (fresh.length === 0) return results;
  const { uids, uidValidity } = appendPrepared(db, id, fresh, cipher);
  fresh.forEach((item, i) => {
    const uid = uids[i] as Uid;
    db.run('INSERT INTO imports (account_id, source, mailbox_id, uid) VALUES (?, ?, ?, ?)', accountId, item.source, id, uid);
    results[item.index] = { uid, uidValidity };
  });
  return results;
}

export function importedSources(db: Db, accountId: AccountId, sources: readonly string[]): Set<string> {
  const found = new Set<string>();
  if (sources.length === 0) return found;
  for (const row of db.all<{ source: string }>(
    // CROSS JOIN keeps json_each outside: one primary-key seek per id, not a scan of the account's imports per id.
    'SELECT i.source FROM json_each(?) AS s CROSS JOIN imports AS i ON i.account_id = ? AND i.source = s.value',
    JSON.stringify(sources), accountId,
  )) found.add(row.source);
  return found;
}
