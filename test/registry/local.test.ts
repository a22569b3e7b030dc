// The embedded registry: the shared contract on a real file and on
// ':memory:', plus what only it has: one file shared by several connections
// and by several processes writing at once (first come decided under the
// write lock, announcement positions never interleaved within a batch), the
// append-only triggers, rows altered behind its back skipped on read, and a
// domain that survives reopening.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { openLocalRegistry, REGISTRY_MIGRATIONS } from '../../src/registry/local.ts';
import { addressHash, generateSigner, signAddressClaim, signDeletionReceipt, signNodeRecord } from '../../src/registry/records.ts';
import type { Registry } from '../../src/registry/types.ts';
import { addrOf, FP_V4, FP_V6, KEY_REF, registryContract, sampleAnnouncement, x25519Public } from './contract.ts';

const run = promisify(execFile);
const WRITER = fileURLToPath(new URL('./fixtures/local-writer.ts', import.meta.url));

function tempDir(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-registry-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

registryContract(test, 'local (file)', async () => {
  const { dir, remove } = tempDir();
  const registry = openLocalRegistry({ path: path.join(dir, 'registry.db'), pollIntervalMs: 20 });
  const others: Registry[] = [];
  return {
    registry,
    async another() {
      const other = openLocalRegistry({ path: path.join(dir, `other-${others.length}.db`) });
      others.push(other);
      return other;
    },
    async cleanup() {
      await registry.close();
      for (const o of others) await o.close();
      remove();
    },
  };
});

registryContract(test, 'local (:memory:)', async () => {
  const registry = openLocalRegistry({ path: ':memory:', pollIntervalMs: 20 });
  const others: Registry[] = [];
  return {
    registry,
    async another() {
      const other = openLocalRegistry({ path: ':memory:' });
      others.push(other);
      return other;
    },
    async cleanup() {
      await registry.close();
      for (const o of others) await o.close();
    },
  };
});

test('two connections to one file see each other at once; first come holds across them', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const file = path.join(dir, 'registry.db');
  const a = openLocalRegistry({ path: file });
  const b = openLocalRegistry({ path: file });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  t.deepEqual(a.domain, b.domain, 'one registry, one domain');

  const na = generateSigner();
  const nb = generateSigner();
  await a.registerNode(await signNodeRecord(na, a.domain, { encKey: x25519Public(), addrs: [addrOf(na)], seq: 1 }));
  await b.registerNode(await signNodeRecord(nb, b.domain, { encKey: x25519Public(), addrs: [addrOf(nb)], seq: 1 }));
  t.is((await a.listNodes()).length, 2);
  t.is((await b.listNodes()).length, 2);

  await a.claimAddress(await signAddressClaim(na, a.domain, { address: 'zoe@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 }));
  const late = await signAddressClaim(nb, b.domain, { address: 'zoe@example.org', fingerprint: FP_V6, keyRef: KEY_REF, seq: 1 });
  t.like(await t.throwsAsync(b.claimAddress(late)), { code: 'REGISTRY_ADDRESS_TAKEN' });
  t.deepEqual((await b.lookupAddress('zoe@example.org'))?.nodeId, na.publicKey);

  // interleaved writes through both connections keep one order
  const posted = [];
  for (let i = 0; i < 10; i++) {
    const batch = [sampleAnnouncement(), sampleAnnouncement()];
    posted.push(...batch);
    await (i % 2 === 0 ? a : b).announce(batch);
  }
  const fromA = await a.scanAnnouncements(null, 100);
  const fromB = await b.scanAnnouncements(null, 100);
  t.is(fromA.entries.length, 20);
  t.deepEqual(fromA, fromB);
  t.deepEqual(fromA.entries.map((e) => Buffer.from(e.tag).toString('hex')), posted.map((e) => Buffer.from(e.tag).toString('hex')));
});

test('two processes write one file at once: every batch lands whole and in order, one claim wins', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const file = path.join(dir, 'registry.db');
  const batches = 60;
  const [one, two] = await Promise.all(
    ['one', 'two'].map(async (label) => {
      const { stdout } = await run(process.execPath, [WRITER, file, label, String(batches), 'Contested@Example.org', '2'], { timeout: 60_000 });
      return JSON.parse(stdout.trim().split('\n').at(-1) as string) as { label: string; claim: string; nodeId: string };
    }),
  );
  t.deepEqual([one!.claim, two!.claim].sort(), ['REGISTRY_ADDRESS_TAKEN', 'ok'], 'exactly one claim wins');

  const registry = openLocalRegistry({ path: file });
  t.teardown(() => registry.close());
  t.is((await registry.listNodes()).length, 2);
  const winner = one!.claim === 'ok' ? one! : two!;
  t.is(Buffer.from((await registry.lookupAddress('contested@example.org'))!.nodeId).toString('hex'), winner.nodeId);

  const { entries } = await registry.scanAnnouncements(null, 10_000);
  t.is(entries.length, 2 * batches * 4);
  const payloads = entries.map((e) => Buffer.from(e.payload).toString());
  // each batch of 4 is contiguous (one transaction), and each process's batches keep their order
  for (let k = 0; k < payloads.length; k += 4) {
    const [label, i] = (payloads[k] as string).split(':');
    t.deepEqual(payloads.slice(k, k + 4), [0, 1, 2, 3].map((j) => `${label}:${i}:${j}`));
  }
  for (const label of ['one', 'two']) {
    const mine = payloads.filter((p) => p.startsWith(`${label}:`) && p.endsWith(':0')).map((p) => Number(p.split(':')[1]));
    t.deepEqual(mine, Array.from({ length: batches }, (_, i) => i), `${label}'s batches in order`);
  }
  const interleaved = payloads.some((p, k) => k > 0 && p.split(':')[0] !== (payloads[k - 1] as string).split(':')[0]);
  t.true(interleaved, 'the writers really ran at the same time');
  const cursors = entries.map((e) => Number(e.cursor.slice(2)));
  t.true(cursors.every((c, k) => k === 0 || c > (cursors[k - 1] as number)), 'positions ascend');
});

test('append-only: triggers refuse UPDATE and DELETE of announcements and receipts, and stale or foreign node and claim updates', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const file = path.join(dir, 'registry.db');
  const registry = openLocalRegistry({ path: file });
  t.teardown(() => registry.close());
  const node = generateSigner();
  const thief = generateSigner();
  await registry.registerNode(await signNodeRecord(node, registry.domain, { encKey: x25519Public(), addrs: [], seq: 3 }));
  await registry.registerNode(await signNodeRecord(thief, registry.domain, { encKey: x25519Public(), addrs: [], seq: 1 }));
  await registry.claimAddress(await signAddressClaim(node, registry.domain, { address: 'yan@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 2 }));
  await registry.announce([sampleAnnouncement()]);
  await registry.recordDeletion(await signDeletionReceipt(node, registry.domain, { messageRef: new Uint8Array(32).fill(1), time: 5 }));

  const db = new DatabaseSync(file);
  t.teardown(() => db.close());
  const refused = [
    'UPDATE announcements SET view_tag = 0',
    'DELETE FROM announcements',
    'UPDATE deletions SET time = 6',
    'DELETE FROM deletions',
    'DELETE FROM nodes',
    'UPDATE nodes SET seq = 2',
    'UPDATE nodes SET seq = 3',
    'DELETE FROM claims',
    'UPDATE claims SET seq = 1',
    'UPDATE meta SET value = zeroblob(32)',
    'DELETE FROM meta',
  ];
  for (const sql of refused) t.throws(() => db.exec(sql), { message: /append-only|never removed|higher seq|immutable/ }, sql);
  t.throws(() => db.prepare('UPDATE claims SET node_id = ?, seq = 9').run(thief.publicKey), { message: /by its node/ });
  t.is((await registry.scanAnnouncements(null, 10)).entries.length, 1);
  t.is((await registry.deletionReceipts(new Uint8Array(32).fill(1))).length, 1);
  t.is((await registry.getNode(node.publicKey))?.seq, 3);
});

test('rows altered behind the registry (triggers dropped) are skipped on read, not returned', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const file = path.join(dir, 'registry.db');
  const registry = openLocalRegistry({ path: file });
  t.teardown(() => registry.close());
  const a = generateSigner();
  const b = generateSigner();
  const ra = await signNodeRecord(a, registry.domain, { encKey: x25519Public(), addrs: [addrOf(a)], seq: 1 });
  await registry.registerNode(ra);
  await registry.registerNode(await signNodeRecord(b, registry.domain, { encKey: x25519Public(), addrs: [addrOf(b)], seq: 1 }));
  await registry.claimAddress(await signAddressClaim(b, registry.domain, { address: 'xavier@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 }));
  const ref = new Uint8Array(32).fill(9);
  await registry.recordDeletion(await signDeletionReceipt(b, registry.domain, { messageRef: ref, time: 1 }));
  await registry.recordDeletion(await signDeletionReceipt(a, registry.domain, { messageRef: ref, time: 2 }));

  const db = new DatabaseSync(file);
  t.teardown(() => db.close());
  db.exec('DROP TRIGGER nodes_seq_up; DROP TRIGGER claims_first_come; DROP TRIGGER deletions_no_update');
  db.prepare('UPDATE nodes SET addrs = ? WHERE node_id = ?').run(Uint8Array.of(1, 0, 16, ...Buffer.from('/ip4/6.6.6.6/tcp')), b.publicKey); // point peers elsewhere
  db.prepare('UPDATE claims SET key_ref = ? WHERE address_hash = ?').run('bafkreimallory', addressHash('xavier@example.org'));
  db.prepare('UPDATE deletions SET time = 3 WHERE custodian = ?').run(a.publicKey);

  t.is(await registry.getNode(b.publicKey), null);
  t.deepEqual(await registry.listNodes(), [ra]);
  t.is(await registry.lookupAddress('xavier@example.org'), null);
  t.deepEqual((await registry.deletionReceipts(ref)).map((d) => d.time), [1]);
});

test('reopening keeps records and the domain; the schema is versioned; no plain address is stored', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const file = path.join(dir, 'sub', 'registry.db');
  const first = openLocalRegistry({ path: file });
  const signer = generateSigner();
  const record = await signNodeRecord(signer, first.domain, { encKey: x25519Public(), addrs: [addrOf(signer)], seq: 1 });
  await first.registerNode(record);
  await first.claimAddress(await signAddressClaim(signer, first.domain, { address: 'wendy@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 }));
  const domain = first.domain;
  await first.close();

  const again = openLocalRegistry({ path: file });
  t.teardown(() => again.close());
  t.deepEqual(again.domain, domain);
  t.deepEqual(await again.getNode(signer.publicKey), record);
  t.truthy(await again.lookupAddress('wendy@example.org'));
  const db = new DatabaseSync(file, { readOnly: true });
  t.teardown(() => db.close());
  t.is((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, REGISTRY_MIGRATIONS.length);
  t.is((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  t.false(fs.readFileSync(file).includes('wendy') || fs.readFileSync(`${file}-wal`, { flag: 'a+' }).includes('wendy'), 'the file holds the hash only');
});
