// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): printable ASCII stands
// for itself ("&" as "&-"), anything else is "&" + base64 of UTF-16BE with
// "," for "/" and no padding + "-". Decoding is strict: it rejects what an
// encoder must never produce (so one name has one wire form).
import { ValidationError } from '../../errors/index.ts';
import { ImapParseError } from './errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** Unicode name -> wire form.
 * @throws {ValidationError} when the name holds a lone surrogate (not Unicode text) */
export function encodeMailboxName(unicode: string): string {
  if (!unicode.isWellFormed()) throw new ValidationError('mailbox name', 'not well-formed Unicode');
  let out = '';
  let i = 0;
  const n = unicode.length;
  while (i < n) {
    const c = unicode.charCodeAt(i);
    if (isDirect(c)) {
      out += c === 0x26 ? '&-' : unicode[i];
      i++;
      continue;
    }
    // Gather the whole run of non-direct code units into one shift sequence.
    let j = i;
    while (j < n && !isDirect(unicode.charCodeAt(j))) j++;
    out += '&' + encodeRun(unicode, i, j) + '-';
    i = j;
  }
  return out;
}

function encodeRun(s: string, from: number, to: number): string {
  let out = '';
  let bits = 0;
  let nbits = 0;
  for (let k = from; k < to; k++) {
    bits = ((bits << 16) | s.charCodeAt(k)) & 0xffffff;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += ALPHABET[(bits >> nbits) & 0x3f];
    }
  }
  if (nbits > 0) out += ALPHABET[(bits << (6 - nbits)) & 0x3f];
  return out;
}

/** Wire form -> Unicode name.
 * @throws {ImapParseError} on invalid modified UTF-7: raw non-ASCII, "&" not
 * closed, bad base64, padding bits set, an odd octet count, lone surrogates,
 * encoded printable ASCII, or two adjacent shift sequences */
export function decodeMailboxName(wire: string): string {
  let out = '';
  let i = 0;
  const n = wire.length;
  let lastShiftEnd = -1;
  while (i < n) {
    const c = wire.charCodeAt(i);
    if (!isDirect(c)) throw bad('raw character outside printable ASCII');
    if (c !== 0x26) {
      out += wire[i];
      i++;
      continue;
    }
    const close = wire.indexOf('-', i + 1);
    if (close === -1) throw bad('"&" without closing "-"');
    if (close === i + 1) {
      out += '&';
      i = close + 1;
      continue;
    }
    if (lastShiftEnd === i) throw bad('adjacent encoded sequences');
    out += decodeRun(wire, i + 1, close);
    i = close + 1;
    lastShiftEnd = i;
  }
  return out;
}

function decodeRun(s: string, from: number, to: number): string {
  let bits = 0;
  let nbits = 0;
  const units: number[] = [];
  for (let k = from; k < to; k++) {
    const code = s.charCodeAt(k);
    const v = code < 128 ? VALUE[code]! : -1;
    if (v < 0) throw bad('invalid base64 character');
    bits = ((bits << 6) | v) & 0xffffff;
    nbits += 6;
    if (nbits >= 16) {
      nbits -= 16;
      units.push((bits >> nbits) & 0xffff);
    }
  }
  // Leftover bits are padding: fewer than 6 and all zero, else the run was cut or mangled.
  if (nbits >= 6 || (bits & ((1 << nbits) - 1)) !== 0) throw bad('invalid base64 length or padding');
  for (let k = 0; k < units.length; k++) {
    const u = units[k]!;
    if (isDirect(u)) throw bad('printable ASCII must not be encoded');
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = units[k + 1];
      if (next === undefined || next < 0xdc00 || next > 0xdfff) throw bad('unpaired surrogate');
      k++;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      throw bad('unpaired surrogate');
    }
  }
  // In slices: spreading a huge array into one call can overflow the stack.
  let out = '';
  for (let k = 0; k < units.length; k += 4096) out += String.fromCharCode(...units.slice(k, k + 4096));
  return out;
}

function bad(why: string): ImapParseError {
  return new ImapParseError(`Invalid mailbox name encoding: ${why}`);
}
