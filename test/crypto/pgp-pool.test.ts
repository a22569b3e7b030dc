// crypto/pgp-pool.ts: encryptMessage on worker threads gives what the main
// thread would (decrypts, signature valid, same PgpError codes), under
// concurrency, after close(), and when a worker thread dies mid-job; and the
// signing key crosses to a worker once (pgp.ts exportUnlockedKey/importUnlockedKey).
import test from 'ava';
import * as openpgp from 'openpgp';
import { createPgpPool, type PgpPool, type PgpPoolOptions } from '../../src/crypto/pgp-pool.ts';
import {
  decryptMessage,
  exportUnlockedKey,
  generateAccountKey,
  importUnlockedKey,
  PgpError,
  unlockPrivateKey,
  type AccountKey,
  type UnlockedKey,
} from '../../src/crypto/pgp.ts';

interface Party {
  key: AccountKey;
  unlocked: UnlockedKey;
}

async function party(address: string): Promise<Party> {
  const key = await generateAccountKey({ name: '', address, passphrase: `pass-${address}` });
  return { key, unlocked: await unlockPrivateKey(key.privateKey, `pass-${address}`) };
}

const parties = (async () => ({ alice: await party('alice@example.org'), bob: await party('bob@example.org') }))();

function finder(...known: Party[]): (keyId: string) => Promise<string | null> {
  return async (keyId) => known.find((p) => p.unlocked.keyIds.includes(keyId))?.key.publicKey ?? null;
}

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) % 256);
}

function pool(t: { teardown(fn: () => Promise<void>): void }, options: PgpPoolOptions = {}): PgpPool {
  const p = createPgpPool(options);
  t.teardown(() => p.close());
  return p;
}

const REAL_WORKER = new URL('../../src/crypto/pgp-worker.ts', import.meta.url).href;
const CRASH = new TextEncoder().encode('crash me now!');
const REPORT = new TextEncoder().encode('report keys!');

/** The real worker behind a listener that sees each job first: it throws
 *  (an uncaught error kills the thread) on CRASH, and answers REPORT with
 *  the number of jobs that carried a signing key, as the error's code. */
const WRAPPED_WORKER = new URL(`data:text/javascript,${encodeURIComponent(`
  import { parentPort } from 'node:worker_threads';
  let keys = 0;
  parentPort.on('message', (job) => {
    if (job.key !== undefined) keys++;
    const text = new TextDecoder().decode(job.data);
    if (text === 'crash me now!') throw new Error('worker crash for the test');
    if (text === 'report keys!') parentPort.postMessage({ id: job.id, ok: false, error: { name: 'Report', code: 'KEYS_' + keys, message: 'report', stack: undefined } });
  });
  await import(${JSON.stringify(REAL_WORKER)});
`)}`);

test('round trip: encrypted in a worker, decrypted on this thread, same bytes, signature valid', async (t) => {
  const { alice, bob } = await parties;
  const p = pool(t, { size: 1 });
  const data = bytes(20_000, 1);
  const ciphertext = await p.encrypt({ data, encryptionKeys: [bob.key.publicKey, alice.key.publicKey], signingKey: alice.unlocked });
  t.is(data.byteLength, 20_000, 'the caller keeps its bytes (copied, not transferred)');
  for (const reader of [bob, alice]) {
    const plain = await decryptMessage({ data: ciphertext, decryptionKey: reader.unlocked, findVerificationKey: finder(alice) });
    t.deepEqual(plain.data, data);
    t.is(plain.signature.status, 'valid');
    t.is(plain.signature.fingerprint, alice.key.fingerprint);
  }
  // Unsigned works too.
  const unsigned = await p.encrypt({ data, encryptionKeys: [bob.key.publicKey] });
  t.is((await decryptMessage({ data: unsigned, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) })).signature.status, 'unsigned');
});

test('transfer: true hands the buffer over (detached here)', async (t) => {
  const { alice, bob } = await parties;
  const p = pool(t, { size: 1 });
  const data = bytes(5_000, 2);
  const copy = new Uint8Array(data);
  const ciphertext = await p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked, transfer: true });
  t.is(data.byteLength, 0);
  t.deepEqual((await decryptMessage({ data: ciphertext, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) })).data, copy);
});

