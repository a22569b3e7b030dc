// snapshot/format.ts: the sealed mailbox snapshot (JSON → gzip RFC 1952 →
// OpenPGP RFC 4880 encrypted to and signed by the account key) — round trips,
// a forged or unsigned snapshot refused, damage, the decompression cap,
// strict validation naming the field, and the figures for 20,000 messages.
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import test from 'ava';
import { CID } from 'multiformats/cid';
import { create as createDigest } from 'multiformats/hashes/digest';
import { encryptMessage, generateAccountKey, unlockPrivateKey, type AccountKey, type UnlockedKey } from '../../src/crypto/pgp.ts';
import { viewHeader } from '../../src/pipeline/view.ts';
import {
  MAX_SNAPSHOT_JSON,
  openSnapshot,
  sealSnapshot,
  type MailboxSnapshot,
  type SnapshotCorruptError,
  type SnapshotMessage,
} from '../../src/snapshot/format.ts';

interface Party {
  key: AccountKey;
  unlocked: UnlockedKey;
}

async function party(address: string): Promise<Party> {
  const key = await generateAccountKey({ name: '', address, passphrase: 'passphrase' });
  return { key, unlocked: await unlockPrivateKey(key.privateKey, 'passphrase') };
}

// Key generation and unlocking are the slow part: two accounts for the whole file.
const parties = (async () => ({ alice: await party('alice@example.org'), bob: await party('bob@example.org') }))();

function cidOf(seed: string): string {
  return CID.createV1(0x55, createDigest(0x12, createHash('sha256').update(seed).digest())).toString();
}

/** A message as the gateway files it: CID, the X-Sealpost-* view fields in front, flags. */
function message(i: number, fingerprint: string): SnapshotMessage {
  const cid = cidOf(`message ${i}`);
  const prefix = viewHeader({
    cid,
    signature: `valid; signer=bob@example.org; fingerprint=${fingerprint}`,
    anchor: `local checkpoint ${i >> 8}; signer=ed25519:${createHash('sha256').update(`node`).digest('base64')}; root=${createHash('sha256').update(`batch ${i >> 8}`).digest('hex')}; record=${i}`,
  });
  const flags = [[], ['\\Seen'], ['\\Seen', '\\Answered'], ['\\Seen', '$Forwarded'], ['\\Flagged', '\\Seen']][i % 5] ?? [];
  const expiring = i % 50 === 0;
  return {
    cid,
    prefix: Buffer.from(prefix).toString('base64'),
    flags,
    internalDate: 1_700_000_000_000 + i * 60_000,
    expires: expiring ? 1_800_000_000_000 + i : null,
    size: 2_000 + ((i * 7919) % 50_000),
    ...(expiring ? { ticket: randomBytes(180).toString('base64') } : {}),
  };
}

function snapshot(fingerprint: string, messages = 3): MailboxSnapshot {
  const all = Array.from({ length: messages }, (_, i) => message(i, fingerprint));
  const inbox = all.filter((_, i) => i % 3 !== 2);
  return {
    version: 1,
    account: 'alice@example.org',
    fingerprint,
    seq: 7,
    takenAt: 1_700_000_123_456,
    subscriptions: ['INBOX', 'Sent', 'Lists/ietf'],
    mailboxes: [
      { name: 'INBOX', specialUse: null, uidValidity: 1_700_000_000, messages: inbox },
      { name: 'Sent', specialUse: '\\Sent', uidValidity: 1_700_000_001, messages: all.filter((_, i) => i % 3 === 2) },
      { name: 'Lists/ietf', specialUse: null, uidValidity: 4_294_967_295, messages: inbox.slice(0, 1) },
      { name: 'Trash', specialUse: '\\Trash', uidValidity: 3, messages: [] },
    ],
  };
}

/** Seals arbitrary JSON text the way sealSnapshot does (signed by `signer`, or unsigned), to feed openSnapshot what sealSnapshot never would. */
async function sealText(text: string, to: Party, signer: Party | null): Promise<Uint8Array> {
  const data = await promisify(gzip)(text);
  return encryptMessage({ data, encryptionKeys: [to.key.publicKey], ...(signer === null ? {} : { signingKey: signer.unlocked }) });
}

test('round trip: sealed is binary OpenPGP, opens equal', async (t) => {
  const { alice } = await parties;
  const input = snapshot(alice.key.fingerprint, 30);
  const sealed = await sealSnapshot(input, { publicKey: alice.key.publicKey, signingKey: alice.unlocked });
  t.true(sealed instanceof Uint8Array);
  t.is((sealed[0] ?? 0) & 0x80, 0x80, 'a binary packet, not armor');
  t.false(Buffer.from(sealed).includes('Lists/ietf'));
  t.deepEqual(await openSnapshot(sealed, alice.unlocked, alice.key.fingerprint), input);
});

