// Outside recipients end to end on loopback: a real gateway, nodemailer as the
// mail client, imapflow for the local copy, GnuPG as the outside recipient,
// and a real SMTP server (test/helpers/smtp-sink.ts) as the smarthost.
// Checks the RCPT TO refusals (no smarthost: 550 5.1.1; no key under policy
// refuse: 550 5.7.1), PGP/MIME (RFC 3156 §4) to an imported key that gpg
// decrypts to the original with the sender's good signature and an Autocrypt
// header (Autocrypt Level 1 §2.1) carrying the sender's key, policy plain,
// the provider's replies mapped to the client's (RFC 5321 §4.2.1: 451 4.4.1
// transient, 554 5.7.1 permanent), and STARTTLS (RFC 3207) + AUTH (RFC 4954)
// towards the provider.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { RelayConfig } from '../../src/config/config.ts';
import { readPublicKeys } from '../../src/crypto/pgp.ts';
import { generateTlsCertificate } from '../../src/crypto/tls.ts';
import { parseAutocryptHeader } from '../../src/keys/autocrypt.ts';
import { stripView } from '../../src/pipeline/view.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { gpgHome, type GpgHome } from '../helpers/gpg.ts';
import { imapClient as imap, inboxSources, smtpClient as smtp } from '../helpers/clients.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';
import { reply, startSmtpSink, type SinkOptions, type SmtpSink } from '../helpers/smtp-sink.ts';

const alice = { user: 'alice@example.test', password: 'alice-secret-1' };
const bob = { user: 'bob@example.test', password: 'bob-secret-22' };
const EXT = 'ext@outside.test';
const PLAIN = 'plain@outside.test';

/** What nodemailer reports when the server refuses (the reply line as sent). */
interface ClientError { code?: string; response?: string; responseCode?: number; rejected?: string[]; rejectedErrors?: ClientError[] }




/** The exact bytes a client sends; with `keepBcc` the Bcc field stays in them (some clients do that). */
async function compose(options: ConstructorParameters<typeof MailComposer>[0], keepBcc = false): Promise<Buffer> {
  const node = new MailComposer(options).compile();
  if (keepBcc) (node as unknown as { keepBcc: boolean }).keepBcc = true;
  return node.build();
}

/** The message as Sealpost relays and stores it: its Received: field, then the submitted bytes unchanged. */
function assertReceivedThenOriginal(t: ExecutionContext, relayed: Buffer, original: Buffer, what: string): void {
  t.is(relayed.subarray(0, 9).toString(), 'Received:', `${what}: Received: field first`);
  const at = relayed.indexOf(original);
  t.true(at > 0 && at + original.length === relayed.length, `${what}: then the submitted bytes, unchanged, to the end`);
  t.regex(relayed.subarray(0, at).toString(), /^Received: [^]*\r\n$/);
}

/** A gateway whose smarthost is `sink`; register `sink.close` as a teardown before calling (teardowns run last-in first-out). */
function startRelaying(t: ExecutionContext, sink: SmtpSink, relay: Partial<RelayConfig> = {}, autocrypt = false): Promise<SealpostServer> {
  return startSealpost({
    users: [alice, bob],
    configure: (config) => {
      config.relay = { ...config.relay, host: '127.0.0.1', port: sink.port, security: 'none', ...relay };
      config.keys.autocrypt = autocrypt;
    },
  }).then((server) => {
    t.teardown(() => server.stop());
    return server;
  });
}

async function sinkFor(t: ExecutionContext, options: SinkOptions = {}): Promise<SmtpSink> {
  const sink = await startSmtpSink(options);
  t.teardown(() => sink.close());
  return sink;
}

interface OutsideKey { gpg: GpgHome; armored: string; fingerprint: string }

