// What keeps a node's mail restorable, on one real gateway: a client's APPEND
// is sealed to the account's key, stored and recorded shortly after; a
// mailbox snapshot names every message's ciphertext with its folder and
// flags, is signed and sealed to the account key, stored and anchored, and
// is taken again only when something changed. `sealpost backup` writes a
// file gpg-compatible readBackup opens; on a node outside a network it warns
// that the mail itself is not kept anywhere else, and a restore says so.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ImapFlow } from 'imapflow';
import { readBackup } from '../../src/backup/format.ts';
import { decryptMessage, unlockPrivateKey } from '../../src/crypto/pgp.ts';
import { openSnapshot } from '../../src/snapshot/format.ts';
import type { Cid } from '../../src/storage/types.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { startSealpost } from '../helpers/sealpost.ts';

const USER = 'alice@example.org';
const PASSWORD = 'correct horse battery';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('an APPEND is sealed in storage and the ledger; snapshots name every message and change only with the mailbox', async (t) => {
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  const client = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await client.connect();
  t.teardown(() => client.logout().catch(() => undefined));
  const raw = Buffer.from(`From: ${USER}\r\nTo: bob@example.org\r\nSubject: draft\r\n\r\nA draft kept by the client.\r\n`);
  await client.append('Drafts', raw, ['\\Draft', '$Todo'], new Date('2021-05-06T07:08:09Z'));

  const { store } = server.gateway.node;
  const account = (await store.getAccount(USER))!;
  const drafts = (await store.getMailbox(account.id, 'Drafts'))!;
  // Sealed by the archiver shortly after (its tick is 5 s).
  const deadline = Date.now() + 15_000;
  let ref = (await store.messageRefs(drafts.id))[0];
  while (ref?.sealed === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    ref = (await store.messageRefs(drafts.id))[0];
  }
  t.truthy(ref?.sealed, 'the APPENDed message was sealed');
  const secrets = await store.getSecrets(account.id);
  const key = await unlockPrivateKey(secrets.privateKey, PASSWORD);
  const plain = await decryptMessage({ data: await server.gateway.storage.get(ref!.sealed!.cid as Cid), decryptionKey: key, findVerificationKey: async () => null });
  t.is(sha(plain.data), sha(raw), 'the ciphertext holds the appended bytes');
  t.is((await server.gateway.ledger.find({ cid: ref!.sealed!.cid })).length, 1);

  const first = await server.gateway.history.snapshotter.take(account.id);
  t.truthy(first);
  const snapshot = await openSnapshot(await server.gateway.storage.get(first!.cid as Cid), key, secrets.fingerprint);
  const box = snapshot.mailboxes.find((b) => b.name === 'Drafts');
  t.deepEqual(box?.messages.map((m) => ({ cid: m.cid, flags: m.flags, date: m.internalDate })), [{ cid: ref!.sealed!.cid, flags: ['$Todo', '\\Draft'].sort(), date: Date.parse('2021-05-06T07:08:09Z') }].map((m) => ({ ...m, flags: ref!.flags })));
  t.deepEqual(snapshot.mailboxes.map((b) => b.name).sort(), (await store.listMailboxes(account.id)).map((b) => b.name).sort());
  t.is((await server.gateway.ledger.find({ cid: first!.cid })).length, 1, 'the snapshot is anchored like a message');

  t.is((await server.gateway.history.snapshotter.take(account.id))?.seq, first!.seq, 'nothing changed: no new snapshot');
  const lock = await client.getMailboxLock('Drafts');
  try {
    await client.messageFlagsAdd('1', ['\\Seen']);
  } finally {
    lock.release();
  }
  const second = await server.gateway.history.snapshotter.take(account.id);
  t.is(second?.seq, first!.seq + 1, 'a flag change makes the next snapshot');
  const later = await openSnapshot(await server.gateway.storage.get(second!.cid as Cid), key, secrets.fingerprint);
  t.true(later.mailboxes.find((b) => b.name === 'Drafts')?.messages[0]?.flags.includes('\\Seen'));
});

test('backup of a node outside a network: a readable file, a plain warning; restoring it says why it cannot', async (t) => {
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  const out = path.join(server.dir, '..', `${path.basename(server.dir)}-backup.asc`);
  t.teardown(() => fs.rmSync(out, { force: true }));
  const run = await sealpostCli(['backup', '--data-dir', server.dir, '--account', USER, '--out', out], { env: { SEALPOST_PASSWORD: PASSWORD } });
  t.is(run.code, 0, run.stderr);
  const passphrase = /Passphrase \(shown once, write it down\): (\S+)/.exec(run.stdout)?.[1];
  t.truthy(passphrase, run.stdout);
  t.regex(run.stdout, /WARNING: this node is not in a peer network/);
  t.is(fs.statSync(out).mode & 0o777, 0o600);
  const contents = await readBackup(fs.readFileSync(out), passphrase!);
  t.is(contents.account.address, USER);
  t.is(contents.network.enabled, false);

  const again = await sealpostCli(['backup', '--data-dir', server.dir, '--account', USER, '--out', out], { env: { SEALPOST_PASSWORD: PASSWORD } });
  t.is(again.code, 2, 'never overwrites a backup');
  const wrong = await sealpostCli(['backup', '--data-dir', server.dir, '--account', USER, '--out', `${out}.2`], { env: { SEALPOST_PASSWORD: 'not the password' } });
  t.is(wrong.code, 1);
  t.false(fs.existsSync(`${out}.2`));

  const newDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-restore-lone-'));
  t.teardown(() => fs.rmSync(newDir, { recursive: true, force: true }));
  const restore = await sealpostCli(['restore', '--backup', out, '--data-dir', newDir], { env: { SEALPOST_BACKUP_PASSPHRASE: passphrase! } });
  t.is(restore.code, 1);
  t.regex(restore.stderr, /outside a Sealpost network/);
  const badPass = await sealpostCli(['restore', '--backup', out, '--data-dir', newDir], { env: { SEALPOST_BACKUP_PASSPHRASE: 'wrong wrong wrong' } });
  t.is(badPass.code, 1);
});
