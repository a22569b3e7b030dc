// The embedded ledger: the shared contract on a real file in a temp dir and
// in memory, plus what only it has: the node key file (mode 0600, reused),
// the chain of signed checkpoints, the log's schema and append-only guards,
// a batch closed but not anchored before a crash, and anchoring failures
// that are retried without losing records.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { createLedger } from '../../src/ledger/ledger.ts';
import { checkCheckpoint, checkpointHash, createLocalAnchorer, encodeCheckpoint, NO_PREVIOUS, parseCheckpoint } from '../../src/ledger/local-anchor.ts';
import { openLocalLedger, openMemoryLedger } from '../../src/ledger/local.ts';
import { LOG_MIGRATIONS, openRecordLog } from '../../src/ledger/log.ts';
import { createMemoryNodeKey, loadOrCreateNodeKey, verifyEd25519 } from '../../src/ledger/node-key.ts';
import type { AnchorRef, Anchorer, Batch, Ledger } from '../../src/ledger/types.ts';
import { ledgerContract, sampleRecord, type LedgerTestOptions } from './contract.ts';

function tempDir(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-ledger-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Rewrites a stored record's time, as someone with write access to the file could (dropping the guard first). */
function tamperRecord(db: DatabaseSync, seq: number): void {
  const row = db.prepare('SELECT record FROM records WHERE seq = ?').get(seq) as { record: string };
  const altered = row.record.replace(/"time":(\d+)/, (_, n: string) => `"time":${Number(n) + 1}`);
  db.exec('DROP TRIGGER IF EXISTS records_immutable');
  db.prepare('UPDATE records SET record = ? WHERE seq = ?').run(altered, seq);
}

ledgerContract(test, 'local (file)', async (options: LedgerTestOptions) => {
  const { dir, remove } = tempDir();
  const file = path.join(dir, 'ledger.db');
  const open = (o: LedgerTestOptions): Promise<Ledger> => openLocalLedger({ path: file, nodeKeyFile: path.join(dir, 'node-key.pem'), ...o });
  let current = await open(options);
  return {
    ledger: current,
    async tamper(seq) {
      const db = new DatabaseSync(file);
      try {
        tamperRecord(db, seq);
      } finally {
        db.close();
      }
    },
    async reopen(o) {
      current = await open(o);
      return current;
    },
    async cleanup() {
      await current.close();
      remove();
    },
  };
});

ledgerContract(test, 'local (memory)', async (options: LedgerTestOptions) => {
  const ledger = await openMemoryLedger(options);
  return {
    ledger,
    async tamper(seq) {
      tamperRecord(ledger.log.db, seq);
    },
    async cleanup() {
      await ledger.close();
    },
  };
});

test('node key: created with mode 0600, reused on reopen, signatures verify', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const file = path.join(dir, 'sub', 'node-key.pem');
  const key = await loadOrCreateNodeKey(file);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.regex(fs.readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  t.is(Buffer.from(key.publicKey, 'base64').length, 32);
  t.deepEqual(fs.readdirSync(path.dirname(file)), ['node-key.pem'], 'no temp file left behind');
  const again = await loadOrCreateNodeKey(file);
  t.is(again.publicKey, key.publicKey);
  const data = Buffer.from('checkpoint');
  const sig = key.sign(data);
  t.is(Buffer.from(sig, 'base64').length, 64);
  t.true(verifyEd25519(again.publicKey, data, sig));
  t.false(verifyEd25519(again.publicKey, Buffer.from('checkpoinT'), sig));
  t.false(verifyEd25519(createMemoryNodeKey().publicKey, data, sig));
  t.false(verifyEd25519('not a key', data, sig));
  t.false(verifyEd25519(again.publicKey, data, `${sig.slice(0, -4)}!!!!`));
  t.false(verifyEd25519(again.publicKey, data, ''));
});

test('node key: a file holding something else is refused, naming nodeKey', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const notPem = path.join(dir, 'a.pem');
  fs.writeFileSync(notPem, 'hello');
  t.like(await t.throwsAsync(loadOrCreateNodeKey(notPem)), { code: 'INVALID', field: 'nodeKey' });
  const rsa = path.join(dir, 'rsa.pem');
  const { privateKey } = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 1024 });
  fs.writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  t.like(await t.throwsAsync(loadOrCreateNodeKey(rsa)), { code: 'INVALID', field: 'nodeKey' });
});