/** The outside recipient: a key made by GnuPG (ed25519/cv25519, no passphrase) in its own home. */
function outsideKey(t: ExecutionContext, address: string): OutsideKey {
  const gpg = gpgHome(t);
  gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', `Ext <${address}>`, 'future-default', 'default', 'never']);
  const armored = gpg.ok(['--export', '--armor', address]).stdout.toString('utf8');
  const colons = gpg.ok(['--with-colons', '--list-keys', address]).stdout.toString('utf8');
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1] ?? '';
  if (fingerprint === '') throw new Error('gpg made no key');
  return { gpg, armored, fingerprint };
}

/** `sealpost keys import FILE`, the way a user imports a correspondent's key. */
async function importKey(t: ExecutionContext, server: SealpostServer, key: OutsideKey, address: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-relay-key-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'ext.asc');
  fs.writeFileSync(file, key.armored);
  const run = await sealpostCli(['keys', 'import', '--data-dir', server.dir, file]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, new RegExp(`^${address.replace('.', '\\.')}  ${key.fingerprint}$`, 'm'));
}

/** The header of a message, unfolded, as name → values (lower-cased names). */
function headerOf(message: Buffer): { text: string; fields: Map<string, string[]>; body: Buffer } {
  const end = message.indexOf('\r\n\r\n');
  const text = message.subarray(0, end + 2).toString('latin1');
  const fields = new Map<string, string[]>();
  for (const line of text.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { text, fields, body: message.subarray(end + 4) };
}

/** The parts of a multipart message (RFC 2046 §5.1.1), each as its bytes (header + body). */
function multipartParts(message: Buffer): Buffer[] {
  const { fields, body } = headerOf(message);
  const boundary = /boundary="?([^";]+)"?/i.exec(fields.get('content-type')?.[0] ?? '')?.[1];
  if (boundary === undefined) return [];
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const text = Buffer.concat([Buffer.from('\r\n'), body]);
  const parts: Buffer[] = [];
  let at = text.indexOf(delimiter);
  while (at !== -1) {
    const lineEnd = text.indexOf('\r\n', at + delimiter.length);
    if (text.subarray(at + delimiter.length, at + delimiter.length + 2).toString() === '--') break;
    const next = text.indexOf(delimiter, lineEnd);
    if (next === -1) break;
    parts.push(text.subarray(lineEnd + 2, next));
    at = next;
  }
  return parts;
}

/** Sends and returns nodemailer's error (the server's reply), failing the test when it was accepted. */
async function refusal(t: ExecutionContext, send: Promise<unknown>): Promise<ClientError> {
  const error = await t.throwsAsync(send);
  return (error ?? {}) as ClientError;
}

test('no smarthost: RCPT TO an outside address is 550 5.1.1, naming it and config relay.host', async (t) => {
  const server = await startSealpost({ users: [alice, bob] });
  t.teardown(() => server.stop());
  const error = await refusal(t, smtp(server, alice).sendMail({ from: alice.user, to: EXT, subject: 'hi', text: 'hello\r\n' }));
  t.is(error.code, 'EENVELOPE');
  t.is(error.responseCode, 550);
  t.regex(error.response ?? '', /^550 5\.1\.1 <ext@outside\.test>: not a Sealpost account on this node, and no smarthost is configured/);
  t.regex(error.response ?? '', /relay\.host/);
  // A local recipient in the same message is still accepted.
  const mixed = await smtp(server, alice).sendMail({ from: alice.user, to: [bob.user, EXT], subject: 'hi', text: 'hello\r\n' });
  t.deepEqual(mixed.accepted, [bob.user]);
  t.deepEqual(mixed.rejected, [EXT]);
});

test('policy refuse, no key: RCPT TO is 550 5.7.1 naming the recipient and the import command; nothing reaches the smarthost', async (t) => {
  const sink = await sinkFor(t);
  const server = await startRelaying(t, sink);
  const error = await refusal(t, smtp(server, alice).sendMail({ from: alice.user, to: EXT, subject: 'hi', text: 'hello\r\n' }));
  t.is(error.code, 'EENVELOPE');
  t.is(error.responseCode, 550);
  t.regex(error.response ?? '', /^550 5\.7\.1 <ext@outside\.test>: no OpenPGP key is known/);
  t.regex(error.response ?? '', /import their key with "sealpost keys import FILE"/i);
  t.deepEqual(sink.received, []);
});

