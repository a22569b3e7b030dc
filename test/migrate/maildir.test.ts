// Maildir reader (Maildir++ as Dovecot writes it): the fixture tree
// (fixtures/maildir, expected output in fixtures/maildir.expected.json) copied
// to a temp dir with mtimes set, folder names in modified UTF-7 (RFC 3501
// §5.1.3), subscriptions files, flags from info letters, and errors by code.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrateError } from '../../src/migrate/errors.ts';
import { maildirFolders, readMaildir, readMaildirFolder, type MaildirOptions } from '../../src/migrate/maildir.ts';
import type { MaildirSourceMessage } from '../../src/migrate/types.ts';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'maildir');

interface Expected {
  folders: Array<{ name: string; dir: string; subscribed: boolean }>;
  messages: Array<{ folder: string; file: string; sourceId: string; flags: string[] }>;
}
const EXPECTED = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'maildir.expected.json'), 'utf8')) as Expected;

/** A copy of the fixture with each message's mtime set to the time its name starts with. */
function copyFixture(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-maildir-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'Maildir');
  fs.cpSync(FIXTURE, root, { recursive: true });
  for (const m of EXPECTED.messages) {
    const time = new Date(Number(/\d+/.exec(path.basename(m.file))![0]) * 1000);
    fs.utimesSync(path.join(root, m.file), time, time);
  }
  return root;
}

async function collect(dir: string, options: MaildirOptions = {}): Promise<MaildirSourceMessage[]> {
  const out: MaildirSourceMessage[] = [];
  for await (const m of readMaildir(dir, options)) out.push(m);
  return out;
}

async function failure(run: () => Promise<unknown>): Promise<MigrateError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof MigrateError) return err;
    throw err;
  }
  throw new Error('expected a MigrateError');
}

