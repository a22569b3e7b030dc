// Durability under SIGKILL: the gateway runs as a child process (`sealpost
// start`), four SMTP clients submit 200 messages, and the gateway is killed
// with SIGKILL once about 80 were answered 250. Right after the crash, with
// nothing running, every message that got its 250 has its ledger record, its
// ciphertext block and its queued delivery on disk. The gateway is started
// again; the clients resend what they got no 250 for (as a real client
// does); the recipient logs in and finds every message in INBOX: each 250'd
// one exactly once, as the ciphertext its 250 named, and the others at least
// once (a duplicate is allowed only for a message whose 250 was lost in the
// crash). Finally every 250'd message has an anchored, verifiable proof.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { ImapFlow } from 'imapflow';
import { CID } from 'multiformats/cid';
import nodemailer from 'nodemailer';
import { openProofParts } from '../../src/app.ts';
import { silentLogger } from '../../src/log.ts';
import type { Cid } from '../../src/storage/types.ts';
import { blockFile } from '../helpers/blocks.ts';
import { initSealpostDir, spawnSealpost, type SealpostProcess } from '../helpers/sealpost-process.ts';

const alice = { user: 'alice@example.test', password: 'alice-secret-1' };
const bob = { user: 'bob@example.test', password: 'bob-secret-22' };
const TOTAL = 200;
const KILL_AFTER = 80;
const CLIENTS = 4;

const subjectOf = (i: number): string => `kill test ${String(i).padStart(3, '0')}`;

function smtp(gw: SealpostProcess, caFile: string) {
  // One pooled connection per client: AUTH once, then one message after another.
  return nodemailer.createTransport({
    pool: true,
    maxConnections: 1,
    maxMessages: Infinity,
    host: '127.0.0.1',
    port: gw.ports.smtp,
    secure: false,
    requireTLS: true,
    tls: { ca: [fs.readFileSync(caFile)], servername: 'localhost' },
    auth: { user: alice.user, pass: alice.password },
  });
}

interface Outcome {
  /** message number → CID named by its 250 reply */
  acked: Map<number, string>;
  /** messages whose send failed (no 250 seen) */
  failed: Set<number>;
}

/**
 * Sends messages `queue` with CLIENTS parallel clients; `onAck` may return true to stop
 * (no new message is started after that). Each send that fails is recorded, never retried here.
 */
