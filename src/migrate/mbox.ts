// mbox reader (RFC 4155, mbox(5)): splits a file into messages at "From "
// lines, undoes ">From " quoting (mboxrd by default, mboxo on request), takes
// INTERNALDATE from the From line's asctime timestamp and flags from the
// status headers (flags.ts). Streams: it holds one read chunk, one unfinished
// line and the message being assembled, never the file, so a 2 GB mbox costs
// no more memory than its largest message.
//
// Where formats disagree, it follows what readers such as mutt do:
// - a "From " line separates messages only when it carries a timestamp, so an
//   unquoted "From here on..." in a body (Gmail exports, mboxcl files) does not
//   split it; the first line of the file needs no timestamp;
// - the one empty line a writer puts before the next From line belongs to the
//   mbox, not to the message; further empty lines are the message's own;
// - a UTF-8 byte order mark and empty lines before the first From line are
//   skipped, anything else there means the file is not an mbox.
import fs from 'node:fs/promises';
import { ValidationError } from '../errors/index.ts';
import { splitHeader } from '../mime/headers.ts';
import { headerDate, parseFromLineDate } from './dates.ts';
import { fsError, MigrateError } from './errors.ts';
import { maxMessageSize, skipOrThrow, toCrlf, tooLarge } from './files.ts';
import { mboxHeaderFlags } from './flags.ts';
import type { SourceMessage, SourceOptions } from './types.ts';

export interface MboxOptions extends SourceOptions {
  /** byte offset to start at: a `sourceId` from an earlier run, to resume an
   *  import; a "From " line must begin there. Default 0. */
  startOffset?: number;
  /** which ">From " lines lose a ">": 'mboxrd' (default) every line matching
   *  ^>+From , 'mboxo' only ^>From , 'none' (mboxcl2) no line */
  quoting?: 'mboxrd' | 'mboxo' | 'none';
  /** which "From " lines separate messages: 'dated' (default) those with an
   *  asctime timestamp, 'any' every one (for files whose writer put no
   *  timestamps, at the price of splitting at unquoted body lines) */
  separators?: 'dated' | 'any';
  /** bytes per read; default 256 KiB */
  chunkSize?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const CRLF = new Uint8Array([CR, LF]);
const FROM_ = Buffer.from('From ');
const DEFAULT_CHUNK = 256 * 1024;
/** An unfinished line this long is a body line: no From line is this long. */
const LONG_LINE = 64 * 1024;
/** Flags come from the first MiB of the header; a larger header is abuse. */
const MAX_HEADER_SCAN = 1024 * 1024;

/**
 * Reads the messages of an mbox file, in file order.
 * Errors are thrown when iteration reaches them (not by this call).
 * @throws {MigrateError} MIGRATE_NOT_FOUND, MIGRATE_UNREADABLE (also for a
 *   directory or a read error, with the offset), MIGRATE_NOT_MBOX (something
 *   other than a From line at the start or at `startOffset`, with its offset);
 *   MIGRATE_TOO_LARGE and MIGRATE_NOT_MESSAGE (a From line with nothing after
 *   it at the end of the file) unless `onSkip` takes them
 * @throws {ValidationError} for a bad option (field named)
 */
export async function* readMbox(file: string, options: MboxOptions = {}): AsyncGenerator<SourceMessage, void, undefined> {
  const max = maxMessageSize(options);
  const start = options.startOffset ?? 0;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(start) || start < 0) throw new ValidationError('startOffset', 'must be a non-negative integer');
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new ValidationError('chunkSize', 'must be a positive integer');
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw fsError(err, file);
  }
  try {
    const splitter = new MboxSplitter(file, start, max, options.quoting ?? 'mboxrd', options.separators ?? 'dated');
    let position = start;
    for (;;) {
      // A fresh chunk each time: finished messages never alias it, the carried line may.
      const chunk = Buffer.allocUnsafe(chunkSize);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(chunk, 0, chunkSize, position));
      } catch (err) {
        throw fsError(err, file, position);
      }
      if (bytesRead === 0) break;
      position += bytesRead;
      yield* deliver(splitter.push(chunk.subarray(0, bytesRead)), options);
    }
    yield* deliver(splitter.end(), options);
  } finally {
    await handle.close();
  }
}