test('a snapshot encrypted to us but signed by another key is refused: SNAPSHOT_BAD_SIGNATURE', async (t) => {
  const { alice, bob } = await parties;
  const forged = JSON.stringify(snapshot(alice.key.fingerprint));
  for (const signer of [bob, null]) {
    const sealed = await sealText(forged, alice, signer);
    await t.throwsAsync(openSnapshot(sealed, alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_BAD_SIGNATURE', name: 'SnapshotSignatureError' });
  }
  // The genuine article, sealed the same way, opens: the refusal is about the signer.
  t.is((await openSnapshot(await sealText(forged, alice, alice), alice.unlocked, alice.key.fingerprint)).seq, 7);
});

test("another account's snapshot does not open with our key: SNAPSHOT_CORRUPT", async (t) => {
  const { alice, bob } = await parties;
  const theirs = await sealSnapshot({ ...snapshot(bob.key.fingerprint), account: 'bob@example.org' }, { publicKey: bob.key.publicKey, signingKey: bob.unlocked });
  await t.throwsAsync(openSnapshot(theirs, alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' });
  // Asking for another signer than the key we hold is a caller's mistake.
  await t.throwsAsync(openSnapshot(theirs, alice.unlocked, bob.key.fingerprint), { instanceOf: TypeError });
});

test('damage: altered or cut ciphertext, junk — SNAPSHOT_CORRUPT', async (t) => {
  const { alice } = await parties;
  const sealed = await sealSnapshot(snapshot(alice.key.fingerprint, 10), { publicKey: alice.key.publicKey, signingKey: alice.unlocked });
  for (const at of [sealed.length - 25, Math.floor(sealed.length / 2), sealed.length - 1]) {
    const altered = new Uint8Array(sealed);
    altered[at] = (altered[at] ?? 0) ^ 0x40;
    await t.throwsAsync(openSnapshot(altered, alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' }, `octet ${at}`);
  }
  await t.throwsAsync(openSnapshot(sealed.subarray(0, sealed.length - 40), alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' });
  await t.throwsAsync(openSnapshot(randomBytes(500), alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' });
  // Signed by us, but not gzip / not JSON inside.
  const notGzip = await encryptMessage({ data: new TextEncoder().encode('{}'), encryptionKeys: [alice.key.publicKey], signingKey: alice.unlocked });
  await t.throwsAsync(openSnapshot(notGzip, alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' });
  await t.throwsAsync(openSnapshot(await sealText('{"version":1,', alice, alice), alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' });
});

test('decompression cap: a signed gzip bomb stops at MAX_SNAPSHOT_JSON, an oversized input is refused unread — SNAPSHOT_TOO_LARGE', async (t) => {
  const { alice } = await parties;
  // 300 MiB of spaces (valid JSON white space) in ~300 KiB of gzip, made without holding it in memory.
  const bomb = await new Promise<Buffer>((resolve, reject) => {
    const z = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    z.on('data', (chunk: Buffer) => parts.push(chunk)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    for (let i = 0; i < 300; i++) z.write(chunk);
    z.end();
  });
  t.true(bomb.length < 1024 * 1024);
  const sealed = await encryptMessage({ data: bomb, encryptionKeys: [alice.key.publicKey], signingKey: alice.unlocked });
  await t.throwsAsync(openSnapshot(sealed, alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_TOO_LARGE', name: 'SnapshotTooLargeError' });
  await t.throwsAsync(openSnapshot(new Uint8Array(MAX_SNAPSHOT_JSON + 1), alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_TOO_LARGE' });
});

test('a snapshot from a newer Sealpost is SNAPSHOT_VERSION', async (t) => {
  const { alice } = await parties;
  const newer = JSON.stringify({ ...snapshot(alice.key.fingerprint), version: 2, folders: 'a new shape' });
  const error = await t.throwsAsync(openSnapshot(await sealText(newer, alice, alice), alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_VERSION', name: 'SnapshotVersionError' });
  t.is((error as { version?: number } | undefined)?.version, 2);
});

// Each mutation of a valid snapshot, and the field the error must name.
type Mutation = [field: string, mutate: (s: Record<string, any>) => void];
const MUTATIONS: Mutation[] = [
  ['version', (s) => (s.version = 0)],
  ['extra', (s) => (s.extra = true)],
  ['account', (s) => (s.account = 'Alice@example.org')],
  ['fingerprint', (s) => (s.fingerprint = s.fingerprint.toLowerCase())],
  ['seq', (s) => (s.seq = 1.5)],
  ['takenAt', (s) => delete s.takenAt],
  ['subscriptions[1]', (s) => (s.subscriptions[1] = 'a//b')],
  ['subscriptions', (s) => s.subscriptions.push('INBOX')],
  ['mailboxes', (s) => s.mailboxes.shift()], // no INBOX left
  ['mailboxes[1].name', (s) => (s.mailboxes[1].name = 'INBOX')],
  ['mailboxes[2].name', (s) => (s.mailboxes[2].name = 'inbox/x')], // INBOX is spelled INBOX
  ['mailboxes[1].specialUse', (s) => (s.mailboxes[1].specialUse = '\\All')],
  ['mailboxes[0].uidValidity', (s) => (s.mailboxes[0].uidValidity = 0)],
  ['mailboxes[0].uidValidity', (s) => (s.mailboxes[0].uidValidity = 2 ** 32)],
  ['mailboxes[3].messages', (s) => (s.mailboxes[3].messages = {})],
  ['mailboxes[0].messages[1].cid', (s) => (s.mailboxes[0].messages[1].cid = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG')], // CIDv0: not the canonical spelling
  ['mailboxes[0].messages[1].cid', (s) => (s.mailboxes[0].messages[1].cid = 'not a cid')],
  ['mailboxes[0].messages[0].prefix', (s) => (s.mailboxes[0].messages[0].prefix = 'YQ')], // unpadded
  ['mailboxes[0].messages[0].flags', (s) => (s.mailboxes[0].messages[0].flags = ['\\seen'])],
  ['mailboxes[0].messages[0].flags', (s) => (s.mailboxes[0].messages[0].flags = ['\\Recent'])],
  ['mailboxes[0].messages[0].flags', (s) => (s.mailboxes[0].messages[0].flags = ['a b'])],
  ['mailboxes[0].messages[0].flags[0]', (s) => (s.mailboxes[0].messages[0].flags = [7])],
  ['mailboxes[0].messages[1].internalDate', (s) => (s.mailboxes[0].messages[1].internalDate = '2024-01-01')],
  ['mailboxes[0].messages[1].expires', (s) => (s.mailboxes[0].messages[1].expires = -5)],
  ['mailboxes[0].messages[1].size', (s) => delete s.mailboxes[0].messages[1].size],
  ['mailboxes[0].messages[1].ticket', (s) => (s.mailboxes[0].messages[1].ticket = 'AAAA')], // not expiring
  ['mailboxes[0].messages[0].ticket', (s) => (s.mailboxes[0].messages[0].ticket = 'not base64!')],
  ['mailboxes[0].messages[0].uid', (s) => (s.mailboxes[0].messages[0].uid = 1)],
];

test('validation on open: each bad field is SNAPSHOT_CORRUPT naming that field', async (t) => {
  const { alice } = await parties;
  for (const [field, mutate] of MUTATIONS) {
    const s = structuredClone(snapshot(alice.key.fingerprint)) as Record<string, any>;
    mutate(s);
    const sealed = await sealText(JSON.stringify(s), alice, alice);
    const error = await t.throwsAsync(openSnapshot(sealed, alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' }, field);
    t.is((error as SnapshotCorruptError | undefined)?.field, field);
  }
});

test('validation on seal: each bad field is a ValidationError naming it; keys must be the fingerprint the snapshot names', async (t) => {
  const { alice, bob } = await parties;
  for (const [field, mutate] of MUTATIONS) {
    const s = structuredClone(snapshot(alice.key.fingerprint)) as Record<string, any>;
    mutate(s);
    const error = await t.throwsAsync(sealSnapshot(s as MailboxSnapshot, { publicKey: alice.key.publicKey, signingKey: alice.unlocked }), { code: 'INVALID', name: 'ValidationError' }, field);
    t.is((error as { field?: string } | undefined)?.field, field);
  }
  const input = snapshot(alice.key.fingerprint);
  for (const keys of [
    { publicKey: alice.key.publicKey, signingKey: bob.unlocked },
    { publicKey: bob.key.publicKey, signingKey: alice.unlocked },
  ]) {
    const error = await t.throwsAsync(sealSnapshot(input, keys), { code: 'INVALID' });
    t.is((error as { field?: string } | undefined)?.field, 'fingerprint');
  }
  // A snapshot naming another fingerprint than its signer's, sealed by hand, is refused on open.
  const s = structuredClone(input);
  s.fingerprint = bob.key.fingerprint;
  const error = await t.throwsAsync(openSnapshot(await sealText(JSON.stringify(s), alice, alice), alice.unlocked, alice.key.fingerprint), { code: 'SNAPSHOT_CORRUPT' });
  t.is((error as SnapshotCorruptError | undefined)?.field, 'fingerprint');
});

test('20,000 messages: seal and open, figures logged', async (t) => {
  const { alice } = await parties;
  const input = snapshot(alice.key.fingerprint, 20_000);
  const jsonBytes = Buffer.byteLength(JSON.stringify(input));
  let start = performance.now();
  const sealed = await sealSnapshot(input, { publicKey: alice.key.publicKey, signingKey: alice.unlocked });
  const sealMs = performance.now() - start;
  start = performance.now();
  const opened = await openSnapshot(sealed, alice.unlocked, alice.key.fingerprint);
  const openMs = performance.now() - start;
  t.deepEqual(opened, input);
  t.log(`20,000 messages: JSON ${jsonBytes} octets, sealed ${sealed.length} octets; seal ${sealMs.toFixed(0)} ms, open ${openMs.toFixed(0)} ms`);
  // Generous bounds: a regression by an order of magnitude fails, a slow CI does not.
  t.true(sealed.length < jsonBytes / 2);
  t.true(sealMs < 15_000 && openMs < 15_000);
});