test('unusable keys come back as PgpError PGP_BAD_KEY, naming the key', async (t) => {
  const { alice, bob } = await parties;
  const p = pool(t, { size: 1 });
  const data = bytes(1_000, 3);
  const garbage = await t.throwsAsync(p.encrypt({ data, encryptionKeys: [bob.key.publicKey, 'garbage'], signingKey: alice.unlocked }), { code: 'PGP_BAD_KEY', name: 'PgpError' });
  t.true(garbage instanceof PgpError);
  await t.throwsAsync(p.encrypt({ data, encryptionKeys: [] }), { code: 'PGP_BAD_KEY', name: 'PgpError' });
  // A sign-only key: no encryption subkey.
  const { publicKey: signOnly } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 's@example.org' }], subkeys: [], format: 'armored' });
  const fingerprint = (await openpgp.readKey({ armoredKey: signOnly })).getFingerprint().toUpperCase();
  const error = await t.throwsAsync(p.encrypt({ data, encryptionKeys: [bob.key.publicKey, signOnly], signingKey: alice.unlocked }), { code: 'PGP_BAD_KEY', name: 'PgpError' });
  t.true(error instanceof PgpError);
  t.is((error as PgpError | undefined)?.fingerprint, fingerprint);
  // The worker is still fine afterwards.
  const ok = await p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  t.deepEqual((await decryptMessage({ data: ok, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) })).data, data);
  // An UnlockedKey not made by pgp.ts: refused here, as encryptMessage does.
  await t.throwsAsync(p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: { fingerprint: 'F'.repeat(40), keyIds: [] } }), { instanceOf: TypeError });
});

test('many concurrent jobs on two workers, two signers: each decrypts to its own bytes, signed by its signer', async (t) => {
  const { alice, bob } = await parties;
  const p = pool(t, { size: 2 });
  const jobs = Array.from({ length: 60 }, (_, i) => {
    const signer = i % 3 === 0 ? bob : alice;
    const data = bytes(2_000 + i * 97, i);
    return { signer, data, ciphertext: p.encrypt({ data, encryptionKeys: [bob.key.publicKey, alice.key.publicKey], signingKey: signer.unlocked }) };
  });
  for (const job of jobs) {
    const plain = await decryptMessage({ data: await job.ciphertext, decryptionKey: bob.unlocked, findVerificationKey: finder(alice, bob) });
    t.deepEqual(plain.data, job.data);
    t.is(plain.signature.status, 'valid');
    t.is(plain.signature.fingerprint, job.signer.key.fingerprint);
  }
});

test('a full queue refuses with PGP_POOL_BUSY instead of growing', async (t) => {
  const { bob } = await parties;
  const p = pool(t, { size: 1, maxQueue: 1 });
  const data = bytes(1_000, 4);
  // One goes to the worker, one waits, the third is refused.
  const accepted = [1, 2].map(() => p.encrypt({ data, encryptionKeys: [bob.key.publicKey] }));
  await t.throwsAsync(p.encrypt({ data, encryptionKeys: [bob.key.publicKey] }), { code: 'PGP_POOL_BUSY', name: 'PgpPoolError' });
  await Promise.all(accepted);
});

test('close() lets running jobs finish, then refuses with PGP_POOL_CLOSED', async (t) => {
  const { alice, bob } = await parties;
  const p = createPgpPool({ size: 1 });
  const data = bytes(3_000, 5);
  const running = p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  const closed = p.close();
  await t.throwsAsync(p.encrypt({ data, encryptionKeys: [bob.key.publicKey] }), { code: 'PGP_POOL_CLOSED', name: 'PgpPoolError' });
  t.deepEqual((await decryptMessage({ data: await running, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) })).data, data);
  await closed;
  await t.throwsAsync(p.encrypt({ data, encryptionKeys: [bob.key.publicKey] }), { code: 'PGP_POOL_CLOSED' });
  await p.close(); // again: no-op
});