test('an imported key: the outside recipient gets PGP/MIME that gpg decrypts to the original, signed by the sender; the local one reads it in INBOX', async (t) => {
  const sink = await sinkFor(t);
  const server = await startRelaying(t, sink);
  const ext = outsideKey(t, EXT);
  await importKey(t, server, ext, EXT);

  const phrase = `teal-walrus-${crypto.randomBytes(6).toString('hex')}`;
  const original = await compose({
    from: alice.user,
    to: EXT,
    bcc: bob.user,
    subject: 'Quarterly figures',
    text: `The figures: ${phrase}.\r\n`,
    attachments: [{ filename: 'figures.txt', content: `attached ${phrase}\n` }],
  }, true);
  t.true(original.includes(`Bcc: ${bob.user}\r\n`), 'the submitted message carries Bcc');
  // The gateway removes Bcc: before sealing (RFC 5322 §3.6.3): inside the ciphertext every recipient would read it.
  const sealed = Buffer.from(original.toString('latin1').replace(`Bcc: ${bob.user}\r\n`, ''), 'latin1');
  const sent = await smtp(server, alice).sendMail({ envelope: { from: alice.user, to: [EXT, bob.user] }, raw: original });
  t.deepEqual([...sent.accepted].sort(), [bob.user, EXT].sort());
  t.regex(sent.response, /^250 2\.0\.0 Ok: queued as baf/);

  // Exactly one message at the provider, for the outside recipient only.
  t.is(sink.received.length, 1);
  const [relayed] = sink.received;
  if (relayed === undefined) return;
  t.is(relayed.from, alice.user);
  t.deepEqual(relayed.to, [EXT]);
  t.false(relayed.bytes.includes(phrase), 'no plaintext on the wire');

  // RFC 3156 §4: multipart/encrypted, "Version: 1", then the armored ciphertext.
  const outer = headerOf(relayed.bytes);
  t.regex(outer.fields.get('content-type')?.[0] ?? '', /^multipart\/encrypted; protocol="application\/pgp-encrypted"; boundary="[^"]+"$/);
  t.false(outer.fields.has('bcc'), 'no Bcc in the outer header');
  t.false(outer.text.includes(bob.user), 'the blind recipient appears nowhere in the outer header');
  t.deepEqual(outer.fields.get('to'), [EXT]);
  t.deepEqual(outer.fields.get('subject'), ['Quarterly figures']);
  const parts = multipartParts(relayed.bytes);
  t.is(parts.length, 2);
  const [control, payload] = parts;
  if (control === undefined || payload === undefined) return;
  t.is(headerOf(control).fields.get('content-type')?.[0], 'application/pgp-encrypted');
  t.is(headerOf(control).body.toString().trim(), 'Version: 1');
  t.regex(headerOf(payload).fields.get('content-type')?.[0] ?? '', /^application\/octet-stream/);
  const armor = headerOf(payload).body;
  t.regex(armor.toString(), /^-----BEGIN PGP MESSAGE-----\r\n[^]*-----END PGP MESSAGE-----\r\n$/);
  // With its CRC-24 line: GnuPG 2.2 cannot read armor without one whose base64 ends unpadded (1 message in 3).
  t.regex(armor.toString(), /\r\n=[A-Za-z0-9+/]{4}\r\n-----END PGP MESSAGE-----\r\n$/);

  // The outside recipient, with GnuPG: the original, and a good signature from alice.
  const alicePub = await sealpostCli(['keys', 'export', '--data-dir', server.dir, '--address', alice.user]);
  t.is(alicePub.code, 0, alicePub.stderr);
  const aliceFingerprint = (await readPublicKeys(alicePub.stdout))[0]?.fingerprint ?? '';
  t.regex(aliceFingerprint, /^[0-9A-F]{40}$/);
  ext.gpg.ok(['--import'], alicePub.stdout);
  const decrypted = ext.gpg.run(['--pinentry-mode', 'loopback', '--passphrase', '', '--decrypt'], armor);
  t.is(decrypted.code, 0, decrypted.stderr);
  assertReceivedThenOriginal(t, decrypted.stdout, sealed, 'gpg --decrypt');
  t.false(decrypted.stdout.includes(bob.user), 'the blind recipient is not inside the ciphertext either');
  t.regex(decrypted.status, /^\[GNUPG:\] GOODSIG [0-9A-F]{16} .*alice@example\.test/m);
  t.regex(decrypted.status, new RegExp(`^\\[GNUPG:\\] VALIDSIG [0-9A-F]{40} .* ${aliceFingerprint}$`, 'm'));
  t.regex(decrypted.status, new RegExp(`^\\[GNUPG:\\] DECRYPTION_OKAY$`, 'm'));

  // Autocrypt: the outer header carries alice's key, for the reply.
  const autocrypt = outer.fields.get('autocrypt') ?? [];
  t.is(autocrypt.length, 1);
  const parsed = parseAutocryptHeader(autocrypt[0] ?? '');
  t.is(parsed.addr, alice.user);
  const carried = await readPublicKeys(parsed.keydata);
  t.is(carried[0]?.fingerprint, aliceFingerprint);
  t.deepEqual(carried[0]?.addresses, [alice.user]);
  t.false(carried[0]?.secret ?? true);

  // Bob, the local (blind) recipient, reads the same message in INBOX.
  const bobImap = imap(server, bob);
  await bobImap.connect();
  t.teardown(() => bobImap.logout().catch(() => undefined));
  const inbox = await inboxSources(bobImap);
  t.is(inbox.length, 1);
  const view = stripView(inbox[0] ?? Buffer.alloc(0));
  t.true(Buffer.from(view.original).equals(decrypted.stdout), 'bob reads what ext decrypted');
  t.regex(view.fields.get('x-sealpost-signature') ?? '', new RegExp(`^valid; signer=${alice.user}; fingerprint=${aliceFingerprint}$`));
  t.is(sink.received.length, 1, 'still one message at the provider');
});