const crlf = (file: string): Buffer => Buffer.from(fs.readFileSync(file, 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

test('folders: INBOX, Maildir++ names decoded from modified UTF-7, subscriptions (version 2 file)', async (t) => {
  const root = copyFixture(t);
  const folders = await maildirFolders(root);
  t.deepEqual(folders, EXPECTED.folders.map((f) => ({ name: f.name, path: path.join(root, f.dir), subscribed: f.subscribed })));
});

test('messages: bytes in CRLF, flags, mtime as date, sourceIds, folders, in order', async (t) => {
  const root = copyFixture(t);
  const messages = await collect(root);
  t.is(messages.length, EXPECTED.messages.length);
  messages.forEach((m, i) => {
    const e = EXPECTED.messages[i]!;
    t.is(m.folder, e.folder, e.file);
    t.is(m.sourceId, e.sourceId, e.file);
    t.deepEqual(m.flags, e.flags, e.file);
    t.true(Buffer.from(m.raw).equals(crlf(path.join(root, e.file))), e.file);
    t.false(Buffer.from(m.raw).toString('latin1').replace(/\r\n/g, '').includes('\n'), e.file);
    t.is(m.size, m.raw.byteLength);
    t.is(m.internalDate?.getTime(), Number(/\d+/.exec(path.basename(e.file))![0]) * 1000, e.file);
  });
  // tmp/ holds a delivery in progress: never read.
  t.false(messages.some((m) => m.sourceId.includes('M99P100')));
});

test('only the folders asked for; one folder by itself', async (t) => {
  const root = copyFixture(t);
  const some = await collect(root, { folders: ['Entwürfe', 'Archive/2020'] });
  t.deepEqual(some.map((m) => m.folder), ['Archive/2020', 'Entwürfe']);
  const sent = (await maildirFolders(root)).find((f) => f.name === 'Sent')!;
  const one: MaildirSourceMessage[] = [];
  for await (const m of readMaildirFolder(sent)) one.push(m);
  t.deepEqual(one.map((m) => m.sourceId), ['Sent/1577960000.M5P100.mail']);
});

test('a message keeps its sourceId when a client moves it from new/ to cur/ and flags it', async (t) => {
  const root = copyFixture(t);
  const before = (await collect(root, { folders: ['INBOX'] })).find((m) => m.sourceId === 'INBOX/1577959400.M3P100.mail')!;
  t.deepEqual(before.flags, []);
  fs.renameSync(path.join(root, 'new', '1577959400.M3P100.mail'), path.join(root, 'cur', '1577959400.M3P100.mail:2,FS'));
  const after = (await collect(root, { folders: ['INBOX'] })).find((m) => m.sourceId === 'INBOX/1577959400.M3P100.mail')!;
  t.deepEqual(after.flags, ['\\Flagged', '\\Seen']);
  t.true(Buffer.from(after.raw).equals(Buffer.from(before.raw)));
});

test('without dovecot-keywords, keyword letters are dropped', async (t) => {
  const root = copyFixture(t);
  fs.rmSync(path.join(root, 'dovecot-keywords'));
  const m = (await collect(root, { folders: ['INBOX'] })).find((x) => x.sourceId === 'INBOX/1577959300.M2P100.mail')!;
  t.deepEqual(m.flags, ['\\Flagged', '\\Seen']);
});

test('subscriptions: none (all subscribed), version 1 file, Courier file', async (t) => {
  const root = copyFixture(t);
  const subscribed = async (): Promise<string[]> => (await maildirFolders(root)).filter((f) => f.subscribed).map((f) => f.name);
  fs.rmSync(path.join(root, 'subscriptions'));
  t.deepEqual(await subscribed(), EXPECTED.folders.map((f) => f.name));
  fs.writeFileSync(path.join(root, 'subscriptions'), 'Sent\nArchive.2020\nEntw&APw-rfe\n');
  t.deepEqual(await subscribed(), ['INBOX', 'Archive/2020', 'Entwürfe', 'Sent']);
  fs.rmSync(path.join(root, 'subscriptions'));
  fs.writeFileSync(path.join(root, 'courierimapsubscribed'), 'INBOX\nINBOX.Tom &- Jerry\nINBOX.Archive\n');
  t.deepEqual(await subscribed(), ['INBOX', 'Archive', 'Tom & Jerry']);
});

test('missing directory, not a Maildir: MIGRATE_NOT_FOUND, MIGRATE_NOT_MAILDIR', async (t) => {
  const root = copyFixture(t);
  const missing = await failure(() => collect(path.join(root, 'nope')));
  t.is(missing.name, 'MigrateError');
  t.is(missing.code, 'MIGRATE_NOT_FOUND');
  t.is(missing.file, path.join(root, 'nope'));
  const notMaildir = await failure(() => maildirFolders(path.join(root, '.notmaildir')));
  t.is(notMaildir.code, 'MIGRATE_NOT_MAILDIR');
  t.is((await failure(() => maildirFolders(path.join(root, 'dovecot-keywords')))).code, 'MIGRATE_UNREADABLE');
});

test('per-message errors go to onSkip and reading goes on; without onSkip they are thrown', async (t) => {
  const root = copyFixture(t);
  fs.mkdirSync(path.join(root, 'cur', '1577959350.M0P1.dir:2,S')); // not a regular file
  const big = Buffer.from('Subject: big\n\n' + 'x'.repeat(5000) + '\n');
  fs.writeFileSync(path.join(root, '.Sent', 'cur', '1577960001.M0P2.big:2,S'), big);
  const skipped: MigrateError[] = [];
  const messages = await collect(root, { maxMessageSize: 4096, onSkip: (e) => skipped.push(e) });
  t.deepEqual(skipped.map((e) => [e.code, path.basename(e.file)]), [
    ['MIGRATE_UNREADABLE', '1577959350.M0P1.dir:2,S'],
    ['MIGRATE_TOO_LARGE', '1577960001.M0P2.big:2,S'],
  ]);
  t.is(messages.length, EXPECTED.messages.length);
  const thrown = await failure(() => collect(root, { maxMessageSize: 4096 }));
  t.is(thrown.code, 'MIGRATE_UNREADABLE');
});

test('a file that vanishes while reading is MIGRATE_NOT_FOUND', async (t) => {
  const root = copyFixture(t);
  const skipped: MigrateError[] = [];
  const seen: string[] = [];
  for await (const m of readMaildir(root, { folders: ['INBOX'], onSkip: (e) => skipped.push(e) })) {
    seen.push(m.sourceId);
    if (seen.length === 1) fs.rmSync(path.join(root, 'cur', '1577959250.M4P100.mail;2,T'));
  }
  t.deepEqual(seen, ['INBOX/1577959200.M1P100.mail,S=120,W=125', 'INBOX/1577959300.M2P100.mail', 'INBOX/1577959400.M3P100.mail']);
  t.deepEqual(skipped.map((e) => e.code), ['MIGRATE_NOT_FOUND']);
});
