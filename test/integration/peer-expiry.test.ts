// Expiry enforced by threshold key custody, end to end on loopback (issue 4):
// six gateways sharing one local registry; alice on node A writes expiring
// mail to accounts on node B; the other five nodes are the custodians (n=5,
// t=3). Readable before the expiry; with two custodians down still readable;
// with three down a clear message in place of the body; after the expiry the
// message is gone from the recipient's INBOX and the sender's Sent folder,
// every custodian that was up recorded a deletion receipt, and the key cannot
// be had any more, while the ciphertext carries no key packet for anyone.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import * as openpgp from 'openpgp';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { openLocalRegistry } from '../../src/registry/local.ts';
import { stripView } from '../../src/pipeline/view.ts';
import { imapClient as imap, smtpClient as smtp, waitForInbox as inbox } from '../helpers/clients.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';

const alice = { user: 'alice@a.test', password: 'alice-secret-1' };
const bob = { user: 'bob@b.test', password: 'bob-secret-22' };
const carol = { user: 'carol@b.test', password: 'carol-secret-333' };
const dave = { user: 'dave@b.test', password: 'dave-secret-4444' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


test('expiring mail: custodians give the key to the recipient until the expiry, then destroy it', async (t) => {
  t.timeout(180_000);
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-registry-'));
  t.teardown(() => fs.rmSync(shared, { recursive: true, force: true }));
  const registryFile = path.join(shared, 'registry.db');
  const start = (users: ReadonlyArray<typeof alice>) => startSealpost({
    users,
    configure: (config) => {
      config.network.enabled = true;
      config.network.registry.path = registryFile;
      config.network.scanIntervalMs = 200;
      config.network.custody = { n: 5, t: 3 };
    },
  });
  const a = await start([alice]);
  t.teardown(() => a.stop());
  const b = await start([bob, carol, dave]);
  t.teardown(() => b.stop());
  const custodians: SealpostServer[] = [];
  for (const name of ['c', 'd', 'e', 'f']) {
    const node = await start([{ user: `keeper@${name}.test`, password: `keeper-${name}-secret` }]);
    t.teardown(() => node.stop());
    custodians.push(node);
  }
  const [, d, e, f] = custodians;
  if (d === undefined || e === undefined || f === undefined) return t.fail();
  t.deepEqual(await inbox(b, bob, 0, 0), []); // Bob's key is unlocked from now on
  await sleep(1000); // every node registered and claimed

  const transport = smtp(a, alice);
  t.teardown(() => transport.close());
  const send = async (to: typeof alice, subject: string, text: string, expires: string) => {
    const raw = await new MailComposer({ from: alice.user, to: to.user, subject, text, messageId: `<${subject.replace(/\W/g, '')}@a.test>`, headers: { Expires: expires } }).compile().build();
    await transport.sendMail({ envelope: { from: alice.user, to: [to.user] }, raw });
    return raw;
  };

  // 1. Readable before the expiry.
  const sentAt = Date.now();
  const raw1 = await send(bob, 'Short lived', 'Burn after reading.', '25s');
  const aliceImap = imap(a, alice);
  await aliceImap.connect();
  t.teardown(() => aliceImap.logout().catch(() => undefined));
  await aliceImap.append('Sent', raw1, ['\\Seen']);
  const [first] = await inbox(b, bob, 1);
  if (first === undefined) return t.fail('the expiring message did not arrive');
  const view = stripView(first);
  t.true(first.includes('Burn after reading.'));
  t.regex(view.fields.get('x-sealpost-signature') ?? '', /^valid; signer=alice@a\.test/);
  // The stored ciphertext has no key packet for anyone: no private key opens it.
  const cid = view.fields.get('x-sealpost-cid') ?? '';
  const ciphertext = await a.gateway.storage.get(cid as never);
  const packets = [...(await openpgp.readMessage({ binaryMessage: ciphertext })).packets].map((p) => (p.constructor as unknown as { tag: number }).tag);
  t.deepEqual(packets, [openpgp.enums.packet.symEncryptedIntegrityProtectedData]);

  // 2. Two custodians down before reading: still readable (Carol logs in only now).
  const raw2 = await send(carol, 'Two down', 'Still readable with three of five.', '10m');
  const raw3 = await send(dave, 'Three down', 'Not readable with two of five.', '10m');
  t.truthy(raw2 && raw3);
  await sleep(1500); // queued at node B (scan or push)
  await e.gateway.close();
  await f.gateway.close();
  const carolInbox = await inbox(b, carol, 1);
  t.is(carolInbox.length, 1);
  t.true(carolInbox[0]?.includes('Still readable with three of five.'), carolInbox[0]?.toString().slice(0, 2000));

  // 3. A third custodian down: Dave gets a clear message in place of the body.
  await d.gateway.close();
  const daveInbox = await inbox(b, dave, 1);
  t.is(daveInbox.length, 1);
  const placeholder = daveInbox[0]?.toString() ?? '';
  t.false(placeholder.includes('Not readable with two of five.'));
  t.regex(placeholder, /could not be recovered/);

  // The stopped custodians come back (each deletes at the expiry by its own clock).
  for (const node of [d, e, f]) await node.restart();

  // 4. After the expiry: gone from Bob's INBOX and Alice's Sent; every custodian destroyed its share.
  const wait = sentAt + 25_000 + 3_000 - Date.now();
  if (wait > 0) await sleep(wait);
  t.deepEqual((await inbox(b, bob, 0, 0)).filter((s) => s.includes('Burn after reading.')), []);
  t.like(await aliceImap.status('Sent', { messages: true }), { messages: 0 });
  const registry = openLocalRegistry({ path: registryFile });
  t.teardown(() => registry.close());
  const ref = createHash('sha256').update(stripView(first).original).digest();
  let receipts = await registry.deletionReceipts(ref);
  for (let i = 0; i < 50 && receipts.length < 5; i++) {
    await sleep(200);
    receipts = await registry.deletionReceipts(ref);
  }
  t.is(receipts.length, 5, 'a signed deletion receipt from each of the five custodians');
});

test('the sender asks for more custodians, then revokes the expiring message early: custodians delete their shares, a recipient who had not read it never will', async (t) => {
  t.timeout(120_000);
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-registry-'));
  t.teardown(() => fs.rmSync(shared, { recursive: true, force: true }));
  const start = (users: ReadonlyArray<typeof alice>) => startSealpost({
    users,
    configure: (config) => {
      config.network.enabled = true;
      config.network.registry.path = path.join(shared, 'registry.db');
      config.network.scanIntervalMs = 200;
      config.network.custody = { n: 2, t: 2 }; // the sender asks for 4 below
    },
  });
  const nodes: SealpostServer[] = [];
  for (const users of [[alice], [bob], [{ user: 'k@c.test', password: 'keeper-c-secret' }], [{ user: 'k@d.test', password: 'keeper-d-secret' }], [{ user: 'k@e.test', password: 'keeper-e-secret' }]]) {
    const node = await start(users);
    t.teardown(() => node.stop());
    nodes.push(node);
  }
  const [a, b] = nodes;
  if (a === undefined || b === undefined) return t.fail();
  await sleep(1000);
  const transport = smtp(a, alice);
  t.teardown(() => transport.close());
  const raw = await new MailComposer({ from: alice.user, to: bob.user, subject: 'Regret', text: 'I should not have sent this.', messageId: '<regret-1@a.test>', headers: { 'Expires': '10m', 'X-Sealpost-Custodians': '4' } }).compile().build();
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw });
  await sleep(1000); // queued at node B, Bob not logged in yet

  const revoked = await sealpostCli(['revoke', '--data-dir', a.dir, '--message-id', '<regret-1@a.test>']);
  t.is(revoked.code, 0, revoked.stdout + revoked.stderr);
  t.regex(revoked.stdout, /^revoked baf\S+: 4 custodians deleted their share now$/m);
  const again = await sealpostCli(['revoke', '--data-dir', a.dir, '--message-id', 'regret-1@a.test']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.regex(again.stdout, /0 custodians deleted their share now, 4 had already/);
  const unknown = await sealpostCli(['revoke', '--data-dir', a.dir, '--message-id', 'never-sent@a.test']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /sent no expiring message with Message-ID <never-sent@a\.test>/);

  const [copy] = await inbox(b, bob, 1);
  t.false(copy?.includes('I should not have sent this.'));
  t.regex(copy?.toString() ?? '', /could not be recovered/);
});