test('policy plain: a recipient without a key gets the plain message, one with a key gets PGP/MIME: two deliveries', async (t) => {
  const sink = await sinkFor(t);
  const server = await startRelaying(t, sink, { policy: 'plain' });
  const ext = outsideKey(t, EXT);
  await importKey(t, server, ext, EXT);

  const phrase = `amber-otter-${crypto.randomBytes(6).toString('hex')}`;
  const original = await compose({ from: alice.user, to: [EXT, PLAIN], subject: 'Two ways', text: `Hello both: ${phrase}\r\n` });
  const sent = await smtp(server, alice).sendMail({ envelope: { from: alice.user, to: [EXT, PLAIN] }, raw: original });
  t.deepEqual([...sent.accepted].sort(), [EXT, PLAIN].sort());

  t.is(sink.received.length, 2);
  const plain = sink.received.find((m) => m.to.includes(PLAIN));
  const sealed = sink.received.find((m) => m.to.includes(EXT));
  if (plain === undefined || sealed === undefined) return t.fail('a recipient got nothing');
  t.deepEqual(plain.to, [PLAIN]);
  t.deepEqual(sealed.to, [EXT]);
  t.is(plain.from, alice.user);
  assertReceivedThenOriginal(t, plain.bytes, original, 'the plain copy');
  t.regex(headerOf(sealed.bytes).fields.get('content-type')?.[0] ?? '', /^multipart\/encrypted; protocol="application\/pgp-encrypted";/);
  t.false(sealed.bytes.includes(phrase));
  const armor = headerOf(multipartParts(sealed.bytes)[1] ?? Buffer.alloc(0)).body;
  ext.gpg.ok(['--import'], (await sealpostCli(['keys', 'export', '--data-dir', server.dir, '--address', alice.user])).stdout);
  const decrypted = ext.gpg.run(['--pinentry-mode', 'loopback', '--passphrase', '', '--decrypt'], armor);
  t.is(decrypted.code, 0, decrypted.stderr);
  t.regex(decrypted.status, /^\[GNUPG:\] GOODSIG /m);
  t.true(decrypted.stdout.equals(plain.bytes), 'both carry the same message');
});

