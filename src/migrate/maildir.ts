// Maildir reader (cr.yp.to/proto/maildir.html, Maildir++ folders as in
// maildir-folders.ts): every message file of new/ and cur/ (tmp/ holds
// unfinished deliveries and is ignored), flags from the ":2,<letters>" info
// of cur/ names with keyword letters looked up in the folder's
// dovecot-keywords, INTERNALDATE from the file's mtime as Dovecot reports it.
// new/ messages have no flags: nobody has seen them. Messages come in arrival
// order: by the delivery time that starts a unique name, then by name.
//
// The Maildir should not be in use during an import: a file a client moves
// or expunges between listing and reading is reported as MIGRATE_NOT_FOUND.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsError, MigrateError } from './errors.ts';
import { maxMessageSize, readMessageFile, skipOrThrow } from './files.ts';
import { maildirInfoFlags, parseDovecotKeywords } from './flags.ts';
import { maildirFolders } from './maildir-folders.ts';
import type { MaildirFolder, MaildirSourceMessage, SourceOptions } from './types.ts';

export { maildirFolders } from './maildir-folders.ts';

export interface MaildirOptions extends SourceOptions {
  /** read only these folders (names as maildirFolders gives them); default all */
  folders?: readonly string[];
}

/**
 * Reads every message of the Maildir at `dir`, folder by folder in
 * maildirFolders() order. Each message's sourceId is "<folder>/<unique name>"
 * (the file name without its info), which stays the same when a client moves
 * the file from new/ to cur/ or changes its flags.
 * Errors are thrown when iteration reaches them (not by this call).
 * @throws {MigrateError} as maildirFolders(); per message MIGRATE_TOO_LARGE,
 *   MIGRATE_UNREADABLE and MIGRATE_NOT_FOUND (vanished) unless `onSkip` takes them
 * @throws {ValidationError} for a bad maxMessageSize
 */
export async function* readMaildir(dir: string, options: MaildirOptions = {}): AsyncGenerator<MaildirSourceMessage, void, undefined> {
  maxMessageSize(options);
  const wanted = options.folders === undefined ? null : new Set(options.folders);
  for (const folder of await maildirFolders(dir)) {
    if (wanted === null || wanted.has(folder.name)) yield* readMaildirFolder(folder, options);
  }
}

/**
 * Reads the messages of one folder (from maildirFolders()).
 * @throws {MigrateError} MIGRATE_UNREADABLE when cur/ or new/ cannot be
 *   listed; per message as readMaildir()
 */
export async function* readMaildirFolder(folder: MaildirFolder, options: SourceOptions = {}): AsyncGenerator<MaildirSourceMessage, void, undefined> {
  const max = maxMessageSize(options);
  const keywords = parseDovecotKeywords(await readKeywordsFile(folder.path));
  const files = [...(await listMessages(folder.path, 'new')), ...(await listMessages(folder.path, 'cur'))];
  files.sort(arrivalOrder);
  for (const file of files) {
    let read;
    try {
      read = await readMessageFile(file.path, max);
    } catch (err) {
      skipOrThrow(err instanceof MigrateError ? err : fsError(err, file.path), options);
      continue;
    }
    yield {
      raw: read.raw,
      flags: file.info === null ? [] : maildirInfoFlags(file.info, keywords),
      internalDate: read.mtime,
      sourceId: `${folder.name}/${file.unique}`,
      size: read.raw.byteLength,
      folder: folder.name,
    };
  }
}

interface MessageFileName {
  path: string;
  /** the name without its info: stable for the message's life */
  unique: string;
  /** the flag letters after "2,", null in new/ or without info */
  info: string | null;
  /** the delivery time (seconds) a unique name starts with, for ordering */
  time: number;
}

/** Splits "1577959200.M1P2.host,S=12:2,RS" into unique name and info. Besides
 *  ":", mbsync on Windows-like file systems writes ";" and some Dovecot
 *  builds "!" before the "2,". */
export function splitMaildirName(name: string): { unique: string; info: string | null } {
  let cut = -1;
  for (const sep of [':2,', ';2,', '!2,']) cut = Math.max(cut, name.lastIndexOf(sep));
  if (cut > 0) return { unique: name.slice(0, cut), info: name.slice(cut + 3) };
  const colon = name.lastIndexOf(':'); // ":1,..." (experimental info) or none
  return colon > 0 ? { unique: name.slice(0, colon), info: null } : { unique: name, info: null };
}

async function listMessages(folder: string, sub: 'new' | 'cur'): Promise<MessageFileName[]> {
  const dir = path.join(folder, sub);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fsError(err, dir);
  }
  const out: MessageFileName[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue; // not a delivery (".DS_Store", editors' files)
    const { unique, info } = splitMaildirName(name);
    const time = /^\d+/.exec(unique);
    out.push({ path: path.join(dir, name), unique, info: sub === 'cur' ? info : null, time: time ? Number(time[0]) : Number.MAX_SAFE_INTEGER });
  }
  return out;
}

function arrivalOrder(a: MessageFileName, b: MessageFileName): number {
  if (a.time !== b.time) return a.time - b.time;
  return a.unique < b.unique ? -1 : a.unique > b.unique ? 1 : 0;
}

async function readKeywordsFile(folder: string): Promise<string> {
  const file = path.join(folder, 'dovecot-keywords');
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw fsError(err, file);
  }
}
