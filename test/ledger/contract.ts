// The Ledger contract (src/ledger/types.ts), run against every backend: the
// embedded one on a file and in memory (local.test.ts) and the EVM one on a
// real anvil. Appending, batching by size and by interval, proofs that
// verify, and proofs that must not: an altered stored record, an altered
// audit path, an altered or swapped anchor. A crash before anchoring must
// lose nothing. Errors are checked by `code`.
import { createHash } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import { leafHash } from '../../src/ledger/record.ts';
import type { AnchorRef, Batch, Ledger, LedgerRecord, Proof } from '../../src/ledger/types.ts';

export interface LedgerTestOptions {
  batchSize: number;
  batchIntervalMs: number;
}

export interface LedgerUnderTest {
  ledger: Ledger;
  /** Rewrites the stored record `seq` in the backend's store (as an attacker
   *  with write access to the database would), keeping it well-formed. */
  tamper(seq: number): Promise<void>;
  /** Opens the backend again on the same store, after the contract closed
   *  `ledger` without anchoring (what a crash leaves behind). */
  reopen?(options: LedgerTestOptions): Promise<Ledger>;
  /** Closes whatever is open and removes the store. */
  cleanup(): Promise<void>;
}

export type OpenLedger = (options: LedgerTestOptions) => Promise<LedgerUnderTest>;

/** The record number `i` of a test: distinct CIDs and hashes, a v4 sender. */
export function sampleRecord(i: number, over: Partial<LedgerRecord> = {}): LedgerRecord {
  const hash = createHash('sha256').update(`message ${i}`).digest('hex');
  return {
    cid: `bafkrei${hash.slice(0, 52)}`,
    messageHash: hash,
    sender: '0123456789ABCDEF0123456789ABCDEF01234567',
    time: 1764067200000 + i,
    expires: i % 2 === 0 ? null : 1764067200000 + 86_400_000,
    ...over,
  };
}

/** A copy of `anchor` with its evidence altered: one signature byte, or the transaction hash. */
export function alterAnchor(anchor: AnchorRef): AnchorRef {
  if (anchor.kind === 'local') {
    const sig = Buffer.from(anchor.signature, 'base64');
    sig[10] = (sig[10] as number) ^ 0x01;
    return { ...anchor, signature: sig.toString('base64') };
  }
  const last = anchor.tx.slice(-1);
  return { ...anchor, tx: `${anchor.tx.slice(0, -1)}${last === '0' ? '1' : '0'}` };
}

const flipHexDigit = (h: string, at: number): string => `${h.slice(0, at)}${h[at] === '0' ? '1' : '0'}${h.slice(at + 1)}`;

const LONG = 60_000;

