// keys/autocrypt.ts: the Autocrypt Level 1 §2.1 header, parsed and built.
import test from 'ava';
import { autocryptHeader, dearmor, parseAutocryptHeader } from '../../src/keys/autocrypt.ts';
import { generateAccountKey, readPublicKeys } from '../../src/crypto/pgp.ts';

// Any base64 serves for parsing: the parser does not read the key (keys/directory.ts does).
const KEYDATA = 'mDMEXEcE6RYJKwYBBAHaRw8BAQdArjWwk3FAqyiFbFBKT4TzXcVBqPTB3gmzlC/Ub7O1u120JkFsaWNlIExvdmVsYWNlIDxhbGljZUBvcGVucGdwLmV4YW1wbGU+';

test('parses addr, prefer-encrypt and keydata, folded or not, names case-insensitive', (t) => {
  const folded = `addr=Alice@Autocrypt.Example; prefer-encrypt=mutual; keydata=\r\n ${KEYDATA.slice(0, 40)}\r\n ${KEYDATA.slice(40)}`;
  const parsed = parseAutocryptHeader(folded);
  t.is(parsed.addr, 'alice@autocrypt.example');
  t.is(parsed.preferEncrypt, 'mutual');
  t.deepEqual(parsed.keydata, new Uint8Array(Buffer.from(KEYDATA, 'base64')));
  const flat = parseAutocryptHeader(`ADDR=bob@example.org;KEYDATA=${KEYDATA}`);
  t.is(flat.addr, 'bob@example.org');
  t.is(flat.preferEncrypt, 'nopreference');
  // §2.1.1: any other prefer-encrypt value means no preference.
  t.is(parseAutocryptHeader(`addr=bob@example.org; prefer-encrypt=nopreference; keydata=${KEYDATA}`).preferEncrypt, 'nopreference');
});

test('§2.1: unknown critical attributes make the header ignored; non-critical ones (_name) are skipped', (t) => {
  t.throws(() => parseAutocryptHeader(`addr=a@example.org; type=1; keydata=${KEYDATA}`), { code: 'INVALID', name: 'ValidationError' });
  t.throws(() => parseAutocryptHeader(`addr=a@example.org; frobnicate=yes; keydata=${KEYDATA}`), { code: 'INVALID' });
  t.is(parseAutocryptHeader(`addr=a@example.org; _frobnicate=yes; keydata=${KEYDATA}`).addr, 'a@example.org');
});

test('malformed headers are refused, naming the attribute', (t) => {
  const field = (value: string): string | undefined => (t.throws(() => parseAutocryptHeader(value)) as { field?: string } | undefined)?.field;
  t.is(field(`keydata=${KEYDATA}`), 'autocrypt.addr');
  t.is(field(`addr=not-an-address; keydata=${KEYDATA}`), 'autocrypt.addr');
  t.is(field('addr=a@example.org'), 'autocrypt.keydata');
  t.is(field('addr=a@example.org; keydata=!!!notbase64'), 'autocrypt.keydata');
  t.is(field(`addr=a@example.org; addr=b@example.org; keydata=${KEYDATA}`), 'autocrypt.addr');
  t.is(field(`addr=a@example.org; novalue; keydata=${KEYDATA}`), 'autocrypt');
});

test('autocryptHeader builds a folded header whose keydata is the binary public key', async (t) => {
  const key = await generateAccountKey({ name: 'Alice', address: 'alice@example.org', passphrase: 'x' });
  const value = autocryptHeader('Alice@Example.org', key.publicKey);
  t.true(value.startsWith('addr=alice@example.org; keydata=\r\n '));
  for (const line of value.split('\r\n')) t.true(line.length <= 78, `line of ${line.length}`);
  t.regex(value, /^[\x20-\x7e\r\n]+$/, '7-bit header text');
  const parsed = parseAutocryptHeader(value);
  t.is(parsed.addr, 'alice@example.org');
  t.deepEqual(parsed.keydata, dearmor(key.publicKey));
  const [info] = await readPublicKeys(parsed.keydata);
  t.is(info?.fingerprint, key.fingerprint);
  t.regex(autocryptHeader('alice@example.org', key.publicKey, { preferEncrypt: 'mutual' }), /^addr=alice@example\.org; prefer-encrypt=mutual; keydata=/);
  t.throws(() => autocryptHeader('alice@example.org', key.privateKey), { code: 'INVALID' });
  t.throws(() => autocryptHeader('alice; x@example.org', key.publicKey), { code: 'INVALID' });
  t.throws(() => autocryptHeader('alice@example.org', 'no armor'), { code: 'INVALID' });
});

test('dearmor skips armor headers and the checksum', (t) => {
  const body = Buffer.from([1, 2, 3, 4, 5, 6]).toString('base64');
  const armored = `-----BEGIN PGP PUBLIC KEY BLOCK-----\r\nVersion: test\r\nComment: hello\r\n\r\n${body}\r\n=abcd\r\n-----END PGP PUBLIC KEY BLOCK-----\r\n`;
  t.deepEqual(dearmor(armored), new Uint8Array([1, 2, 3, 4, 5, 6]));
  t.deepEqual(dearmor(`-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${body}\n-----END PGP PUBLIC KEY BLOCK-----`), new Uint8Array([1, 2, 3, 4, 5, 6]));
});
