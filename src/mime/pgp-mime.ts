// Builds an OpenPGP/MIME encrypted message (RFC 3156 §4): a
// multipart/encrypted with protocol="application/pgp-encrypted" whose first
// part says "Version: 1" and whose second part holds the ASCII-armored
// ciphertext. The ciphertext (made by the caller) encrypts the whole original
// message, headers included ("protected headers"), so the outer header only
// carries what transport and threading need; Bcc never leaves in clear.
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors/index.ts';
import { splitHeader } from './headers.ts';
import { parseMessage } from './parse.ts';

export interface PgpMimeInput {
  /** the original RFC 5322 message, CRLF line endings */
  original: Uint8Array;
  /** the armored OpenPGP message ("-----BEGIN PGP MESSAGE-----") encrypting `original` */
  armoredCiphertext: string;
  /** a whole Autocrypt header value (`addr=…; keydata=…`) to add to the outer header */
  autocrypt?: string;
}

/** Fields copied from the original into the outer header: routing and threading
 *  only. Not Bcc (it would disclose the blind recipients to everyone), not
 *  Received / X-* (they may reveal the sender's setup), not Content-* (they
 *  describe the original body, which is now inside the ciphertext). */
const COPIED_FIELDS: ReadonlySet<string> = new Set([
  'from', 'sender', 'reply-to', 'to', 'cc', 'date', 'message-id', 'in-reply-to', 'references', 'subject',
]);

/** RFC 5322 §2.1.1: a line is at most 998 octets, CRLF excluded. */
const MAX_LINE = 998;
/** RFC 5322 §2.1.1: lines SHOULD stay within 78 characters; used for fields we write. */
const SOFT_LINE = 78;

const CRLF = '\r\n';
const CRLF_BYTES = Buffer.from(CRLF);
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;

/** A boundary of characters that ASCII armor never produces together: base64
 *  has no "." or "_", and armor header lines ("Version:", "Comment:") start
 *  with a letter; it is also checked against the armored text itself. */
function makeBoundary(armored: string): string {
  for (;;) {
    const boundary = `=_sealpost.${randomBytes(18).toString('base64url').replace(/[-_]/g, '.')}`;
    if (!armored.includes(boundary)) return boundary;
  }
}

/** Split one physical header line that exceeds 998 octets at blanks, so the
 *  copied field stays legal; the inserted CRLF unfolds back to the same value.
 *  @throws ValidationError when there is no blank to fold at */
function foldPhysicalLine(line: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let rest = line;
  while (rest.length > MAX_LINE) {
    let at = -1;
    for (let i = MAX_LINE; i > 0; i--) {
      if (rest[i] === SP || rest[i] === HT) { at = i; break; }
    }
    if (at === -1) throw new ValidationError('original', 'a header line is longer than 998 octets and cannot be folded');
    out.push(rest.subarray(0, at));
    rest = rest.subarray(at); // the blank starts the continuation line
  }
  out.push(rest);
  return out;
}

/** The raw bytes of a copied field, ending in CRLF, each line ≤ 998 octets. */
function copyField(raw: Uint8Array): Buffer {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const lines: Buffer[] = [];
  let p = 0;
  while (p < buf.length) {
    let eol = buf.indexOf(LF, p);
    const next = eol === -1 ? buf.length : eol + 1;
    if (eol === -1) eol = buf.length;
    const end = eol > p && buf[eol - 1] === CR ? eol - 1 : eol;
    lines.push(...foldPhysicalLine(buf.subarray(p, end)));
    p = next;
  }
  return Buffer.concat(lines.flatMap((l) => [l, CRLF_BYTES]));
}

/** Join atoms with single spaces, folding (CRLF + space) where a line would pass 78 characters. */
function foldAtoms(name: string, atoms: string[]): string {
  let out = `${name}:`;
  let lineLength = out.length;
  for (const atom of atoms) {
    if (lineLength + 1 + atom.length > SOFT_LINE && lineLength > 1) {
      out += `${CRLF} ${atom}`;
      lineLength = 1 + atom.length;
    } else {
      out += ` ${atom}`;
      lineLength += 1 + atom.length;
    }
  }
  return `${out}${CRLF}`;
}

/** The Autocrypt field (Autocrypt Level 1 §2.1), folded. keydata is base64 in
 *  which whitespace is ignored, so it is cut into chunks that fold anywhere.
 *  @throws ValidationError when the value is not printable ASCII or contains a line break */