test('local: the file ledger keeps its proofs and node key across reopening', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const options = { path: path.join(dir, 'ledger.db'), nodeKeyFile: path.join(dir, 'node-key.pem'), batchSize: 10, batchIntervalMs: 60_000 };
  const first = await openLocalLedger(options);
  const { seq } = await first.append(sampleRecord(0));
  await first.anchor();
  const before = await first.prove(seq);
  await first.close();
  t.like(await t.throwsAsync(first.append(sampleRecord(1))), { code: 'CLOSED' });
  const second = await openLocalLedger(options);
  t.teardown(() => second.close());
  t.deepEqual(await second.prove(seq), before);
  const v = await second.verify(before!);
  t.true(v.ok);
  t.regex(v.steps[2]!.detail, /^checkpoint 1 signed by node key ed25519:\S{8}… on \d{4}-\d\d-\d\dT/);
});

test('local: checkpoints form a chain: each names the hash of the previous statement', async (t) => {
  const ledger = await openMemoryLedger({ batchSize: 2, batchIntervalMs: 60_000 });
  t.teardown(() => ledger.close());
  for (let i = 0; i < 6; i++) await ledger.append(sampleRecord(i));
  await ledger.anchor();
  const statements = [1, 2, 3].map((id) => (ledger.log.anchorOf(id) as Extract<AnchorRef, { kind: 'local' }>).statement);
  const checkpoints = statements.map(parseCheckpoint);
  t.deepEqual(checkpoints.map((c) => [c.batch, c.firstSeq, c.size, c.log]), [[1, 1, 2, ledger.key.publicKey], [2, 3, 2, ledger.key.publicKey], [3, 5, 2, ledger.key.publicKey]]);
  t.is(checkpoints[0]!.prev, NO_PREVIOUS);
  t.is(checkpoints[1]!.prev, checkpointHash(statements[0]!));
  t.is(checkpoints[2]!.prev, checkpointHash(statements[1]!));
  t.is(encodeCheckpoint(checkpoints[0]!), statements[0]!);
});

test('local: a checkpoint signed by another key, or not canonical, does not pass', async (t) => {
  const ledger = await openMemoryLedger({ batchSize: 10, batchIntervalMs: 60_000 });
  t.teardown(() => ledger.close());
  const { seq } = await ledger.append(sampleRecord(0));
  await ledger.anchor();
  const proof = (await ledger.prove(seq))!;
  const anchor = proof.anchor as Extract<AnchorRef, { kind: 'local' }>;
  // another node signs a statement about the same batch
  const stranger = createMemoryNodeKey();
  const statement = encodeCheckpoint({ ...parseCheckpoint(anchor.statement), log: stranger.publicKey });
  const foreign: AnchorRef = { kind: 'local', statement, signature: stranger.sign(Buffer.from(statement)), publicKey: stranger.publicKey };
  t.true(checkCheckpoint(proof.batch, foreign).ok, 'valid on its own');
  const v = await ledger.verify({ ...proof, anchor: foreign });
  t.deepEqual(v.steps.map((s) => s.ok), [true, true, false]);
  t.regex(v.steps[2]!.detail, /not by this node's key/);
  // the right key, but the statement names someone else's log, or is spelled differently
  const mislabelled = encodeCheckpoint({ ...parseCheckpoint(anchor.statement), log: stranger.publicKey });
  t.false(checkCheckpoint(proof.batch, { ...anchor, statement: mislabelled, signature: ledger.key.sign(Buffer.from(mislabelled)) }).ok);
  const spaced = anchor.statement.replace('{"v":1,', '{"v": 1,');
  t.false(checkCheckpoint(proof.batch, { ...anchor, statement: spaced, signature: ledger.key.sign(Buffer.from(spaced)) }).ok);
  t.true(checkCheckpoint(proof.batch, anchor, ledger.key.publicKey).ok);
  // the statement binds the batch id and first record too, not only root and size
  t.false(checkCheckpoint({ ...proof.batch, id: 2 }, anchor).ok);
  t.false(checkCheckpoint({ ...proof.batch, firstSeq: 2 }, anchor).ok);
});

test('log: schema is versioned, WAL and synchronous=FULL, rows are append-only', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const log = openRecordLog({ path: path.join(dir, 'ledger.db') });
  t.teardown(() => log.close());
  const pragma = (name: string): unknown => Object.values(log.db.prepare(`PRAGMA ${name}`).get() as object)[0];
  t.is(pragma('user_version'), LOG_MIGRATIONS.length);
  t.is(pragma('journal_mode'), 'wal');
  t.is(pragma('synchronous'), 2);
  log.append(sampleRecord(0), 1);
  log.append(sampleRecord(1), 2);
  t.deepEqual(log.oldestUnbatched(), { seq: 1, createdAt: 1 });
  const batch = log.closeBatch(1, 3)!;
  t.like(batch, { id: 1, firstSeq: 1, size: 1, closedAt: 3 });
  t.is(log.unbatchedCount(), 1);
  t.throws(() => log.db.exec('DELETE FROM records WHERE seq = 1'));
  t.throws(() => log.db.exec(`UPDATE records SET cid = 'x' WHERE seq = 2`));
  t.throws(() => log.db.exec('UPDATE records SET batch_id = 7 WHERE seq = 1'), undefined, 'a record joins one batch');
  t.throws(() => log.db.exec(`UPDATE batches SET root = 'x'`));
  t.throws(() => log.db.exec('DELETE FROM batches'));
  const anchor: AnchorRef = { kind: 'local', statement: '{}', signature: 'c2ln', publicKey: 'a2V5' };
  log.setAnchor(1, anchor, 4);
  t.notThrows(() => log.setAnchor(1, anchor, 5), 'the same anchor again is a no-op');
  t.like(t.throws(() => log.setAnchor(1, { ...anchor, signature: 'b3RoZXI=' }, 6)), { code: 'LEDGER_CORRUPT' });
  t.like(t.throws(() => log.setAnchor(9, anchor, 6)), { code: 'NOT_FOUND' });
  t.deepEqual(log.unanchoredBatches(), []);
  // the open batch's queries use the partial index, lookups by CID/hash theirs
  const plan = (sql: string): string => (log.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
  t.regex(plan('SELECT seq, leaf FROM records WHERE batch_id IS NULL ORDER BY seq LIMIT 5'), /records_unbatched/);
  t.regex(plan(`SELECT seq FROM records WHERE cid = 'x' ORDER BY seq`), /records_cid/);
  t.regex(plan(`SELECT seq FROM records WHERE message_hash = 'x' ORDER BY seq`), /records_message_hash/);
});

test('local: a batch closed but not anchored before a crash is anchored at the next start', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const file = path.join(dir, 'ledger.db');
  const log = openRecordLog({ path: file });
  for (let i = 0; i < 3; i++) log.append(sampleRecord(i), Date.now());
  const closed = log.closeBatch(10, Date.now())!;
  log.close(); // crash between closing the batch and anchoring it
  const ledger = await openLocalLedger({ path: file, nodeKeyFile: path.join(dir, 'node-key.pem'), batchSize: 10, batchIntervalMs: 60_000 });
  t.teardown(() => ledger.close());
  const heard = await new Promise<Batch>((resolve) => ledger.onAnchored(resolve));
  t.deepEqual(heard, closed);
  t.true((await ledger.verify((await ledger.prove(2))!)).ok);
});

