// buildPgpMime: the RFC 3156 §4 structure read back by our own parser and by
// mailparser, the outer header (routing/threading fields only, Bcc never), and
// real GnuPG decrypting the second part back to the original bytes.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import * as openpgp from 'openpgp';
import { buildPgpMime } from '../../src/mime/pgp-mime.ts';
import { parseMessage } from '../../src/mime/parse.ts';
import { splitHeader } from '../../src/mime/headers.ts';
import type { MimeNode } from '../../src/mime/types.ts';
import { SealpostError, ValidationError } from '../../src/errors/index.ts';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

const ORIGINAL = crlf(`Received: from laptop by gateway; Mon, 1 Jan 2024 10:00:00 +0000
Return-Path: <alice@example.org>
From: Alice <alice@example.org>
Sender: alice@example.org
Reply-To: Alice <alice+replies@example.org>
To: Bob <bob@example.net>,
\tCarol <carol@example.net>
Cc: Dave <dave@example.net>
Bcc: Eve <secret-eve@example.net>
Date: Mon, 1 Jan 2024 10:00:00 +0000
Message-ID: <m1@example.org>
In-Reply-To: <m0@example.net>
References: <a@example.net>
  <m0@example.net>
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and a
 folded subject
X-Mailer: SecretClient 1.0
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"
Content-Transfer-Encoding: 7bit

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße, Bob.
.a line starting with a dot
--alt
Content-Type: text/html; charset=utf-8

<p>Grüße</p>
--alt--
`);

const COPIED = ['from', 'sender', 'reply-to', 'to', 'cc', 'date', 'message-id', 'in-reply-to', 'references', 'subject'];
const PASSPHRASE = 'correct horse battery staple';

interface Keys { publicKey: openpgp.PublicKey; armoredPrivate: string; keydata: string }
let keys: Promise<Keys> | undefined;
/** One curve25519Legacy key for the whole file (what GnuPG 2.2 imports). */
function getKeys(): Promise<Keys> {
  keys ??= (async () => {
    const { publicKey, privateKey } = await openpgp.generateKey({
      type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'bob@example.net' }], passphrase: PASSPHRASE, format: 'armored',
    });
    const key = await openpgp.readKey({ armoredKey: publicKey });
    return { publicKey: key, armoredPrivate: privateKey, keydata: Buffer.from(key.write()).toString('base64') };
  })();
  return keys;
}

async function encrypt(original: Uint8Array): Promise<string> {
  const { publicKey } = await getKeys();
  const message = await openpgp.createMessage({ binary: original });
  return openpgp.encrypt({ message, encryptionKeys: publicKey, format: 'armored' });
}

const bodyOf = (raw: Uint8Array, node: MimeNode): Buffer => Buffer.from(raw).subarray(node.bodyStart, node.end);
const headerOf = (raw: Uint8Array) => splitHeader(raw.subarray(0, parseMessage(raw).bodyStart));

test('RFC 3156 §4 structure as read by our MIME parser', async (t) => {
  const armored = await encrypt(ORIGINAL);
  const out = buildPgpMime({ original: ORIGINAL, armoredCiphertext: armored });
  const root = parseMessage(out);
  t.is(root.type.toLowerCase(), 'multipart');
  t.is(root.subtype.toLowerCase(), 'encrypted');
  t.deepEqual(root.params.find(([k]) => k === 'protocol'), ['protocol', 'application/pgp-encrypted']);
  t.is(root.parts?.length, 2);
  const [control, data] = root.parts as [MimeNode, MimeNode];
  t.is(`${control.type}/${control.subtype}`.toLowerCase(), 'application/pgp-encrypted');
  t.regex(bodyOf(out, control).toString('latin1'), /^Version: 1\r\n$/);
  t.is(`${data.type}/${data.subtype}`.toLowerCase(), 'application/octet-stream');
  t.deepEqual(data.params, [['name', 'encrypted.asc']]);
  t.deepEqual(data.disposition, { type: 'inline', params: [['filename', 'encrypted.asc']] });
  t.is(bodyOf(out, data).toString('latin1'), armored.replace(/\r?\n/g, '\r\n').trim() + '\r\n');
  // the boundary cannot be mistaken for armor
  const boundary = root.params.find(([k]) => k === 'boundary')?.[1] ?? '';
  t.true(boundary.length > 20);
  t.false(armored.includes(boundary));
});

