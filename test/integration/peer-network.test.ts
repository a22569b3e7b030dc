// Mail between Sealpost nodes on one machine (issue 4), with real parts: three
// gateways, each with its own data dir, libp2p node (TCP on loopback, Noise),
// Helia store and ledger, sharing one local registry file. An account on node
// A writes to an account on node B: the message reaches B's INBOX through the
// stealth announcement (pushed, and on the registry), the ciphertext comes
// from A over bitswap, the record's proof from A; the copy is the original
// byte for byte with a valid signature. Node C, not a recipient, queues nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { loadNodeIdentity } from '../../src/network/identity.ts';
import { startNetwork } from '../../src/network/libp2p.ts';
import { PROOF_PROTOCOL } from '../../src/pipeline/peers.ts';
import { stripView } from '../../src/pipeline/view.ts';
import { openLocalRegistry } from '../../src/registry/local.ts';
import { smtpClient as smtp, waitForInbox } from '../helpers/clients.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';

const alice = { user: 'alice@a.test', password: 'alice-secret-1' };
const bob = { user: 'bob@b.test', password: 'bob-secret-22' };
const carol = { user: 'carol@c.test', password: 'carol-secret-333' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Which registry directory each node shares. */
const registryOf = new Map<SealpostServer, string>();

async function network(t: import('ava').ExecutionContext, users: ReadonlyArray<typeof alice>): Promise<SealpostServer[]> {
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-registry-'));
  t.teardown(() => fs.rmSync(shared, { recursive: true, force: true }));
  const nodes: SealpostServer[] = [];
  for (const user of users) {
    const node = await startSealpost({
      users: [user],
      configure: (config) => {
        config.network.enabled = true;
        config.network.registry.path = path.join(shared, 'registry.db');
        config.network.scanIntervalMs = 200;
      },
    });
    t.teardown(() => node.stop());
    nodes.push(node);
    registryOf.set(node, shared);
  }
  return nodes;
}


test('a message from an account on node A reaches the account on node B, original bytes, valid signature; node C learns nothing', async (t) => {
  const [a, b, c] = await network(t, [alice, bob, carol]);
  if (a === undefined || b === undefined || c === undefined) return t.fail();
  // Bob and Carol log in once, so that their keys are unlocked (delivery decrypts into INBOX).
  t.deepEqual(await waitForInbox(b, bob, 0, 0), []);
  t.deepEqual(await waitForInbox(c, carol, 0, 0), []);
  // Give the nodes a moment to register and claim their addresses.
  await sleep(500);

  const phrase = `peer-delivery-${Date.now()}`;
  const raw = await new MailComposer({ from: alice.user, to: bob.user, subject: 'Across nodes', text: `Hello Bob, ${phrase}.`, messageId: '<across-1@a.test>' }).compile().build();
  const transport = smtp(a, alice);
  t.teardown(() => transport.close());
  const sent = await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw });
  t.deepEqual(sent.accepted, [bob.user]);

  const [source] = await waitForInbox(b, bob, 1);
  if (source === undefined) return t.fail("the message did not reach Bob's INBOX on node B");
  const view = stripView(source);
  const stored = Buffer.from(view.original);
  t.true(stored.subarray(stored.length - raw.length).equals(raw), 'the submitted bytes, unchanged, after the Received: field');
  t.regex(view.fields.get('x-sealpost-signature') ?? '', /^valid; signer=alice@a\.test; fingerprint=[0-9A-F]{40}$/);
  t.regex(view.fields.get('x-sealpost-cid') ?? '', /^baf/);
  t.regex(view.fields.get('x-sealpost-anchor') ?? '', /^local checkpoint \d+; signer=ed25519:/);

  // B keeps its own copy of the ciphertext.
  const cid = view.fields.get('x-sealpost-cid') ?? '';
  t.true(await b.gateway.storage.has(cid as never), 'node B pinned the ciphertext');
  // `sealpost verify` on node B proves the saved message with the proof kept at delivery.
  const eml = path.join(b.dir, '..', `${path.basename(b.dir)}-across.eml`);
  fs.writeFileSync(eml, source);
  t.teardown(() => fs.rmSync(eml, { force: true }));
  const verified = await sealpostCli(['verify', '--data-dir', b.dir, eml]);
  t.is(verified.code, 0, verified.stdout + verified.stderr);
  t.regex(verified.stdout, /^ok +record +ledger record \d+ of the sending node /m);
  t.regex(verified.stdout, /^ok +anchor +checkpoint \d+ signed by node key/m);
  fs.writeFileSync(eml, Buffer.from(source.toString('latin1').replace('Hello Bob', 'Hello Rob'), 'latin1'));
  const altered = await sealpostCli(['verify', '--data-dir', b.dir, eml]);
  t.is(altered.code, 1);
  t.regex(altered.stdout, /ALTERED/);
  // A record's proof is given only to the nodes it was announced to: a stranger is refused.
  const registry = openLocalRegistry({ path: path.join(registryOf.get(b) ?? '', 'registry.db') });
  t.teardown(() => registry.close());
  const claim = await registry.lookupAddress(alice.user);
  const node = claim === null ? null : await registry.getNode(claim.nodeId);
  const strangerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-stranger-'));
  t.teardown(() => fs.rmSync(strangerDir, { recursive: true, force: true }));
  const stranger = await startNetwork({ identity: await loadNodeIdentity({ nodeKeyFile: path.join(strangerDir, 'node-key.pem'), x25519KeyFile: path.join(strangerDir, 'node-x25519.pem') }) });
  t.teardown(() => stranger.stop());
  const target = node?.addrs[0] ?? '';
  const refused = await t.throwsAsync(stranger.request(target, PROOF_PROTOCOL, new TextEncoder().encode(JSON.stringify({ seq: 1 }))));
  t.is((refused as { remoteCode?: string }).remoteCode, 'NOT_ALLOWED');
  const garbage = await t.throwsAsync(stranger.request(target, PROOF_PROTOCOL, new TextEncoder().encode('{not json')));
  t.is((garbage as { remoteCode?: string }).remoteCode, 'INVALID');
  // Node C queued nothing.
  t.deepEqual(await waitForInbox(c, carol, 1, 1500), []);
});

test('an unknown address at no node is refused as before; a node that was down catches up from the registry', async (t) => {
  const [a, b] = await network(t, [alice, bob]);
  if (a === undefined || b === undefined) return t.fail();
  t.deepEqual(await waitForInbox(b, bob, 0, 0), []);
  await sleep(500);
  const transport = smtp(a, alice);
  t.teardown(() => transport.close());
  const refused = await t.throwsAsync(transport.sendMail({ envelope: { from: alice.user, to: ['nobody@nowhere.test'] }, raw: 'Subject: x\r\n\r\nx\r\n' })) as Error & { responseCode?: number };
  t.is(refused.responseCode, 550);

  // A first message while B is up (A fetches Bob's key from B); then B goes
  // down, A sends again, and B, back, finds the announcement on its scan.
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw: `From: ${alice.user}\r\nTo: ${bob.user}\r\nSubject: first\r\n\r\nFirst.\r\n` });
  t.is((await waitForInbox(b, bob, 1)).length, 1);
  await b.gateway.close();
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw: `From: ${alice.user}\r\nTo: ${bob.user}\r\nSubject: while you were out\r\n\r\nCatch up.\r\n` });
  await b.restart();
  const sources = await waitForInbox(b, bob, 2);
  t.is(sources.length, 2);
  t.true(sources[1]?.includes('Catch up.'));
});
