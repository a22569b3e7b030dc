// `sealpost import mbox|maildir|eml`, run as a user runs it (the CLI as a
// child process), into a real gateway and without one. What a client sees
// over IMAP must be what the files hold: the same messages byte for byte
// (by SHA-256), flags and internal dates; each one sealed to the account's
// key in storage and recorded in the ledger; a second run imports nothing.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ImapFlow } from 'imapflow';
import { startGateway } from '../../src/app.ts';
import { decryptMessage, unlockPrivateKey } from '../../src/crypto/pgp.ts';
import { openImportSession } from '../../src/import-node.ts';
import { silentLogger } from '../../src/log.ts';
import { readMaildir } from '../../src/migrate/maildir.ts';
import { readMbox } from '../../src/migrate/mbox.ts';
import type { Cid } from '../../src/storage/types.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';

const USER = 'alice@example.org';
const PASSWORD = 'correct horse battery';
const FIXTURES = path.resolve('test/migrate/fixtures');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Seen { sha256: string; flags: string[]; internalDate: number }

/** Every message of `folder` over IMAP, as a client sees it. */
async function folderState(server: SealpostServer, folder: string): Promise<Seen[]> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await client.connect();
  try {
    const lock = await client.getMailboxLock(folder);
    try {
      const out: Seen[] = [];
      for await (const m of client.fetch('1:*', { source: true, flags: true, internalDate: true })) {
        out.push({ sha256: sha(m.source as Buffer), flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), internalDate: seconds(new Date(m.internalDate as Date).getTime()) });
      }
      return out;
    } finally {
      lock.release();
    }
  } catch (error) {
    if ((error as { mailboxMissing?: boolean }).mailboxMissing) return [];
    throw error;
  } finally {
    await client.logout();
  }
}

/** INTERNALDATE has whole seconds (RFC 3501 §9 date-time). */
const seconds = (ms: number): number => Math.floor(ms / 1000);
const expected = (m: { raw: Uint8Array; flags: string[]; internalDate: Date | null }): Seen => ({ sha256: sha(m.raw), flags: [...m.flags].sort(), internalDate: m.internalDate === null ? -1 : seconds(m.internalDate.getTime()) });
const byHash = (a: Seen, b: Seen): number => a.sha256.localeCompare(b.sha256);

async function cli(server: SealpostServer, args: string[]) {
  return sealpostCli(['import', ...args, '--data-dir', server.dir, '--account', USER], { env: { SEALPOST_PASSWORD: PASSWORD } });
}