test('local: anchoring failures are retried with backoff and lose no records', async (t) => {
  const key = createMemoryNodeKey();
  const log = openRecordLog({ path: ':memory:' });
  const real = createLocalAnchorer({ key, log });
  let down = true;
  let attempts = 0;
  const flaky: Anchorer = {
    kind: 'local',
    async anchor(batch) {
      attempts++;
      if (down) throw new Error('chain unreachable');
      return real.anchor(batch);
    },
    check: (batch, ref) => real.check(batch, ref),
    close: () => real.close(),
  };
  const ledger = createLedger({ log, anchorer: flaky, batchSize: 2, batchIntervalMs: 20, retryBaseMs: 30, retryMaxMs: 100 });
  t.teardown(() => ledger.close());
  const seqs: number[] = [];
  for (let i = 0; i < 5; i++) seqs.push((await ledger.append(sampleRecord(i))).seq);
  const err = await t.throwsAsync(ledger.anchor());
  t.like(err, { code: 'ANCHOR_FAILED', name: 'AnchorError' });
  t.is(await ledger.prove(seqs[0]!), null);
  await new Promise((r) => setTimeout(r, 250));
  t.true(attempts >= 3, `retried in the background (${attempts} attempts)`);
  t.true(attempts < 20, `with backoff (${attempts} attempts)`);
  down = false;
  const anchored: number[] = [];
  ledger.onAnchored((b) => anchored.push(b.id));
  const deadline = Date.now() + 5_000;
  while (anchored.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(anchored, [1, 2, 3], 'all batches anchored, in order, without anchor()');
  for (const seq of seqs) t.true((await ledger.verify((await ledger.prove(seq))!)).ok);
});

test('local: close waits for an anchoring in flight', async (t) => {
  const key = createMemoryNodeKey();
  const log = openRecordLog({ path: ':memory:' });
  const real = createLocalAnchorer({ key, log });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const inFlight = new Promise<void>((r) => (started = r));
  const slow: Anchorer = { ...real, kind: 'local', anchor: async (b) => { started(); await gate; return real.anchor(b); } };
  const ledger = createLedger({ log, anchorer: slow, batchSize: 1, batchIntervalMs: 60_000 });
  await ledger.append(sampleRecord(0));
  await inFlight;
  let closed = false;
  const closing = ledger.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 30));
  t.false(closed);
  release();
  await closing;
  t.false(log.db.isOpen);
});
