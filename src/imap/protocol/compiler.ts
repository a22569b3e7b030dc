// Turns response values into wire bytes (RFC 3501 §4 data formats, §7
// responses): atoms and numbers verbatim, strings quoted when safe and short
// and as literals otherwise, NIL, nested lists, one CRLF per response.
// Text is gathered in a JS string (V8 ropes make += cheap) and only flushed
// to a Buffer around literal bytes, so a large FETCH costs one concat.
import type { Response, ResponseValue } from './types.ts';

/** Longest string sent quoted; longer ones go as literals (as Dovecot does). */
const MAX_QUOTED = 1024;
/** Bytes allowed inside a quoted string: CHAR minus NUL, CR, LF (RFC 3501 §9 TEXT-CHAR). */
const QUOTABLE_TEXT = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const NEEDS_ESCAPE = /["\\]/g;

class Writer {
  private text = '';
  private readonly parts: Buffer[] = [];
  private size = 0;

  str(s: string): void {
    this.text += s;
  }

  bytes(b: Uint8Array): void {
    this.flush();
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.parts.push(buf);
    this.size += buf.length;
  }

  private flush(): void {
    if (this.text.length === 0) return;
    const buf = Buffer.from(this.text, 'utf8');
    this.parts.push(buf);
    this.size += buf.length;
    this.text = '';
  }

  done(): Buffer {
    this.flush();
    if (this.parts.length === 1) return this.parts[0]!;
    return Buffer.concat(this.parts, this.size);
  }

  /** the pieces without joining them: literal bytes stay the caller's buffers */
  pieces(): Buffer[] {
    this.flush();
    return this.parts;
  }
}

/** The wire bytes of one response, ending in CRLF. */
export function compileResponse(r: Response): Buffer {
  return build(r).done();
}

/** The same bytes as compileResponse, as pieces to write in order: a FETCH
 *  of a large message body is sent without copying the body once more. */
export function compileResponsePieces(r: Response): Buffer[] {
  return build(r).pieces();
}

function build(r: Response): Writer {
  const w = new Writer();
  w.str(r.tag);
  if (r.values.length === 0 && r.tag === '+') w.str(' ');
  for (const v of r.values) {
    w.str(' ');
    writeValue(w, v);
  }
  w.str('\r\n');
  return w;
}

function writeValue(w: Writer, v: ResponseValue): void {
  if (v === null) return w.str('NIL');
  if (typeof v === 'number') return w.str(String(v));
  if (typeof v === 'bigint') return w.str(v.toString());
  if (Array.isArray(v)) {
    w.str('(');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) w.str(' ');
      writeValue(w, v[i]!);
    }
    return w.str(')');
  }
  switch (v.type) {
    case 'atom':
      return w.str(v.value);
    case 'raw':
      return typeof v.value === 'string' ? w.str(v.value) : w.bytes(v.value);
    case 'literal':
      w.str(`{${v.value.length}}\r\n`);
      return w.bytes(v.value);
    case 'string':
      return writeString(w, v.value);
  }
}

function writeString(w: Writer, value: string | Uint8Array): void {
  if (typeof value === 'string') {
    if (value.length <= MAX_QUOTED && QUOTABLE_TEXT.test(value)) {
      w.str(`"${value.replace(NEEDS_ESCAPE, '\\$&')}"`);
      return;
    }
    const bytes = Buffer.from(value, 'utf8');
    w.str(`{${bytes.length}}\r\n`);
    return w.bytes(bytes);
  }
  if (value.length <= MAX_QUOTED && quotableBytes(value)) {
    w.str(`"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1').replace(NEEDS_ESCAPE, '\\$&')}"`);
    return;
  }
  w.str(`{${value.length}}\r\n`);
  w.bytes(value);
}

function quotableBytes(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0x7f) return false;
  }
  return true;
}

/** "* ..." with the given values. */
export function untagged(...values: ResponseValue[]): Response {
  return { tag: '*', values };
}

export type Status = 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';

/**
 * A status response: `tag status [code] text` (RFC 3501 §7.1). `code` may be
 * given with or without its brackets ("UIDNEXT 5" or "[UIDNEXT 5]"). CR and LF
 * in `text` are replaced, since resp-text is one line.
 */
export function tagged(tag: string, status: Status, text: string, code?: string): Response {
  const clean = text.replace(/[\r\n\0]+/g, ' ');
  const prefix = code === undefined || code === '' ? '' : code.startsWith('[') ? `${code} ` : `[${code}] `;
  return { tag, values: [{ type: 'atom', value: status }, { type: 'raw', value: prefix + clean }] };
}

/** "+ text": a continuation request (RFC 3501 §7.5). */
export function continuationRequest(text: string): Response {
  return { tag: '+', values: [{ type: 'raw', value: text.replace(/[\r\n\0]+/g, ' ') }] };
}

/** Value constructors, so handlers read like the responses they build. */
export const atom = (value: string): ResponseValue => ({ type: 'atom', value });
export const str = (value: string | Uint8Array): ResponseValue => ({ type: 'string', value });
export const literal = (value: Uint8Array): ResponseValue => ({ type: 'literal', value });
export const raw = (value: string | Uint8Array): ResponseValue => ({ type: 'raw', value });