export function ledgerContract(test: TestFn, name: string, open: OpenLedger): void {
  const setup = async (t: ExecutionContext, options: LedgerTestOptions): Promise<LedgerUnderTest> => {
    const under = await open(options);
    t.teardown(() => under.cleanup());
    return under;
  };
  const appendAll = async (ledger: Ledger, from: number, count: number): Promise<number[]> => {
    const seqs: number[] = [];
    for (let i = from; i < from + count; i++) seqs.push((await ledger.append(sampleRecord(i))).seq);
    return seqs;
  };
  const mustProve = async (ledger: Ledger, seq: number): Promise<Proof> => {
    const proof = await ledger.prove(seq);
    if (!proof) throw new Error(`record ${seq} has no proof`);
    return proof;
  };
  const failedSteps = async (ledger: Ledger, proof: Proof): Promise<string[]> => {
    const v = await ledger.verify(proof);
    const failed = v.steps.filter((s) => !s.ok).map((s) => s.step);
    if (v.ok !== (failed.length === 0)) throw new Error('verification ok disagrees with its steps');
    return failed;
  };
  /** Resolves when `check` is true, polling; fails after `ms`. */
  const eventually = async (check: () => Promise<boolean>, ms: number, what: string): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test(`${name}: append, anchor, prove and verify: record, merkle and anchor steps pass`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 100, batchIntervalMs: LONG });
    const records = [0, 1, 2].map((i) => sampleRecord(i));
    const appended = [];
    for (const r of records) appended.push(await ledger.append(r));
    t.deepEqual(appended.map((a) => a.seq), [appended[0]!.seq, appended[0]!.seq + 1, appended[0]!.seq + 2]);
    t.true(appended[0]!.seq >= 1);
    t.deepEqual(appended.map((a) => a.leaf), records.map((r) => leafHash(r)));
    const batches = await ledger.anchor();
    t.is(batches.length, 1);
    t.like(batches[0], { firstSeq: appended[0]!.seq, size: 3 });
    t.regex(batches[0]!.root, /^[0-9a-f]{64}$/);
    for (const [i, { seq }] of appended.entries()) {
      t.deepEqual(await ledger.get(seq), records[i]);
      const proof = await mustProve(ledger, seq);
      t.like(proof, { seq, index: i, record: records[i], batch: batches[0] });
      t.is(proof.anchor.kind, ledger.kind);
      const v = await ledger.verify(proof);
      t.true(v.ok, JSON.stringify(v.steps));
      t.deepEqual(v.steps.map((s) => [s.step, s.ok]), [['record', true], ['merkle', true], ['anchor', true]]);
      for (const s of v.steps) t.true(s.detail.length > 10);
      // a proof survives a round trip through JSON (it is handed to people as a file)
      t.true((await ledger.verify(JSON.parse(JSON.stringify(proof)) as Proof)).ok);
    }
    t.deepEqual(await ledger.anchor(), [], 'nothing left to anchor');
  });

  test(`${name}: batches close by size: batchSize 4, 10 appends → 4, 4, 2`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 4, batchIntervalMs: LONG });
    const anchored: Batch[] = [];
    const unsubscribe = ledger.onAnchored((b) => anchored.push(b));
    const seqs = await appendAll(ledger, 0, 10);
    const flushed = await ledger.anchor();
    t.deepEqual(anchored.map((b) => [b.firstSeq, b.size]), [[seqs[0], 4], [seqs[4], 4], [seqs[8], 2]]);
    t.deepEqual(flushed, anchored.slice(anchored.length - flushed.length), 'anchor() returns what it anchored');
    t.true(flushed.some((b) => b.size === 2));
    for (const seq of seqs) t.true((await ledger.verify(await mustProve(ledger, seq))).ok);
    unsubscribe();
    await appendAll(ledger, 10, 4);
    await eventually(async () => (await ledger.prove(seqs[9]! + 4)) !== null, 10_000, 'a full batch to anchor by itself');
    t.is(anchored.length, 3, 'an unsubscribed listener hears nothing');
  });

  test(`${name}: batches close by interval: the open batch is anchored without anchor()`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 1000, batchIntervalMs: 50 });
    const heard = new Promise<Batch>((resolve) => ledger.onAnchored(resolve));
    const seqs = await appendAll(ledger, 0, 2);
    // A ref'd timer: the ledger's own timer does not hold the process open (the
    // gateway's servers do), so without it the test process could go idle and exit.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no batch anchored within 10 s')), 10_000); });
    const batch = await Promise.race([heard, timeout]).finally(() => clearTimeout(timer));
    t.like(batch, { firstSeq: seqs[0], size: 2 });
    const v = await ledger.verify(await mustProve(ledger, seqs[1]!));
    t.true(v.ok);
  });

  test(`${name}: prove is null until the record's batch is anchored; unknown records are NOT_FOUND`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    const { seq } = await ledger.append(sampleRecord(0));
    t.is(await ledger.prove(seq), null);
    const err = await t.throwsAsync(ledger.prove(seq + 1000));
    t.is((err as { code?: string }).code, 'NOT_FOUND');
    t.is(await ledger.get(seq + 1000), null);
    await ledger.anchor();
    t.truthy(await ledger.prove(seq));
  });

  test(`${name}: find by CID and by message hash`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    const a = sampleRecord(1);
    const b = sampleRecord(2);
    const s1 = (await ledger.append(a)).seq;
    const s2 = (await ledger.append({ ...b, messageHash: a.messageHash })).seq; // one message, another copy
    const s3 = (await ledger.append({ ...b, cid: a.cid, time: b.time + 1 })).seq;
    t.deepEqual(await ledger.find({ cid: a.cid }), [s1, s3]);
    t.deepEqual(await ledger.find({ messageHash: a.messageHash }), [s1, s2]);
    t.deepEqual(await ledger.find({ messageHash: b.messageHash }), [s3]);
    t.deepEqual(await ledger.find({ cid: 'bafkreinothere' }), []);
  });

  test(`${name}: appendMany appends in order, all or none, and its records prove like any`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 100, batchIntervalMs: LONG });
    const first = (await ledger.append(sampleRecord(0))).seq;
    const many = await ledger.appendMany([1, 2, 3].map((i) => sampleRecord(i)));
    t.deepEqual(many.map((a) => a.seq), [first + 1, first + 2, first + 3]);
    const err = await t.throwsAsync(ledger.appendMany([sampleRecord(4), sampleRecord(5, { cid: '' })]));
    t.like(err as object, { code: 'INVALID', field: 'cid' });
    t.deepEqual(await ledger.find({ cid: sampleRecord(4).cid }), [], 'a refused batch appends nothing');
    t.deepEqual(await ledger.appendMany([]), []);
    await ledger.anchor();
    const proof = await mustProve(ledger, first + 2);
    t.deepEqual(proof.record, sampleRecord(2));
    t.deepEqual(await failedSteps(ledger, proof), []);
  });

  test(`${name}: an invalid record is refused with INVALID naming the field, and takes no sequence number`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    const first = (await ledger.append(sampleRecord(0))).seq;
    const cases: [string, Partial<LedgerRecord>][] = [
      ['cid', { cid: '' }],
      ['messageHash', { messageHash: 'ABC' }],
      ['sender', { sender: 'alice@example.test' }],
      ['time', { time: 1.5 }],
      ['expires', { expires: Number.NaN }],
    ];
    for (const [field, change] of cases) {
      const err = await t.throwsAsync(ledger.append(sampleRecord(1, change)));
      t.like(err as object, { code: 'INVALID', field });
    }
    t.is((await ledger.append(sampleRecord(1))).seq, first + 1);
    t.deepEqual(await ledger.find({ cid: '' }), []);
  });

  test(`${name}: a record altered in the store no longer verifies`, async (t) => {
    const { ledger, tamper } = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    const seqs = await appendAll(ledger, 0, 4);
    await tamper(seqs[3]!); // altered before its batch closes
    await ledger.anchor();
    await tamper(seqs[1]!); // altered after anchoring
    for (const seq of [seqs[1]!, seqs[3]!]) {
      const proof = await mustProve(ledger, seq);
      t.notDeepEqual(proof.record, sampleRecord(seq - seqs[0]!), 'the proof carries the altered record');
      const failed = await failedSteps(ledger, proof);
      t.true(failed.includes('record') || failed.includes('merkle'), `failed: ${failed.join(',')}`);
      t.false(failed.includes('anchor'), 'the anchor itself is intact');
    }
    t.deepEqual(await failedSteps(ledger, await mustProve(ledger, seqs[0]!)), [], 'the other records still verify');
    t.deepEqual(await failedSteps(ledger, await mustProve(ledger, seqs[2]!)), []);
  });

  test(`${name}: an altered proof fails at merkle (path, index, record, root)`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    const seqs = await appendAll(ledger, 0, 5);
    await ledger.anchor();
    const proof = await mustProve(ledger, seqs[2]!);
    t.true(proof.path.length >= 2);
    for (let i = 0; i < proof.path.length; i++) {
      const path = proof.path.map((h, j) => (j === i ? flipHexDigit(h, 5) : h));
      t.deepEqual(await failedSteps(ledger, { ...proof, path }), ['merkle'], `path[${i}]`);
    }
    t.deepEqual(await failedSteps(ledger, { ...proof, path: proof.path.slice(1) }), ['merkle'], 'short path');
    t.deepEqual(await failedSteps(ledger, { ...proof, path: [...proof.path, proof.batch.root] }), ['merkle'], 'long path');
    t.deepEqual(await failedSteps(ledger, { ...proof, index: proof.index + 1 }), ['merkle'], 'index');
    t.deepEqual(await failedSteps(ledger, { ...proof, record: { ...proof.record, time: proof.record.time + 1 } }), ['merkle'], 'record in the proof');
    t.deepEqual(await failedSteps(ledger, { ...proof, record: { ...proof.record, sender: 'nobody' } }), ['record', 'merkle'], 'malformed record');
    t.deepEqual(await failedSteps(ledger, { ...proof, path: ['not hex'] }), ['merkle'], 'garbage path');
    const root = flipHexDigit(proof.batch.root, 0);
    t.deepEqual(await failedSteps(ledger, { ...proof, batch: { ...proof.batch, root } }), ['merkle', 'anchor'], 'root');
  });

  test(`${name}: an altered or swapped anchor fails at anchor`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    const [a] = await appendAll(ledger, 0, 2);
    await ledger.anchor();
    const [b] = await appendAll(ledger, 2, 3);
    await ledger.anchor();
    const pa = await mustProve(ledger, a!);
    const pb = await mustProve(ledger, b!);
    t.not(pa.batch.id, pb.batch.id);
    t.deepEqual(await failedSteps(ledger, { ...pa, anchor: alterAnchor(pa.anchor) }), ['anchor'], 'altered evidence');
    t.deepEqual(await failedSteps(ledger, { ...pa, anchor: pb.anchor }), ['anchor'], 'the anchor of another batch');
    // a batch that claims another size than the anchored one (the path alone would still fit)
    t.true((await failedSteps(ledger, { ...pb, batch: { ...pb.batch, size: pb.batch.size + 1 } })).includes('anchor'), 'batch size');
    const otherKind = (pa.anchor.kind === 'local'
      ? { kind: 'evm', chainId: 31337, contract: `0x${'11'.repeat(20)}`, tx: `0x${'22'.repeat(32)}`, block: 1, time: 0 }
      : { kind: 'local', statement: '{}', signature: '', publicKey: '' }) as AnchorRef;
    t.deepEqual(await failedSteps(ledger, { ...pa, anchor: otherKind }), ['anchor'], 'another kind of anchor');
  });

  test(`${name}: records appended before a crash are anchored after reopening`, async (t) => {
    const under = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    if (!under.reopen) {
      t.pass('this backend cannot be reopened');
      return;
    }
    const seqs = await appendAll(under.ledger, 0, 5);
    t.is(await under.ledger.prove(seqs[0]!), null);
    await under.ledger.close(); // no anchor(): the batch is still open, as after a crash
    const ledger = await under.reopen({ batchSize: 1000, batchIntervalMs: 50 });
    await eventually(async () => (await ledger.prove(seqs[4]!)) !== null, 10_000, 'the records to be anchored after reopening');
    for (const [i, seq] of seqs.entries()) {
      t.deepEqual(await ledger.get(seq), sampleRecord(i));
      t.true((await ledger.verify(await mustProve(ledger, seq))).ok);
    }
    t.is((await ledger.append(sampleRecord(5))).seq, seqs[4]! + 1, 'sequence numbers continue');
  });

  test(`${name}: 1,000 records in one batch prove and verify`, async (t) => {
    const { ledger } = await setup(t, { batchSize: 1000, batchIntervalMs: LONG });
    const anchored: Batch[] = [];
    ledger.onAnchored((b) => anchored.push(b));
    const seqs = await appendAll(ledger, 0, 1000);
    await ledger.anchor();
    t.deepEqual(anchored.map((b) => b.size), [1000]);
    const picks = [0, 1, 2, 255, 256, 511, 512, 767, 998, 999];
    for (let i = 0; i < 10; i++) picks.push(Math.floor(Math.random() * 1000));
    for (const i of picks) {
      const proof = await mustProve(ledger, seqs[i]!);
      t.is(proof.index, i);
      // 1000 = 512+256+128+64+32+8: the last 8 leaves sit two levels higher than the rest
      t.is(proof.path.length, i >= 992 ? 8 : 10, `path length of leaf ${i}`);
      const v = await ledger.verify(proof);
      if (!v.ok) t.fail(`record ${i}: ${JSON.stringify(v.steps)}`);
    }
  });
}
