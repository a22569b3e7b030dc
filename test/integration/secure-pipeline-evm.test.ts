// The secure pipeline end to end with the EVM ledger on a real anvil:
// `sealpost ledger deploy` switches a running node's ledger to a freshly
// deployed anchoring contract; messages wait in an open batch; the gateway
// is restarted mid-batch and loses nothing (the ledger resumes the
// unbatched records at open and anchors them on chain); the recipient reads
// every message with its on-chain anchor in X-Sealpost-Anchor; and
// `sealpost verify` proves a saved .eml against the chain, fails for an
// altered ledger record, and fails clearly when the chain cannot be reached.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import type { Proof } from '../../src/ledger/types.ts';
import { stripView } from '../../src/pipeline/view.ts';
import { startAnvil } from '../helpers/anvil.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { imapClient as imap, inboxSources, smtpClient as smtp } from '../helpers/clients.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';

const alice = { user: 'alice@example.test', password: 'alice-secret-1' };
const bob = { user: 'bob@example.test', password: 'bob-secret-22' };
const MESSAGES = 5;




/** One JSON-RPC call to anvil, as any chain client would make it. */
async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined || body.result === undefined) throw new Error(`${method}: ${body.error?.message ?? 'no result'}`);
  return body.result;
}

/** Polls until `probe` returns a value (not null), or fails after `ms`. */
async function eventually<T>(ms: number, probe: () => Promise<T | null>): Promise<T | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('EVM ledger on anvil: a restart mid-batch loses nothing; every message is anchored on chain, read and verified', async (t) => {
  const anvil = await startAnvil();
  t.teardown(() => anvil.stop());
  const server = await startSealpost({ users: [alice, bob] });
  t.teardown(() => server.stop());
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-evm-key-'));
  t.teardown(() => fs.rmSync(keyDir, { recursive: true, force: true }));
  const keyFile = path.join(keyDir, 'evm.key');
  fs.writeFileSync(keyFile, `${anvil.privateKey}\n`, { mode: 0o600 });

  // Deploy the anchoring contract: the config switches to the EVM backend.
  const deploy = await sealpostCli(['ledger', 'deploy', '--data-dir', server.dir, '--private-key-file', keyFile, '--rpc-url', anvil.rpcUrl]);
  t.is(deploy.code, 0, deploy.stdout + deploy.stderr);
  const contract = /^Deployed the anchoring contract at (0x[0-9a-fA-F]{40})$/m.exec(deploy.stdout)?.[1] ?? '';
  t.regex(contract, /^0x[0-9a-fA-F]{40}$/);
  t.regex(deploy.stdout, /chain 31337, block \d+, transaction 0x[0-9a-f]{64}/);
  // Big batches, long interval: what is sent stays in the open batch.
  await server.restart((c) => {
    c.ledger.batchSize = 1000;
    c.ledger.batchIntervalMs = 60_000;
  });
  t.is(server.gateway.ledger.kind, 'evm');

  const subjects = Array.from({ length: MESSAGES }, (_, i) => `evm message ${i + 1}`);
  const transport = smtp(server, alice);
  const cids: string[] = [];
  for (const subject of subjects) {
    const sent = await transport.sendMail({ from: alice.user, to: bob.user, subject, text: `body of ${subject}\r\n` });
    t.deepEqual(sent.accepted, [bob.user]);
    const cid = /^250 2\.0\.0 Ok: queued as (baf[a-z2-7]+)$/.exec(sent.response)?.[1];
    if (cid === undefined) return t.fail(`unexpected reply ${sent.response}`);
    cids.push(cid);
  }
  transport.close();
  const seqs = await Promise.all(cids.map(async (cid) => (await server.gateway.ledger.find({ cid }))[0] ?? 0));
  t.deepEqual(seqs, subjects.map((_, i) => i + 1), 'one ledger record per message, in order');
  for (const seq of seqs) t.is(await server.gateway.ledger.prove(seq), null, `record ${seq} waits in the open batch`);
  const blockBefore = Number(await rpc<string>(anvil.rpcUrl, 'eth_blockNumber', []));

  // Restart mid-batch, with a short interval: the open batch is resumed, closed and anchored.
  await server.restart((c) => {
    c.ledger.batchIntervalMs = 300;
  });
  const started = Date.now();
  const proofs: Proof[] = [];
  for (const seq of seqs) {
    const proof = await eventually(15_000, () => server.gateway.ledger.prove(seq));
    if (proof === null) return t.fail(`record ${seq} was not anchored within 15 s of the restart`);
    proofs.push(proof);
  }
  t.log(`all ${MESSAGES} records anchored ${Date.now() - started} ms after the restart (before anyone logged in)`);
  const anchors = new Set(proofs.map((p) => (p.anchor.kind === 'evm' ? p.anchor.tx : 'not evm')));
  t.is(anchors.size, 1, 'the resumed batch is anchored in one transaction');
  const first = proofs[0];
  if (first === undefined || first.anchor.kind !== 'evm') return t.fail('not an EVM anchor');
  t.is(first.anchor.chainId, 31337);
  t.is(first.anchor.contract.toLowerCase(), contract.toLowerCase());
  t.is(first.batch.size, MESSAGES);
  t.true(first.anchor.block > blockBefore, 'anchored in a block mined after the messages were accepted');

  // What one anchoring transaction costs, read back from the chain.
  const receipt = await rpc<{ gasUsed: string; status: string; to: string; blockNumber: string }>(anvil.rpcUrl, 'eth_getTransactionReceipt', [first.anchor.tx]);
  t.is(receipt.status, '0x1');
  t.is(receipt.to.toLowerCase(), contract.toLowerCase());
  t.is(Number(receipt.blockNumber), first.anchor.block);
  t.log(`gas used by the anchoring transaction of batch ${first.batch.id} (${first.batch.size} records): ${Number(receipt.gasUsed)}`);

  // Bob logs in and reads every message, each with its on-chain anchor.
  const bobImap = imap(server, bob);
  await bobImap.connect();
  t.teardown(() => bobImap.logout().catch(() => undefined));
  const sources = await inboxSources(bobImap);
  t.is(sources.length, MESSAGES);
  const seen = new Map<string, Buffer>();
  for (const source of sources) {
    const { fields, removed } = stripView(source);
    t.is(removed, 3);
    const subject = /^Subject: (.*)$/m.exec(source.toString('latin1'))?.[1]?.trim() ?? '';
    const cid = fields.get('x-sealpost-cid') ?? '';
    const index = cids.indexOf(cid);
    t.true(index >= 0, `the CID of "${subject}" is one the 250 replies named`);
    t.is(subjects[index], subject);
    const anchor = fields.get('x-sealpost-anchor') ?? '';
    const match = /^evm chain 31337; block=(\d+); tx=(0x[0-9a-f]{64}); contract=(0x[0-9a-fA-F]{40}); root=([0-9a-f]{64}); record=(\d+)$/.exec(anchor);
    if (match === null) return t.fail(`unexpected X-Sealpost-Anchor: ${anchor}`);
    t.is(Number(match[1]), first.anchor.block);
    t.is(match[2], first.anchor.tx);
    t.is(match[3]?.toLowerCase(), contract.toLowerCase());
    t.is(match[4], first.batch.root);
    t.is(Number(match[5]), index + 1);
    seen.set(subject, source);
  }
  t.deepEqual([...seen.keys()].sort(), [...subjects].sort(), 'each message exactly once');

  // verify proves a saved .eml against the chain.
  const eml = path.join(keyDir, 'saved.eml');
  fs.writeFileSync(eml, seen.get(subjects[0] ?? '') ?? '');
  const ok = await sealpostCli(['verify', '--data-dir', server.dir, eml]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  for (const step of ['message', 'record', 'ciphertext', 'merkle']) t.regex(ok.stdout, new RegExp(`^ok +${step} `, 'm'));
  t.regex(ok.stdout, new RegExp(`^ok +anchor +batch ${first.batch.id} \\(records 1\\.\\.${MESSAGES}\\), .*anchored on chain 31337 in block ${first.anchor.block} .*tx ${first.anchor.tx}`, 'm'));
  t.regex(ok.stdout, /^verified: this exact message was recorded on /m);

  // A record altered in ledger.db fails verify (record 2; record 1 stays provable).
  const db = new DatabaseSync(path.join(server.dir, 'ledger.db'));
  try {
    db.exec('DROP TRIGGER IF EXISTS records_immutable');
    const row = db.prepare('SELECT record FROM records WHERE seq = 2').get() as { record: string };
    const forged = row.record.replace(/"time":(\d+)/, (_m, n: string) => `"time":${Number(n) - 86_400_000}`);
    t.not(forged, row.record);
    db.prepare('UPDATE records SET record = ? WHERE seq = 2').run(forged);
  } finally {
    db.close();
  }
  const tampered = await sealpostCli(['verify', '--data-dir', server.dir, '--cid', cids[1] ?? '']);
  t.is(tampered.code, 1, tampered.stdout);
  t.regex(tampered.stdout, /^FAILED (record|merkle) /m);
  t.regex(tampered.stdout, /^NOT verified/m);
  t.is((await sealpostCli(['verify', '--data-dir', server.dir, eml])).code, 0, 'the untouched record still verifies');

  // With the chain gone, the anchor cannot be checked: exit 1, saying so.
  await anvil.stop();
  const offline = await sealpostCli(['verify', '--data-dir', server.dir, eml]);
  t.log(`verify with anvil stopped, exit ${offline.code}: ${/^FAILED anchor.*$/m.exec(offline.stdout)?.[0] ?? offline.stdout}`);
  t.is(offline.code, 1, offline.stdout + offline.stderr);
  for (const step of ['message', 'record', 'ciphertext', 'merkle']) t.regex(offline.stdout, new RegExp(`^ok +${step} `, 'm'));
  t.regex(offline.stdout, new RegExp(`^FAILED anchor +the anchor could not be checked: .*the chain node at ${anvil.rpcUrl.replace(/[.]/g, '\\.')}/? did not answer \\(connect ECONNREFUSED`, 'm'));
  t.is(offline.stderr, '', 'no log noise: the anchor step says it all');
  t.regex(offline.stdout, /^NOT verified: the anchor step failed/m);
});