test('outer header: routing and threading fields copied byte for byte, Bcc and the rest dropped', async (t) => {
  const out = buildPgpMime({ original: ORIGINAL, armoredCiphertext: await encrypt(ORIGINAL) });
  const outer = headerOf(out);
  const original = headerOf(ORIGINAL);
  const expected = original.filter((f) => COPIED.includes(f.lowerName));
  t.deepEqual(
    outer.filter((f) => COPIED.includes(f.lowerName)).map((f) => Buffer.from(f.raw).toString('utf8')),
    expected.map((f) => Buffer.from(f.raw).toString('utf8')),
  );
  t.deepEqual(outer.map((f) => f.lowerName), [...expected.map((f) => f.lowerName), 'mime-version', 'content-type']);
  const text = Buffer.from(out).toString('utf8');
  t.false(text.includes('secret-eve'));
  t.false(text.includes('SecretClient'));
  t.false(text.includes('Received:'));
  t.false(text.includes('Grüße, Bob'));
  t.false(/^Content-Transfer-Encoding:/im.test(text));
});

test('mailparser reads the same structure and headers', async (t) => {
  const { keydata } = await getKeys();
  const autocrypt = `addr=alice@example.org; prefer-encrypt=mutual; keydata=${keydata}`;
  const out = buildPgpMime({ original: ORIGINAL, armoredCiphertext: await encrypt(ORIGINAL), autocrypt });
  const parsed = await simpleParser(Buffer.from(out));
  const ct = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
  t.is(ct.value, 'multipart/encrypted');
  t.is(ct.params['protocol'], 'application/pgp-encrypted');
  t.is(parsed.subject, 'Grüße and a folded subject');
  t.is(parsed.messageId, '<m1@example.org>');
  t.is(parsed.inReplyTo, '<m0@example.net>');
  t.deepEqual(parsed.references, ['<a@example.net>', '<m0@example.net>']);
  t.deepEqual(parsed.date, new Date('2024-01-01T10:00:00Z'));
  const addresses = (v: typeof parsed.to) => (Array.isArray(v) ? v : v ? [v] : []).flatMap((a) => a.value.map((x) => x.address));
  t.deepEqual(addresses(parsed.to), ['bob@example.net', 'carol@example.net']);
  t.deepEqual(addresses(parsed.cc), ['dave@example.net']);
  t.deepEqual(addresses(parsed.from), ['alice@example.org']);
  t.deepEqual(addresses(parsed.replyTo), ['alice+replies@example.org']);
  t.is(parsed.bcc, undefined);
  t.false(parsed.headers.has('x-mailer'));
  t.is(parsed.attachments.length, 2);
  const [control, data] = parsed.attachments;
  t.is(control?.contentType, 'application/pgp-encrypted');
  t.is(control?.content.toString('latin1').trim(), 'Version: 1');
  t.is(data?.contentType, 'application/octet-stream');
  t.is(data?.filename, 'encrypted.asc');
  t.is(data?.contentDisposition, 'inline');
  t.true(data?.content.toString('latin1').startsWith('-----BEGIN PGP MESSAGE-----'));
  // Autocrypt: folded into short lines; unfolding and dropping the blanks in keydata gives the key back
  const field = headerOf(out).find((f) => f.lowerName === 'autocrypt');
  t.truthy(field);
  t.true(Buffer.from(field!.raw).toString('latin1').split('\r\n').every((l) => l.length <= 78));
  const value = field!.value;
  t.true(value.startsWith('addr=alice@example.org; prefer-encrypt=mutual; keydata='));
  t.is(value.slice(value.indexOf('keydata=') + 8).replace(/\s+/g, ''), keydata);
  const key = await openpgp.readKey({ binaryKey: Buffer.from(value.slice(value.indexOf('keydata=') + 8).replace(/\s+/g, ''), 'base64') });
  t.is(key.getFingerprint(), (await getKeys()).publicKey.getFingerprint());
});

