// Issue 4 on the real EVM ledger: `sealpost devnet --nodes 5` (anvil, the
// SealpostRegistry contract, each node anchoring to its own contract). An
// account on node 1 writes to the accounts on nodes 3 and 5, once plainly and
// once expiring; both read each message over IMAP STARTTLS with a valid
// signature and an anchor on the chain; the nodes that are not recipients
// queue nothing; the expiring one disappears at its expiry; and the chain's
// announcement log names no recipient.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import nodemailer from 'nodemailer';
import { readDevnetState } from '../../src/devnet/state.ts';
import { openEvmRegistry } from '../../src/registry/evm.ts';
import { devnetImap, portOf, runDevnet, shutdown, type AccountLine } from './run.ts';

const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-devnet5-')), 'net');
test.after.always(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));


/** INBOX sources, polled until `count` are there or the time is up. */
async function inbox(account: AccountLine, count: number, timeoutMs: number): Promise<string[]> {
  const client = devnetImap(account);
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sources: string[] = [];
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.noop();
        const mailbox = client.mailbox;
        if (mailbox !== false && mailbox.exists > 0) {
          for await (const m of client.fetch('1:*', { source: true })) sources.push(m.source?.toString() ?? '');
        }
      } finally {
        lock.release();
      }
      if (sources.length >= count || Date.now() > deadline) return sources;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    await client.logout();
  }
}

/** Deliveries a node has queued (read by a child process: never open a live SQLite file in a process that also holds it). */
function deliveriesOf(account: AccountLine): number {
  const db = new DatabaseSync(path.join(account.dataDir, 'sealpost.db'), { readOnly: true });
  try {
    return Number((db.prepare('SELECT count(*) AS n FROM deliveries').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

test('five nodes on anvil: node 1 writes to nodes 3 and 5, plain and expiring; only they read it', async (t) => {
  t.timeout(300_000);
  const run = runDevnet(['--nodes', '5', '--dir', dir, '--json']);
  t.teardown(() => shutdown(run, dir));
  const accounts = await run.ready(240_000);
  t.is(accounts.length, 5);
  const [n1, n2, n3, n4, n5] = accounts;
  if (n1 === undefined || n2 === undefined || n3 === undefined || n4 === undefined || n5 === undefined) return t.fail();
  // Recipients log in once (unlocking their keys); the nodes have registered by now.
  for (const a of [n3, n5]) t.deepEqual(await inbox(a, 0, 0), []);

  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: portOf(n1.smtp),
    secure: false,
    requireTLS: true,
    tls: { ca: [fs.readFileSync(path.join(n1.dataDir, 'tls', 'cert.pem'))], servername: 'localhost' },
    auth: { user: n1.address, pass: n1.password },
  });
  t.teardown(() => transport.close());
  const plain = await transport.sendMail({ from: n1.address, to: [n3.address, n5.address], subject: 'Across the devnet', text: 'Plain mail between nodes.' });
  t.deepEqual(plain.accepted.sort(), [n3.address, n5.address].sort());
  const expiring = await transport.sendMail({ from: n1.address, to: [n3.address, n5.address], subject: 'Gone soon [expires 40s]', text: 'This one expires.' });
  const sentAt = Date.now();
  t.deepEqual(expiring.accepted.sort(), [n3.address, n5.address].sort());

  for (const recipient of [n3, n5]) {
    const sources = await inbox(recipient, 2, 60_000);
    t.is(sources.length, 2, `node ${recipient.node} got both`);
    const plainCopy = sources.find((s) => s.includes('Plain mail between nodes.'));
    const expiringCopy = sources.find((s) => s.includes('This one expires.'));
    t.truthy(plainCopy);
    t.truthy(expiringCopy, sources.join('\n----\n').slice(0, 3000));
    for (const copy of [plainCopy, expiringCopy]) {
      t.regex(copy ?? '', new RegExp(`X-Sealpost-Signature: valid; signer=${n1.address.replace(/\./g, '\\.')}`));
      t.regex(copy ?? '', /X-Sealpost-Anchor: evm chain \d+; block=\d+;/);
    }
    t.regex(expiringCopy ?? '', /\r\nSubject: Gone soon\r\n/);
  }
  // Nodes 2 and 4 scanned the same announcements and queued nothing.
  t.is(deliveriesOf(n2), 0);
  t.is(deliveriesOf(n4), 0);
  // What the chain holds names no recipient: no address, no node id, in any announcement.
  const state = await readDevnetState(dir);
  const registry = await openEvmRegistry({ rpcUrl: state?.chain.rpcUrl ?? '', contract: state?.chain.registry ?? '' });
  t.teardown(() => registry.close());
  const page = await registry.scanAnnouncements(null, 100);
  t.is(page.entries.length, 4, 'one announcement per message and recipient node');
  const nodeIds = await Promise.all([n3, n5].map(async (a) => (await registry.lookupAddress(a.address))?.nodeId));
  for (const entry of page.entries) {
    const bytes = Buffer.concat([entry.ephemeralPublic, entry.tag, entry.payload]);
    for (const a of [n3, n5]) t.false(bytes.includes(a.address) || bytes.includes(a.address.split('@')[0] ?? a.address));
    for (const id of nodeIds) if (id !== undefined) t.false(bytes.includes(Buffer.from(id)), 'no recipient node id');
  }

  // At the expiry the expiring copy leaves both recipients' INBOX; the plain one stays.
  const wait = sentAt + 40_000 + 3_000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  for (const recipient of [n3, n5]) {
    const left = await inbox(recipient, 1, 0);
    t.is(left.length, 1, `node ${recipient.node}: only the plain message is left`);
    t.true(left[0]?.includes('Plain mail between nodes.'));
  }
});
