// The Autocrypt header (Autocrypt Level 1, §2.1 "The Autocrypt Header"):
// parsing an incoming header value and building ours. Pure functions; what
// to do with a parsed header (§2.3 update rules) is keys/directory.ts's job.
import { ValidationError } from '../errors/index.ts';

export interface AutocryptHeader {
  /** the single address the key is for, lower-cased */
  addr: string;
  /** §2.1.1: only "mutual" has a meaning; anything else counts as no preference */
  preferEncrypt: 'mutual' | 'nopreference';
  /** the binary OpenPGP transferable public key (base64-decoded keydata) */
  keydata: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// A plain addr-spec is enough here: the value is compared with the From address.
const ADDRESS = /^[^\s@;<>"]+@[^\s@;<>"]+$/;

/**
 * Parses an Autocrypt header value (`addr=…; [prefer-encrypt=mutual;] keydata=…`),
 * folded or not. Per §2.1 a header with an unknown critical attribute (a name
 * not starting with "_") must be ignored: that, like any other defect, throws.
 * @throws ValidationError (field `autocrypt` or `autocrypt.<attribute>`) when the header must be ignored
 */
export function parseAutocryptHeader(value: string): AutocryptHeader {
  const unfolded = value.replace(/\r?\n(?=[ \t])/g, '');
  const attributes = new Map<string, string>();
  for (const part of unfolded.split(';')) {
    const text = part.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    if (eq <= 0) throw new ValidationError('autocrypt', `attribute "${text.slice(0, 40)}" has no value`);
    const name = text.slice(0, eq).trim().toLowerCase();
    if (attributes.has(name)) throw new ValidationError(`autocrypt.${name}`, 'appears more than once');
    attributes.set(name, text.slice(eq + 1).trim());
  }
  for (const name of attributes.keys()) {
    if (name !== 'addr' && name !== 'prefer-encrypt' && name !== 'keydata' && !name.startsWith('_')) {
      throw new ValidationError(`autocrypt.${name}`, 'unknown critical attribute: the header is ignored');
    }
  }
  const addr = attributes.get('addr')?.toLowerCase();
  if (addr === undefined || !ADDRESS.test(addr)) throw new ValidationError('autocrypt.addr', 'missing or not a mail address');
  const base64 = attributes.get('keydata')?.replace(/\s+/g, '');
  if (base64 === undefined || base64 === '') throw new ValidationError('autocrypt.keydata', 'missing');
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) throw new ValidationError('autocrypt.keydata', 'not base64');
  return {
    addr,
    preferEncrypt: attributes.get('prefer-encrypt')?.toLowerCase() === 'mutual' ? 'mutual' : 'nopreference',
    keydata: new Uint8Array(Buffer.from(base64, 'base64')),
  };
}

/**
 * The binary packets inside ASCII armor (RFC 4880 §6.2): armor headers and
 * the CRC-24 checksum line are dropped (the checksum is optional, RFC 9580 §6.1).
 * @throws ValidationError (field `key`) when the text is not one armored block
 */
export function dearmor(armored: string): Uint8Array {
  const lines = armored.split(/\r?\n/).map((line) => line.trimEnd());
  const begin = lines.findIndex((line) => /^-----BEGIN PGP [A-Z ,/0-9]+-----$/.test(line));
  const end = lines.findIndex((line, i) => i > begin && /^-----END PGP [A-Z ,/0-9]+-----$/.test(line));
  if (begin < 0 || end < 0) throw new ValidationError('key', 'not an ASCII-armored OpenPGP block');
  let i = begin + 1;
  // Armor headers ("Version: …", "Comment: …") run up to the first blank line.
  const blank = lines.indexOf('', i);
  if (blank > 0 && blank < end && lines.slice(i, blank).every((line) => /^[A-Za-z][\w-]*: /.test(line))) i = blank + 1;
  const body = lines
    .slice(i, end)
    .filter((line) => !/^=[A-Za-z0-9+/]{4}$/.test(line))
    .join('');
  if (body === '' || body.length % 4 !== 0 || !BASE64.test(body)) throw new ValidationError('key', 'armored body is not base64');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

/** Width of a keydata continuation line: 1 space + 76 base64 characters < 78 (RFC 5322 §2.1.1). */
const KEYDATA_LINE = 76;

/**
 * Our Autocrypt header value for `address`, folded for a message header
 * (CRLF + space before each keydata line), without the "Autocrypt:" name.
 * @param options.preferEncrypt "mutual" adds prefer-encrypt=mutual (§2.1.1)
 * @throws ValidationError (field `address` or `key`) for an unusable address or a key that is not armored
 */
export function autocryptHeader(address: string, armoredPublicKey: string, options: { preferEncrypt?: 'mutual' } = {}): string {
  const addr = address.trim().toLowerCase();
  if (!ADDRESS.test(addr)) throw new ValidationError('address', `"${address}" is not a mail address`);
  if (/PRIVATE KEY/.test(armoredPublicKey)) throw new ValidationError('key', 'an Autocrypt header carries a public key only');
  const base64 = Buffer.from(dearmor(armoredPublicKey)).toString('base64');
  const lines = base64.match(new RegExp(`.{1,${KEYDATA_LINE}}`, 'g')) ?? [];
  const prefer = options.preferEncrypt === 'mutual' ? ' prefer-encrypt=mutual;' : '';
  return `addr=${addr};${prefer} keydata=\r\n ${lines.join('\r\n ')}`;
}
