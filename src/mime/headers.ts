// Header-field helpers: splitting a header block into fields (RFC 5322 §2.2,
// unfolding per §2.2.3) and parsing Content-Type / Content-Disposition values
// with parameters (RFC 2045 §5.1, RFC 2183 §2) including RFC 2231 continuations
// and charset/language-tagged values.

import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import type { MimeParams } from './types.ts';

export interface HeaderField {
  /** field name as written ('' for a line with no colon) */
  name: string;
  lowerName: string;
  /** the whole field, continuation lines and the final CRLF included */
  raw: Uint8Array;
  /** unfolded value, leading and trailing blanks removed, each fold (CRLF and
   *  the blanks after it) turned into one space as Dovecot does (its ENVELOPE
   *  gives "Lunch tomorrow?" for "Lunch\r\n  tomorrow?"); UTF-8 when the bytes
   *  are valid UTF-8, otherwise Latin-1 so that no byte is lost */
  value: string;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Bytes to string: ASCII and valid UTF-8 as UTF-8, anything else as Latin-1. */
export function bytesToString(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buf)) return buf.toString('latin1');
  return isUtf8(buf) ? buf.toString('utf8') : buf.toString('latin1');
}

function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HT)) a++;
  while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HT)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function makeField(bytes: Uint8Array, start: number, end: number): HeaderField {
  const raw = bytes.subarray(start, end);
  // The name ends at the first colon of the first line.
  let colon = -1;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === COLON) { colon = i; break; }
    if (c === CR || c === LF) break;
  }
  if (colon === -1) return { name: '', lowerName: '', raw, value: '' };
  const name = trimBlanks(bytesToString(bytes.subarray(start, colon)));
  let text = bytesToString(bytes.subarray(colon + 1, end));
  // Unfolding (RFC 5322 §2.2.3), with the fold's blanks collapsed to one space
  // like Dovecot's CLEAN_ONELINE header parsing.
  if (text.includes('\r') || text.includes('\n')) text = text.replace(/(?:\r\n|\r|\n)[ \t]*/g, ' ');
  return { name, lowerName: name.toLowerCase(), raw, value: trimBlanks(text) };
}

/** Split a header block (the bytes before the blank line, or with it) into
 *  fields in message order. A line starting with a blank continues the field
 *  before it; the blank line itself, if present, ends the header. */
export function splitHeader(headerBytes: Uint8Array): HeaderField[] {
  const out: HeaderField[] = [];
  const n = headerBytes.length;
  let fieldStart = -1;
  let p = 0;
  while (p < n) {
    const first = headerBytes[p];
    if (first === CR && headerBytes[p + 1] === LF) break; // the blank line: header ends
    let eol = headerBytes.indexOf(LF, p);
    eol = eol === -1 ? n : eol + 1;
    const continuation = first === SP || first === HT;
    if (!continuation || fieldStart === -1) {
      if (fieldStart !== -1) out.push(makeField(headerBytes, fieldStart, p));
      fieldStart = p;
    }
    p = eol;
  }
  if (fieldStart !== -1) out.push(makeField(headerBytes, fieldStart, p));
  return out;
}

/** Remove RFC 5322 comments outside quoted strings (MIME headers allow them). */
function stripComments(s: string): string {
  if (!s.includes('(')) return s;
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += ch + (s[i + 1] ?? '');
      i++;
    } else if (quoted) {
      out += ch;
      if (ch === '"') quoted = false;
    } else if (ch === '(') depth++;
    else if (ch === ')' && depth > 0) depth--;
    else if (depth === 0) {
      out += ch;
      if (ch === '"') quoted = true;
    }
  }
  return out;
}

/** Split on `;` outside quoted strings. */
function splitParams(s: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ';' && !quoted) {
      parts.push(s.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(s.slice(from));
  return parts;
}

function unquote(v: string): string {
  if (v.length < 2 || v[0] !== '"') return v;
  const body = v.endsWith('"') ? v.slice(1, -1) : v.slice(1);
  return body.replace(/\\(.)/g, '$1');
}

/** Decode percent-escapes of an RFC 2231 extended value into bytes. */
function percentBytes(s: string, into: number[]): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      into.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) into.push(c);
    else for (const b of Buffer.from(s[i] as string, 'utf8')) into.push(b);
  }
}

function decodeCharset(bytes: Uint8Array, charset: string): string {
  const cs = charset.trim().toLowerCase();
  const buf = Buffer.from(bytes);
  if (cs === '' || cs === 'us-ascii' || cs === 'ascii' || cs === 'utf-8' || cs === 'utf8') {
    return bytesToString(buf);
  }
  try {
    if (iconv.encodingExists(cs)) return iconv.decode(buf, cs);
  } catch { /* fall through to the lenient default */ }
  return bytesToString(buf);
}

interface RawParam { base: string; section: number; extended: boolean; value: string; order: number }

/** Parse `value; name=val; name*0*=cs'lang'%xx` into the bare value and its
 *  parameters. Names are lowercased; RFC 2231 continuations are joined in
 *  section order and extended values decoded to Unicode. A parameter given
 *  twice keeps its first value. Never throws. */
export function parseHeaderParams(value: string): { value: string; params: MimeParams } {
  const pieces = splitParams(stripComments(value));
  const bare = trimBlanks(pieces[0] ?? '');
  const raws: RawParam[] = [];
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    const eq = piece.indexOf('=');
    if (eq === -1) continue;
    const name = piece.slice(0, eq).trim().toLowerCase();
    if (name === '') continue;
    const val = unquote(piece.slice(eq + 1).trim());
    const m = /^(.*?)\*(?:(\d+)\*?)?$/.exec(name);
    if (m && m[1] !== undefined) {
      const extended = name.endsWith('*');
      raws.push({ base: m[1], section: m[2] === undefined ? 0 : Number(m[2]), extended, value: val, order: i });
    } else {
      raws.push({ base: name, section: -1, extended: false, value: val, order: i });
    }
  }
  const params: MimeParams = [];
  const seen = new Set<string>();
  // Group by base name; a plain `name=` wins only if no RFC 2231 form exists.
  const groups = new Map<string, RawParam[]>();
  for (const r of raws) {
    const g = groups.get(r.base);
    if (g) g.push(r);
    else groups.set(r.base, [r]);
  }
  for (const [base, group] of groups) {
    if (seen.has(base)) continue;
    seen.add(base);
    const sections = group.filter((r) => r.section >= 0);
    if (sections.length === 0) {
      params.push([base, (group[0] as RawParam).value]);
      continue;
    }
    sections.sort((a, b) => a.section - b.section || a.order - b.order);
    const bytes: number[] = [];
    let charset = '';
    let lastSection = -1;
    for (const s of sections) {
      if (s.section === lastSection) continue; // duplicate section: keep the first
      lastSection = s.section;
      let v = s.value;
      if (s.extended) {
        if (s === sections[0]) {
          // charset'language'value (RFC 2231 §4); both may be empty
          const q1 = v.indexOf("'");
          const q2 = q1 === -1 ? -1 : v.indexOf("'", q1 + 1);
          if (q2 !== -1) {
            charset = v.slice(0, q1);
            v = v.slice(q2 + 1);
          }
        }
        percentBytes(v, bytes);
      } else {
        for (const b of Buffer.from(v, 'utf8')) bytes.push(b);
      }
    }
    params.push([base, decodeCharset(Uint8Array.from(bytes), charset)]);
  }
  return { value: bare, params };
}
