// .eml reader: each file is one RFC 5322 message. INTERNALDATE is the Date:
// header's (§3.6.1), else the file's mtime; .eml files carry no flags. Two
// things some saving programs add are taken off: a UTF-8 byte order mark, and
// an mbox "From " envelope line before the header (its timestamp is used when
// the message has no Date:).
import path from 'node:path';
import { headerDate, parseFromLineDate } from './dates.ts';
import { MigrateError } from './errors.ts';
import { maxMessageSize, readMessageFile, skipOrThrow } from './files.ts';
import type { SourceMessage, SourceOptions } from './types.ts';

const CRLF_CRLF = Buffer.from('\r\n\r\n');
// A header field starts with its name (printable ASCII but ":") and a colon;
// blanks before the colon are the obsolete syntax of RFC 5322 §4.5.
const FIELD_START = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/**
 * Reads the given .eml files, one message each, in the order given. The
 * sourceId is the file's absolute path.
 * Errors are thrown when iteration reaches them (not by this call).
 * @throws {MigrateError} per file MIGRATE_NOT_FOUND, MIGRATE_UNREADABLE,
 *   MIGRATE_TOO_LARGE, MIGRATE_NOT_MESSAGE (empty, or no header field at the
 *   start) unless `onSkip` takes them
 * @throws {ValidationError} for a bad maxMessageSize
 */
export async function* readEml(files: readonly string[], options: SourceOptions = {}): AsyncGenerator<SourceMessage, void, undefined> {
  const max = maxMessageSize(options);
  for (const file of files) {
    let read;
    try {
      read = await readMessageFile(file, max);
    } catch (err) {
      if (!(err instanceof MigrateError)) throw err;
      skipOrThrow(err, options);
      continue;
    }
    let raw = Buffer.from(read.raw.buffer, read.raw.byteOffset, read.raw.byteLength);
    if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) raw = raw.subarray(3);
    let envelopeDate: Date | null = null;
    if (raw.subarray(0, 5).toString('latin1') === 'From ') {
      const eol = raw.indexOf('\r\n');
      envelopeDate = parseFromLineDate(raw.subarray(0, eol === -1 ? raw.length : eol).toString('latin1'));
      raw = raw.subarray(eol === -1 ? raw.length : eol + 2);
    }
    const firstLine = raw.subarray(0, Math.min(raw.length, 1000)).toString('latin1');
    if (!FIELD_START.test(firstLine)) {
      skipOrThrow(new MigrateError('MIGRATE_NOT_MESSAGE', file, null, `${file}: ${raw.length === 0 ? 'empty' : 'does not start with a header field'}: not a message`), options);
      continue;
    }
    const blank = raw.indexOf(CRLF_CRLF);
    const header = blank === -1 ? raw : raw.subarray(0, blank + 2);
    yield {
      raw,
      flags: [],
      internalDate: headerDate(header) ?? envelopeDate ?? read.mtime,
      sourceId: path.resolve(file),
      size: raw.byteLength,
    };
  }
}