test('a worker that dies fails its job with PGP_WORKER_FAILED, and a new one takes the queued ones', async (t) => {
  t.timeout(30_000);
  const { alice, bob } = await parties;
  const p = pool(t, { size: 1, workerUrl: WRAPPED_WORKER });
  const data = bytes(2_000, 6);
  // Warm up (the worker has openpgp loaded), then crash with a second job in flight behind it.
  await p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  const crash = p.encrypt({ data: CRASH, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  const behind = p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  await t.throwsAsync(crash, { code: 'PGP_WORKER_FAILED', name: 'PgpPoolError' });
  // The job queued behind it was never in the dying thread: a replacement does it.
  const behindPlain = await decryptMessage({ data: await behind, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) });
  t.deepEqual(behindPlain.data, data);
  // The replacement is new: it is sent the signing key again and signs with it.
  const after = await p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  const plain = await decryptMessage({ data: after, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) });
  t.deepEqual(plain.data, data);
  t.is(plain.signature.status, 'valid');
  await t.throwsAsync(p.encrypt({ data: REPORT, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked }), { code: 'KEYS_1' });
});

test('a worker is sent each signing key once, however many jobs sign with it', async (t) => {
  const { alice, bob } = await parties;
  const p = pool(t, { size: 1, workerUrl: WRAPPED_WORKER });
  const data = bytes(1_000, 7);
  await Promise.all(Array.from({ length: 10 }, (_, i) => p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: i % 2 === 0 ? alice.unlocked : bob.unlocked })));
  await p.encrypt({ data, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  await t.throwsAsync(p.encrypt({ data: REPORT, encryptionKeys: [bob.key.publicKey] }), { code: 'KEYS_2' });
});

test('exportUnlockedKey/importUnlockedKey: the same key back; protected or foreign bytes refused', async (t) => {
  const { alice, bob } = await parties;
  const exported = exportUnlockedKey(alice.unlocked);
  t.is(exported.byteOffset, 0);
  t.is(exported.byteLength, exported.buffer.byteLength, 'a buffer of its own (transferable)');
  const imported = await importUnlockedKey(exported);
  exported.fill(0); // allowed once imported: the key does not share the bytes
  t.is(imported.fingerprint, alice.unlocked.fingerprint);
  t.deepEqual(imported.keyIds, alice.unlocked.keyIds);
  t.deepEqual(Object.keys(imported).sort(), ['fingerprint', 'keyIds']);
  // The imported key decrypts and signs.
  const p = pool(t, { size: 1 });
  const data = bytes(500, 8);
  const ciphertext = await p.encrypt({ data, encryptionKeys: [alice.key.publicKey], signingKey: imported });
  const plain = await decryptMessage({ data: ciphertext, decryptionKey: imported, findVerificationKey: finder(alice, bob) });
  t.deepEqual(plain.data, data);
  t.is(plain.signature.status, 'valid');

  const protectedKey = (await openpgp.readPrivateKey({ armoredKey: alice.key.privateKey })).write();
  await t.throwsAsync(importUnlockedKey(protectedKey), { code: 'PGP_BAD_KEY' });
  await t.throwsAsync(importUnlockedKey(new Uint8Array([1, 2, 3])), { code: 'PGP_BAD_KEY' });
  t.throws(() => exportUnlockedKey({ fingerprint: 'F'.repeat(40), keyIds: [] }), { instanceOf: TypeError });
});

test('encryptMany: one job per worker, results in input order, each decrypts to its own bytes', async (t) => {
  const { bob } = await parties;
  const p = pool(t, { size: 2 });
  const inputs = Array.from({ length: 25 }, (_, i) => ({ data: bytes(500 + i * 41, 100 + i), encryptionKeys: [bob.key.publicKey] }));
  const out = await p.encryptMany(inputs);
  t.is(out.length, inputs.length);
  for (const [i, ciphertext] of out.entries()) {
    const plain = await decryptMessage({ data: ciphertext, decryptionKey: bob.unlocked, findVerificationKey: finder() });
    t.deepEqual(plain.data, inputs[i]?.data);
    t.is(plain.signature.status, 'unsigned');
  }
  t.deepEqual(await p.encryptMany([]), []);
  await t.throwsAsync(p.encryptMany([{ data: bytes(10, 1), encryptionKeys: ['not a key'] }]), { code: 'PGP_BAD_KEY' });
});