function* deliver(items: Array<SourceMessage | MigrateError>, options: SourceOptions): Generator<SourceMessage> {
  for (const item of items) {
    if (item instanceof MigrateError) skipOrThrow(item, options);
    else yield item;
  }
}

/** A growing byte buffer for one message, never larger than the size limit. */
class Builder {
  private buf: Buffer;
  private length = 0;
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
    this.buf = Buffer.allocUnsafe(Math.min(16 * 1024, limit));
  }
  append(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (needed > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(needed, this.buf.length * 2), Math.max(needed, this.limit)));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    this.buf.set(bytes, this.length);
    this.length = needed;
  }
  /** The bytes, copied out when the buffer has much unused room. */
  bytes(): Uint8Array {
    const view = this.buf.subarray(0, this.length);
    return this.length < this.buf.length * 0.75 ? view.slice() : view;
  }
}

interface Message {
  /** file offset of its From line: the sourceId */
  offset: number;
  /** the From line's timestamp */
  date: Date | null;
  /** null once the message went over the limit (it is then only skipped over) */
  body: Builder | null;
  size: number;
  /** an empty line was read and not yet added: it is dropped if a From line follows */
  pendingBlank: boolean;
}

function startsWith(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (bytes.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** The line-level state machine; push() returns the messages (and per-message errors) completed. */
class MboxSplitter {
  private readonly file: string;
  private readonly max: number;
  private readonly quoting: 'mboxrd' | 'mboxo' | 'none';
  private readonly startOffset: number;
  private readonly anyFromLine: boolean;
  /** file offset of the next byte pushed */
  private position: number;
  /** the start of a line whose end has not been read yet */
  private carry: Buffer | null = null;
  private carryOffset = 0;
  /** inside a long line whose start was already taken as a body line */
  private inLongLine = false;
  /** no From line seen yet */
  private atStart = true;
  private current: Message | null = null;
  private out: Array<SourceMessage | MigrateError> = [];

  constructor(file: string, startOffset: number, max: number, quoting: 'mboxrd' | 'mboxo' | 'none', separators: 'dated' | 'any') {
    this.file = file;
    this.anyFromLine = separators === 'any';
    this.startOffset = startOffset;
    this.position = startOffset;
    this.max = max;
    this.quoting = quoting;
  }

  push(chunk: Buffer): Array<SourceMessage | MigrateError> {
    let data = chunk;
    let dataOffset = this.position;
    this.position += chunk.length;
    if (this.carry !== null) {
      data = Buffer.concat([this.carry, chunk]);
      dataOffset = this.carryOffset;
      this.carry = null;
    }
    let p = 0;
    if (this.inLongLine) {
      const lf = data.indexOf(LF);
      if (lf === -1) {
        this.continueLongLine(data, dataOffset);
        return this.take();
      }
      this.add(data.subarray(0, lf > 0 && data[lf - 1] === CR ? lf - 1 : lf));
      this.add(CRLF);
      this.inLongLine = false;
      p = lf + 1;
    }
    for (let lf = data.indexOf(LF, p); lf !== -1; lf = data.indexOf(LF, p)) {
      this.line(data.subarray(p, lf > p && data[lf - 1] === CR ? lf - 1 : lf), dataOffset + p, true);
      p = lf + 1;
    }
    if (p < data.length) {
      const rest = data.subarray(p);
      if (rest.length < LONG_LINE) {
        this.carry = rest;
        this.carryOffset = dataOffset + p;
      } else {
        this.startLongLine(rest, dataOffset + p);
      }
    }
    return this.take();
  }

  end(): Array<SourceMessage | MigrateError> {
    if (this.carry !== null) {
      // The last line has no line ending: it stays without one.
      if (this.inLongLine) this.add(this.carry);
      else this.line(this.carry, this.carryOffset, false);
      this.carry = null;
    }
    this.finish();
    return this.take();
  }

  private take(): Array<SourceMessage | MigrateError> {
    const out = this.out;
    this.out = [];
    return out;
  }

  /** One line, without its line ending (`eol` tells whether it had one). */
  private line(content: Uint8Array, offset: number, eol: boolean): void {
    if (this.atStart) {
      if (offset === this.startOffset && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) {
        content = content.subarray(3);
        offset += 3;
      }
      if (content.length === 0) return;
      if (!startsWith(content, 0, FROM_)) throw this.notMbox(offset);
      this.atStart = false;
      this.begin(offset, parseFromLineDate(fromLineText(content)));
      return;
    }
    if (startsWith(content, 0, FROM_)) {
      const date = parseFromLineDate(fromLineText(content));
      if (date !== null || this.anyFromLine) {
        this.finish();
        this.begin(offset, date);
        return;
      }
    }
    this.bodyLine(content, eol);
  }

  private bodyLine(content: Uint8Array, eol: boolean): void {
    const message = this.current!;
    if (content.length === 0 && eol) {
      if (message.pendingBlank) this.add(CRLF);
      message.pendingBlank = true;
      return;
    }
    if (message.pendingBlank) {
      this.add(CRLF);
      message.pendingBlank = false;
    }
    if (content[0] === GT && this.quoting !== 'none') {
      let k = 1;
      while (content[k] === GT) k++;
      if (startsWith(content, k, FROM_) && (this.quoting === 'mboxrd' || k === 1)) content = content.subarray(1);
    }
    this.add(content);
    if (eol) this.add(CRLF);
  }

  /** A line longer than LONG_LINE with no end yet: its start is a body line. */
  private startLongLine(rest: Buffer, offset: number): void {
    if (this.atStart) throw this.notMbox(offset);
    const heldCr = rest[rest.length - 1] === CR ? 1 : 0;
    this.bodyLine(rest.subarray(0, rest.length - heldCr), false);
    this.inLongLine = true;
    if (heldCr === 1) {
      this.carry = rest.subarray(rest.length - 1);
      this.carryOffset = offset + rest.length - 1;
    }
  }

  private continueLongLine(data: Buffer, offset: number): void {
    // A CR at the end may be the first half of a CRLF: hold it for the next chunk.
    const heldCr = data[data.length - 1] === CR ? 1 : 0;
    this.add(data.subarray(0, data.length - heldCr));
    if (heldCr === 1) {
      this.carry = data.subarray(data.length - 1);
      this.carryOffset = offset + data.length - 1;
    }
  }

  private begin(offset: number, date: Date | null): void {
    this.current = { offset, date, body: new Builder(this.max), size: 0, pendingBlank: false };
  }

  private add(bytes: Uint8Array): void {
    const message = this.current!;
    message.size += bytes.length;
    if (message.body === null) return;
    if (message.size > this.max) {
      message.body = null;
      this.out.push(tooLarge(this.file, message.offset, message.size, this.max));
      return;
    }
    message.body.append(bytes);
  }

  private finish(): void {
    const message = this.current;
    this.current = null;
    if (message === null || message.body === null) return;
    const raw = toCrlf(message.body.bytes()); // bare CRs inside lines
    if (raw.byteLength > this.max) {
      this.out.push(tooLarge(this.file, message.offset, raw.byteLength, this.max));
      return;
    }
    if (raw.byteLength === 0) {
      this.out.push(new MigrateError('MIGRATE_NOT_MESSAGE', this.file, message.offset, `${this.file} at byte ${message.offset}: From line with no message after it`));
      return;
    }
    const header = headerBytes(raw);
    this.out.push({
      raw,
      flags: mboxHeaderFlags(splitHeader(header)),
      internalDate: message.date ?? headerDate(header),
      sourceId: String(message.offset),
      size: raw.byteLength,
    });
  }

  private notMbox(offset: number): MigrateError {
    return new MigrateError('MIGRATE_NOT_MBOX', this.file, offset, `${this.file}: no "From " line at byte ${offset}: not an mbox file`);
  }
}

/** A From line as text; the timestamp sits in its first few dozen bytes. */
function fromLineText(content: Uint8Array): string {
  return Buffer.from(content.buffer, content.byteOffset, Math.min(content.byteLength, 512)).toString('latin1');
}

/** The header of a CRLF message: up to and with the CRLF before the empty line. */
function headerBytes(raw: Uint8Array): Uint8Array {
  if (raw[0] === CR && raw[1] === LF) return raw.subarray(0, 0);
  const buf = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, MAX_HEADER_SCAN));
  const blank = buf.indexOf('\r\n\r\n');
  return blank === -1 ? buf : buf.subarray(0, blank + 2);
}