test('mbox into a running gateway: same bytes, flags and dates over IMAP, sealed and recorded, once', async (t) => {
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  const file = path.join(FIXTURES, 'mbox/sample.mbox');
  const want: Seen[] = [];
  for await (const m of readMbox(file)) want.push(expected(m));

  // A client watching the folder sees the messages arrive (IDLE, RFC 2177).
  const watcher = new ImapFlow({ host: '127.0.0.1', port: server.ports.imap, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await watcher.connect();
  t.teardown(() => watcher.logout().catch(() => undefined));
  await watcher.mailboxOpen('INBOX');
  const arrived = new Promise<number>((resolve) => watcher.on('exists', (e: { count: number }) => { if (e.count >= want.length) resolve(e.count); }));
  void watcher.idle().catch(() => undefined);

  const run = await cli(server, ['mbox', file]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, new RegExp(`imported ${want.length} messages .*through the running gateway`));
  t.is(await Promise.race([arrived, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]), want.length, 'IDLE saw them arrive');

  const got = await folderState(server, 'INBOX');
  t.deepEqual(got.map((g) => ({ ...g })).sort(byHash), want.sort(byHash));

  // Each one is in storage as OpenPGP to the account's key, and in the ledger.
  const { store } = server.gateway.node;
  const account = await store.getAccount(USER);
  const inbox = await store.getMailbox(account!.id, 'INBOX');
  const refs = await store.messageRefs(inbox!.id);
  const secrets = await store.getSecrets(account!.id);
  const key = await unlockPrivateKey(secrets.privateKey, PASSWORD);
  for (const ref of refs) {
    t.truthy(ref.sealed, 'sealed in storage');
    const ciphertext = await server.gateway.storage.get(ref.sealed!.cid as Cid);
    const plain = await decryptMessage({ data: ciphertext, decryptionKey: key, findVerificationKey: async () => null });
    t.true(want.some((w) => w.sha256 === sha(plain.data)), 'decrypts to the imported message');
    const seqs = await server.gateway.ledger.find({ cid: ref.sealed!.cid });
    t.is(seqs.length, 1, 'one ledger record');
    const record = await server.gateway.ledger.get(seqs[0]!);
    t.is(record?.messageHash, sha(plain.data));
    t.is(record?.sender, secrets.fingerprint);
  }

  const again = await cli(server, ['mbox', file]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, new RegExp(`imported 0 messages .*; ${want.length} were imported before`));
  t.is((await folderState(server, 'INBOX')).length, want.length, 'no duplicates');
});

test('maildir without a gateway: folders, flags and dates; the gateway started later serves them', async (t) => {
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  await server.gateway.close();
  const dir = path.join(FIXTURES, 'maildir');
  const want = new Map<string, Seen[]>();
  for await (const m of readMaildir(dir)) {
    const list = want.get(m.folder) ?? [];
    list.push(expected({ ...m, internalDate: m.internalDate }));
    want.set(m.folder, list);
  }
  const run = await cli(server, ['maildir', dir]);
  t.is(run.code, 0, run.stderr);
  t.notRegex(run.stdout, /through the running gateway/);
  await server.restart();
  for (const [folder, messages] of want) {
    const got = await folderState(server, folder);
    // A message without a date of its own gets the time of import: compare the others' dates.
    t.deepEqual(got.map((g) => ({ ...g, internalDate: messages.find((w) => w.sha256 === g.sha256)?.internalDate === -1 ? -1 : g.internalDate })).sort(byHash), [...messages].sort(byHash), folder);
  }
  const account = await server.gateway.node.store.getAccount(USER);
  const names = (await server.gateway.node.store.listMailboxes(account!.id)).map((b) => b.name);
  for (const folder of want.keys()) t.true(names.includes(folder), `${folder} exists`);
});

test('eml files into a chosen folder; refusals a person understands', async (t) => {
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  const files = ['dated-lf.eml', 'undated-crlf.eml'].map((f) => path.join(FIXTURES, 'eml', f));
  const run = await cli(server, ['eml', '--folder', 'Imported/Mail', ...files]);
  t.is(run.code, 0, run.stderr);
  t.is((await folderState(server, 'Imported/Mail')).length, 2);

  const wrong = await sealpostCli(['import', 'eml', '--data-dir', server.dir, '--account', USER, ...files], { env: { SEALPOST_PASSWORD: 'wrong password' } });
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /invalid user name or password/);
  const noPassword = await sealpostCli(['import', 'eml', '--data-dir', server.dir, '--account', USER, ...files], { env: { SEALPOST_PASSWORD: '' } });
  t.is(noPassword.code, 2);
  t.regex(noPassword.stderr, /SEALPOST_PASSWORD/);
  const missing = await cli(server, ['mbox', path.join(FIXTURES, 'no-such.mbox')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /not found/);
  const badKind = await cli(server, ['pst', 'x']);
  t.is(badKind.code, 2);
});

test('an offline import holds the data directory: a gateway started meanwhile refuses', async (t) => {
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  await server.gateway.close();
  const session = await openImportSession({ dataDir: server.dir, account: USER, password: PASSWORD, logger: silentLogger() });
  t.is(session.via, 'offline');
  const error = await t.throwsAsync(startGateway({ dataDir: server.dir, ports: { smtp: 0, smtps: 0, imap: 0, imaps: 0 }, logger: silentLogger() }));
  t.is((error as { code?: string }).code, 'CONTROL_BUSY');
  await session.close();
  await server.restart();
  t.pass();
});