function autocryptField(value: string): string {
  const flat = value.replace(/\r\n[ \t]+/g, ' ').trim();
  if (flat === '' || !/^[\x20-\x7e\t]*$/.test(flat)) {
    throw new ValidationError('autocrypt', 'must be a non-empty header value of printable ASCII without line breaks');
  }
  const attributes = flat.split(';').map((a) => a.trim()).filter((a) => a !== '');
  const atoms: string[] = [];
  attributes.forEach((attribute, i) => {
    const last = i === attributes.length - 1;
    const keydata = /^keydata\s*=\s*([\s\S]*)$/i.exec(attribute);
    if (keydata) {
      const data = (keydata[1] ?? '').replace(/\s+/g, '');
      const chunks = data.match(/.{1,64}/g) ?? [''];
      chunks[0] = `keydata=${chunks[0] ?? ''}`;
      if (!last) chunks[chunks.length - 1] += ';';
      atoms.push(...chunks);
    } else {
      for (const word of `${attribute}${last ? '' : ';'}`.split(/[ \t]+/)) {
        if (word.length > MAX_LINE - 1) throw new ValidationError('autocrypt', 'an attribute is too long to fold');
        atoms.push(word);
      }
    }
  });
  return foldAtoms('Autocrypt', atoms);
}

/** Armored text with CRLF lines, checked to be 7-bit and within the line limit.
 *  @throws ValidationError when it is not an armored OpenPGP message */
function normalizeArmor(armored: string): string {
  const text = armored.replace(/\r\n|\r|\n/g, CRLF).trim();
  if (!text.startsWith('-----BEGIN PGP MESSAGE-----') || !text.endsWith('-----END PGP MESSAGE-----')) {
    throw new ValidationError('armoredCiphertext', 'must be an ASCII-armored OpenPGP message');
  }
  if (!/^[\x20-\x7e\r\n\t]*$/.test(text)) throw new ValidationError('armoredCiphertext', 'must be 7-bit ASCII');
  if (text.split(CRLF).some((line) => line.length > MAX_LINE)) {
    throw new ValidationError('armoredCiphertext', 'has a line longer than 998 octets');
  }
  return `${text}${CRLF}`;
}

/**
 * Builds the RFC 3156 §4 PGP/MIME message around `armoredCiphertext`.
 *
 * The outer header copies From, Sender, Reply-To, To, Cc, Date, Message-ID,
 * In-Reply-To, References and Subject from `original` as written (folding kept),
 * then adds MIME-Version, the optional Autocrypt field and the Content-Type.
 * Output is CRLF with every line ≤ 998 octets.
 *
 * @throws ValidationError (field `armoredCiphertext`) when the ciphertext is not
 *   an ASCII-armored OpenPGP message
 * @throws ValidationError (field `autocrypt`) when the Autocrypt value has line breaks or non-ASCII
 * @throws ValidationError (field `original`) when a copied header line exceeds
 *   998 octets and has no blank to fold at
 */
export function buildPgpMime(input: PgpMimeInput): Uint8Array {
  const armor = normalizeArmor(input.armoredCiphertext);
  const root = parseMessage(input.original);
  const fields = splitHeader(input.original.subarray(0, root.bodyStart));
  const header: Buffer[] = [];
  for (const field of fields) {
    if (COPIED_FIELDS.has(field.lowerName)) header.push(copyField(field.raw));
  }
  const boundary = makeBoundary(armor);
  let own = `MIME-Version: 1.0${CRLF}`;
  if (input.autocrypt !== undefined) own += autocryptField(input.autocrypt);
  own += `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";${CRLF} boundary="${boundary}"${CRLF}`;
  const body =
    `${CRLF}This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)${CRLF}` +
    `--${boundary}${CRLF}` +
    `Content-Type: application/pgp-encrypted${CRLF}` +
    `Content-Description: PGP/MIME version identification${CRLF}` +
    `${CRLF}` +
    `Version: 1${CRLF}` +
    `${CRLF}` +
    `--${boundary}${CRLF}` +
    `Content-Type: application/octet-stream; name="encrypted.asc"${CRLF}` +
    `Content-Description: OpenPGP encrypted message${CRLF}` +
    `Content-Disposition: inline; filename="encrypted.asc"${CRLF}` +
    `${CRLF}` +
    armor +
    `${CRLF}` +
    `--${boundary}--${CRLF}`;
  const out = Buffer.concat([...header, Buffer.from(own + body, 'latin1')]);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