test('every line is CRLF-terminated and at most 998 octets, even when a copied header line was longer', async (t) => {
  const refs = Array.from({ length: 60 }, (_, i) => `<ref-${i}-${'x'.repeat(10)}@example.net>`).join(' ');
  t.true(refs.length > 998);
  const original = Buffer.concat([crlf(`From: a@example.org\nReferences: ${refs}\nSubject: hi\n\nbody\n`)]);
  const out = Buffer.from(buildPgpMime({ original, armoredCiphertext: await encrypt(original) }));
  t.is(out.subarray(-2).toString(), '\r\n');
  const text = out.toString('latin1');
  t.false(/\r(?!\n)|(?<!\r)\n/.test(text), 'no bare CR or LF');
  t.true(text.split('\r\n').every((line) => line.length <= 998));
  const references = headerOf(out).find((f) => f.lowerName === 'references');
  t.is(references?.value, refs); // refolding unfolds to the same value
});

test('invalid input is refused with the field named', (t) => {
  const error = t.throws(() => buildPgpMime({ original: ORIGINAL, armoredCiphertext: 'not armor' }), { instanceOf: ValidationError });
  t.is(error?.field, 'armoredCiphertext');
  t.is((error as SealpostError | undefined)?.code, 'INVALID');
  const armor = '-----BEGIN PGP MESSAGE-----\n\nwcBMA\n=abcd\n-----END PGP MESSAGE-----\n';
  const injected = t.throws(() => buildPgpMime({ original: ORIGINAL, armoredCiphertext: armor, autocrypt: 'addr=a@b\r\nBcc: x@y' }), { instanceOf: ValidationError });
  t.is(injected?.field, 'autocrypt');
  const longLine = crlf(`From: a@example.org\nSubject: ${'y'.repeat(1200)}\n\nbody\n`);
  const unfoldable = t.throws(() => buildPgpMime({ original: longLine, armoredCiphertext: armor }), { instanceOf: ValidationError });
  t.is(unfoldable?.field, 'original');
});

test('GnuPG decrypts the second part back to the original bytes exactly', async (t) => {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'sealpost-gpg-'));
  const env = { ...process.env, GNUPGHOME: home };
  const run = (args: string[], input?: string): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const child = execFile('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', PASSPHRASE, ...args],
        { env, encoding: 'buffer', timeout: 30_000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`gpg ${args.join(' ')}: ${stderr.toString()}`, { cause: error }));
          else resolve(stdout);
        });
      if (input !== undefined) child.stdin?.end(input);
    });
  t.teardown(async () => {
    await new Promise<void>((resolve) => execFile('gpgconf', ['--kill', 'gpg-agent'], { env }, () => resolve()));
    await fs.rm(home, { recursive: true, force: true });
  });
  await fs.chmod(home, 0o700);
  const { armoredPrivate } = await getKeys();
  await run(['--import'], armoredPrivate);

  const out = buildPgpMime({ original: ORIGINAL, armoredCiphertext: await encrypt(ORIGINAL) });
  const data = parseMessage(out).parts?.[1];
  if (data === undefined) throw new Error('no second part');
  const file = path.join(home, 'encrypted.asc');
  await fs.writeFile(file, bodyOf(out, data));
  const plain = await run(['--decrypt', file]);
  t.true(plain.equals(ORIGINAL));
});
