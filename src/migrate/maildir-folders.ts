// The folders of a Maildir++ tree (Courier's Maildir++, as Dovecot lays it
// out by default): the root Maildir is INBOX, each ".A.B" directory holding
// cur/ or new/ is folder "A/B", names in modified UTF-7 (RFC 3501 §5.1.3) as
// Dovecot writes them. Subscriptions come from Dovecot's `subscriptions` file
// (version 2: "V\t2\n\n" then one name per line, levels split by TAB; version
// 1: one name per line) or Courier's `courierimapsubscribed` ("INBOX.A.B").
// Dovecot's LAYOUT=fs (nested directories without dots) is not read.
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeMailboxName } from '../imap/protocol/utf7.ts';
import { MAILBOX_DELIMITER } from '../mailstore/types.ts';
import { fsError, MigrateError } from './errors.ts';
import type { MaildirFolder } from './types.ts';

/**
 * Lists the folders of the Maildir at `dir`: INBOX first (when the root is a
 * Maildir itself), then the Maildir++ subfolders sorted by name. A directory
 * without cur/ or new/ (tmp/, a plain ".hidden" directory) is not a folder.
 * @throws {MigrateError} MIGRATE_NOT_FOUND when `dir` does not exist,
 *   MIGRATE_UNREADABLE when it cannot be listed, MIGRATE_NOT_MAILDIR when it
 *   holds no folder at all
 */
export async function maildirFolders(dir: string): Promise<MaildirFolder[]> {
  const root = path.resolve(dir);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (err) {
    throw fsError(err, dir);
  }
  const subscriptions = await readSubscriptions(root);
  const subscribed = (name: string, rawName: string): boolean =>
    subscriptions === null || subscriptions.has(name) || subscriptions.has(rawName);
  const folders: MaildirFolder[] = [];
  for (const entry of entries) {
    if (!entry.name.startsWith('.') || entry.name === '.' || entry.name === '..') continue;
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const folderPath = path.join(root, entry.name);
    if (!(await isMaildir(folderPath))) continue;
    const levels = entry.name.slice(1).split('.');
    const name = levels.map(decodeLevel).join(MAILBOX_DELIMITER);
    folders.push({ name, path: folderPath, subscribed: subscribed(name, levels.join(MAILBOX_DELIMITER)) });
  }
  folders.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (await isMaildir(root)) folders.unshift({ name: 'INBOX', path: root, subscribed: true });
  if (folders.length === 0) throw new MigrateError('MIGRATE_NOT_MAILDIR', dir, null, `${dir}: no cur/ or new/ and no Maildir++ folders: not a Maildir`);
  return folders;
}

/** A level of a folder's directory name, decoded from modified UTF-7. A name
 *  that is not valid modified UTF-7 (a Dovecot with the UTF-8 option writes
 *  raw UTF-8) is taken as it is rather than refused. */
function decodeLevel(level: string): string {
  try {
    return decodeMailboxName(level);
  } catch {
    return level;
  }
}

async function isMaildir(dir: string): Promise<boolean> {
  for (const sub of ['cur', 'new']) {
    try {
      if ((await fs.stat(path.join(dir, sub))).isDirectory()) return true;
    } catch {
      // absent or unreadable: not this one
    }
  }
  return false;
}

/**
 * The subscribed folder names, each both decoded and as written (a Dovecot
 * subscriptions file holds UTF-8 names in version 2, modified UTF-7 in old
 * ones), or null when the Maildir keeps no subscriptions file.
 */
async function readSubscriptions(root: string): Promise<Set<string> | null> {
  const dovecot = await readOptional(path.join(root, 'subscriptions'));
  const courier = await readOptional(path.join(root, 'courierimapsubscribed'));
  if (dovecot === null && courier === null) return null;
  const names = new Set<string>();
  const addLevels = (levels: string[]): void => {
    if (levels.length === 0 || levels.some((level) => level === '')) return;
    names.add(levels.join(MAILBOX_DELIMITER));
    names.add(levels.map(decodeLevel).join(MAILBOX_DELIMITER));
  };
  if (dovecot !== null) {
    const version2 = dovecot.startsWith('V\t2\n\n');
    for (const line of (version2 ? dovecot.slice(5) : dovecot).split('\n')) {
      // Version 1 names use the namespace separator: "." for Maildir++, or "/".
      addLevels(version2 ? line.split('\t').map(tabUnescape) : line.split(/[./]/));
    }
  }
  if (courier !== null) {
    for (const line of courier.split('\n')) {
      const levels = line.trim().split('.');
      if (levels[0]?.toUpperCase() === 'INBOX' && levels.length > 1) levels.shift();
      addLevels(levels);
    }
  }
  return names;
}

/** Dovecot's str_tabunescape: \x01 followed by 1, t, r, n stands for \x01, TAB, CR, LF. */
function tabUnescape(s: string): string {
  if (!s.includes('\x01')) return s;
  const map: Readonly<Record<string, string>> = { '1': '\x01', t: '\t', r: '\r', n: '\n' };
  return s.replace(/\x01(.)/g, (whole, c: string) => map[c] ?? whole);
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(err, file);
  }
}