async function submit(gw: SealpostProcess, caFile: string, queue: number[], onAck: (acked: number) => boolean): Promise<Outcome> {
  const outcome: Outcome = { acked: new Map(), failed: new Set() };
  const todo = [...queue];
  let stop = false;
  const worker = async (): Promise<void> => {
    const transport = smtp(gw, caFile);
    try {
      for (let i = todo.shift(); i !== undefined && !stop; i = todo.shift()) {
        try {
          const sent = await transport.sendMail({
            from: alice.user,
            to: bob.user,
            subject: subjectOf(i),
            messageId: `<kill-${i}@example.test>`,
            text: `message ${i} of ${TOTAL}\r\n`,
          });
          const cid = /^250 2\.0\.0 Ok: queued as (baf[a-z2-7]+)$/.exec(sent.response)?.[1];
          if (cid === undefined) throw new Error(`unexpected reply ${sent.response}`);
          outcome.acked.set(i, cid);
          if (onAck(outcome.acked.size)) stop = true;
        } catch {
          outcome.failed.add(i);
          if (stop) break;
        }
      }
    } finally {
      transport.close();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  return outcome;
}

/** Runs `fn` on a SQLite file of the data dir (only while no gateway runs in THIS process). */
function withDb<T>(file: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

test('SIGKILL mid-submission: every 250 survives, nothing is lost or delivered twice', async (t) => {
  const started = Date.now();
  // Batches close by size (32) only, so the crash finds closed+anchored batches and an open one.
  const data = await initSealpostDir({
    users: [alice, bob],
    configure: (c) => {
      c.ledger.batchSize = 32;
      c.ledger.batchIntervalMs = 60_000;
    },
  });
  t.teardown(() => data.remove());
  const first = await spawnSealpost(data.dir);
  t.teardown(async () => {
    await first.stop();
  });

  // Phase 1: submit until ~80 got 250, then SIGKILL the gateway at once.
  let killed = false;
  const all = Array.from({ length: TOTAL }, (_, i) => i + 1);
  const phase1 = await submit(first, data.caFile, all, (acked) => {
    if (acked >= KILL_AFTER && !killed) {
      killed = true;
      first.kill('SIGKILL');
    }
    return killed;
  });
  const exit = await first.exited;
  t.is(exit.signal, 'SIGKILL', `the gateway was killed, not ended otherwise:\n${first.stderrTail()}`);
  const acked = phase1.acked;
  t.true(acked.size >= KILL_AFTER, `${acked.size} messages got 250 before the kill`);
  t.true(acked.size < TOTAL, 'the kill came mid-submission');
  t.true(phase1.failed.size <= CLIENTS - 1, 'only sends in flight at the kill failed');
  t.log(`phase 1: ${acked.size} × 250, ${phase1.failed.size} sends cut off by the kill, ${Date.now() - started} ms`);

  // Right after the crash, nothing running: every 250'd message is on disk.
  const ledgerDb = path.join(data.dir, 'ledger.db');
  const bobId = withDb(path.join(data.dir, 'sealpost.db'), (db) => (db.prepare('SELECT id FROM accounts WHERE address = ?').get(bob.user) as { id: number }).id);
  let openAtCrash = 0;
  withDb(ledgerDb, (db) => {
    const byCid = db.prepare('SELECT seq, batch_id FROM records WHERE cid = ?');
    for (const [i, cid] of acked) {
      const rows = byCid.all(cid) as Array<{ seq: number; batch_id: number | null }>;
      t.is(rows.length, 1, `message ${i}: one ledger record for ${cid}`);
      if (rows[0]?.batch_id === null) openAtCrash++;
    }
  });
  const records = withDb(ledgerDb, (db) => (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n);
  t.log(`${records} ledger records at the crash (${records - acked.size} of messages whose 250 was lost), ${openAtCrash} of the 250'd ones in the open batch`);
  for (const [i, cid] of acked) {
    const file = blockFile(path.join(data.dir, 'ipfs'), cid);
    t.true(fs.existsSync(file), `message ${i}: ciphertext block ${cid} is stored`);
    const parsed = CID.parse(cid);
    if (parsed.code === 0x55 && fs.existsSync(file)) {
      // A raw block: its file must hash to the CID.
      t.deepEqual(createHash('sha256').update(fs.readFileSync(file)).digest(), Buffer.from(parsed.multihash.digest), `message ${i}: block matches its CID`);
    }
  }
  withDb(path.join(data.dir, 'sealpost.db'), (db) => {
    const queued = db.prepare("SELECT count(*) AS n FROM deliveries WHERE cid = ? AND account_id = ? AND state = 'pending'");
    for (const [i, cid] of acked) t.is((queued.get(cid, bobId) as { n: number }).n, 1, `message ${i}: one delivery queued for bob`);
  });

  // Phase 2: start again; the clients resend every message they got no 250 for.
  const second = await spawnSealpost(data.dir);
  t.teardown(async () => {
    await second.stop();
  });
  const resend = all.filter((i) => !acked.has(i));
  const phase2 = await submit(second, data.caFile, resend, () => false);
  t.deepEqual([...phase2.failed], [], `every resend got 250:\n${second.stderrTail()}`);
  t.is(phase2.acked.size, resend.length);
  t.log(`phase 2: ${phase2.acked.size} resent, ${Date.now() - started} ms`);

  // Bob logs in: the open batch is anchored, his mail decrypted into INBOX.
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: second.ports.imaps,
    secure: true,
    tls: { ca: [fs.readFileSync(data.caFile)], servername: 'localhost' },
    auth: { user: bob.user, pass: bob.password },
    logger: false,
  } as ConstructorParameters<typeof ImapFlow>[0]);
  await client.connect();
  t.teardown(() => client.logout().catch(() => undefined));
  // The login waits for the drain (bounded); wait until the queue is empty to be sure.
  const pending = (): number => withDb(path.join(data.dir, 'sealpost.db'), (db) => (db.prepare("SELECT count(*) AS n FROM deliveries WHERE state = 'pending'").get() as { n: number }).n);
  const deadline = Date.now() + 30_000;
  while (pending() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(pending(), 0, `every delivery was made:\n${second.stderrTail()}`);

  const copies = new Map<string, string[]>();
  const lock = await client.getMailboxLock('INBOX');
  try {
    for await (const m of client.fetch('1:*', { envelope: true, headers: ['x-sealpost-cid'] })) {
      const subject = m.envelope?.subject ?? '';
      const cid = /^X-Sealpost-CID: (\S+)/im.exec(m.headers?.toString('latin1') ?? '')?.[1] ?? '';
      copies.set(subject, [...(copies.get(subject) ?? []), cid]);
    }
  } finally {
    lock.release();
  }
  t.log(`INBOX: ${[...copies.values()].reduce((n, c) => n + c.length, 0)} messages, ${copies.size} distinct subjects, ${Date.now() - started} ms`);
  t.deepEqual([...copies.keys()].sort(), all.map(subjectOf), 'every message is in INBOX (and nothing else)');
  for (const [i, cid] of acked) t.deepEqual(copies.get(subjectOf(i)), [cid], `250'd message ${i}: exactly once, the ciphertext its 250 named`);
  for (const i of resend) {
    const got = copies.get(subjectOf(i)) ?? [];
    t.true(got.includes(phase2.acked.get(i) ?? '?'), `resent message ${i}: the resent copy is there`);
    t.true(got.length <= 2, `resent message ${i}: at most one extra copy (from before the crash)`);
  }
  const duplicated = resend.filter((i) => (copies.get(subjectOf(i)) ?? []).length > 1);
  t.log(`${duplicated.length} message(s) delivered twice, all of them without a 250 before the crash: ${duplicated.join(', ') || 'none'}`);
  await client.logout();

  // Stopped gracefully, every 250'd message has an anchored proof that verifies, and its ciphertext reads back.
  t.is((await second.stop()).code, 0, second.stderrTail());
  const parts = await openProofParts({ dataDir: data.dir, logger: silentLogger() });
  try {
    for (const [i, cid] of [...acked, ...phase2.acked]) {
      const [seq] = await parts.ledger.find({ cid });
      if (seq === undefined) return t.fail(`message ${i}: no ledger record for ${cid}`);
      const proof = await parts.ledger.prove(seq);
      if (proof === null) return t.fail(`message ${i}: record ${seq} is not anchored`);
      const verification = await parts.ledger.verify(proof);
      t.true(verification.ok, `message ${i}: ${JSON.stringify(verification.steps)}`);
      t.true((await parts.storage.get(cid as Cid)).byteLength > 0);
    }
  } finally {
    await parts.close();
  }
  t.log(`done in ${Date.now() - started} ms`);
});