test("the provider's replies reach the client: 451 to DATA is 451 4.4.1, 550 to RCPT is 554 5.7.1 naming the recipient", async (t) => {
  const DEFER = 'defer@outside.test';
  const REFUSED = 'refused@outside.test';
  const sink = await sinkFor(t, {
    rejectRcpt: (address) => (address === REFUSED ? reply(550, '5.1.1 No such user here') : null),
    rejectData: (to) => (to.includes(DEFER) ? reply(451, '4.3.0 Try again later') : null),
  });
  const server = await startRelaying(t, sink, { policy: 'plain' });
  const client = smtp(server, alice);

  const deferred = await refusal(t, client.sendMail({ from: alice.user, to: DEFER, subject: 'deferred', text: 'x\r\n' }));
  t.is(deferred.code, 'EMESSAGE');
  t.is(deferred.responseCode, 451);
  t.regex(deferred.response ?? '', /^451 4\.4\.1 <defer@outside\.test>: /);
  t.regex(deferred.response ?? '', /451 4\.3\.0 Try again later/, "the provider's own reply is quoted");

  const refused = await refusal(t, client.sendMail({ from: alice.user, to: REFUSED, subject: 'refused', text: 'x\r\n' }));
  t.is(refused.code, 'EMESSAGE');
  t.is(refused.responseCode, 554);
  t.regex(refused.response ?? '', /^554 5\.7\.1 <refused@outside\.test>: /);
  t.regex(refused.response ?? '', /550 5\.1\.1 No such user here/, "the provider's own reply is quoted");

  t.deepEqual(sink.received, []);
  // The connection pool is still usable afterwards.
  const ok = await client.sendMail({ from: alice.user, to: PLAIN, subject: 'fine', text: 'x\r\n' });
  t.deepEqual(ok.accepted, [PLAIN]);
  t.is(sink.received.length, 1);
});

test('STARTTLS and AUTH towards the smarthost: the configured credentials log in over TLS', async (t) => {
  const material = await generateTlsCertificate();
  const credentials = { user: 'alice@provider.test', password: `provider-${crypto.randomBytes(6).toString('hex')}` };
  const sink = await sinkFor(t, { tls: { key: material.key, cert: material.cert }, auth: credentials });
  const relay = { security: 'starttls', user: credentials.user, password: credentials.password, policy: 'plain' } as const;
  const original = await compose({ from: alice.user, to: PLAIN, subject: 'over tls', text: 'hello\r\n' });
  // The sink's certificate is self-signed: with verification on (the default),
  // the message is deferred and the password never sent.
  const strict = await startRelaying(t, sink, relay);
  const untrusted = await refusal(t, smtp(strict, alice).sendMail({ envelope: { from: alice.user, to: [PLAIN] }, raw: original }));
  t.is(untrusted.responseCode, 451);
  t.regex(untrusted.response ?? '', /^451 4\.4\.1 <plain@outside\.test>: /);
  t.deepEqual(sink.received, []);
  t.is(sink.authFailures(), 0);
  // The gateway's config has no trust anchor setting, so verification is
  // turned off for this loopback sink.
  const server = await startRelaying(t, sink, { ...relay, rejectUnauthorized: false });
  const sent = await smtp(server, alice).sendMail({ envelope: { from: alice.user, to: [PLAIN] }, raw: original });
  t.deepEqual(sent.accepted, [PLAIN]);
  t.is(sink.received.length, 1);
  const [relayed] = sink.received;
  t.is(relayed?.user, credentials.user);
  t.true(relayed?.secure);
  t.is(sink.authFailures(), 0);
  assertReceivedThenOriginal(t, relayed?.bytes ?? Buffer.alloc(0), original, 'relayed over TLS');
});
