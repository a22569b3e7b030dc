// The IMAP migration reader (src/migrate/imap-source.ts) against a real
// Dovecot filled by APPEND (test/helpers/migration-fixture.ts): folder names
// and RFC 6154 special-use mapping, every message back byte for byte with its
// flags and INTERNALDATE, `known` skipping without downloading, the ~12 MB
// message, bounded chunks on a 2,000-message folder, errors by code, include
// globs, UIDVALIDITY changes, and follow() with IDLE, polling and a kicked
// connection. Plus the naming rules (imap-folders.ts) and RFC 5092 ids
// (imap-url.ts) on made-up listings. One Dovecot for the file; serial tests.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ImapFlow } from 'imapflow';
import { MigrateError } from '../../src/migrate/errors.ts';
import { isIncluded, nameMailboxes, type ListedMailbox } from '../../src/migrate/imap-folders.ts';
import { planChunks, sourceFlags, uidSet } from '../../src/migrate/imap-messages.ts';
import { openImapSource, type ImapSource, type ImapSourceFolder, type ImapSourceOptions } from '../../src/migrate/imap-source.ts';
import { imapMessageUrl } from '../../src/migrate/imap-url.ts';
import type { SourceMessage } from '../../src/migrate/types.ts';
import { freePort } from '../helpers/ports.ts';
import { BIG_MESSAGE_FOLDER, FIXTURE_FOLDERS, readImapState, startMigrationFixture, type MigrationFixture, type StateMessage } from '../helpers/migration-fixture.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const MB = 1024 * 1024;
const BULK = 2000;

let fixture: MigrationFixture;
let source: ImapSource;

function options(extra: Partial<ImapSourceOptions> = {}): ImapSourceOptions {
  return { host: fixture.conn.host, port: fixture.conn.port, security: 'plain', user: fixture.user, password: fixture.password, ...extra };
}

function state(m: SourceMessage): StateMessage {
  return { flags: [...m.flags].sort(), internalDate: m.internalDate!.getTime(), sha256: createHash('sha256').update(m.raw).digest('hex'), size: m.size };
}

function order(a: StateMessage, b: StateMessage): number {
  return a.internalDate - b.internalDate || (a.sha256 < b.sha256 ? -1 : 1);
}

async function collect(iterable: AsyncIterable<SourceMessage>): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const m of iterable) out.push(m);
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

function folder(folders: ImapSourceFolder[], name: string): ImapSourceFolder {
  const f = folders.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no folder ${name} in ${folders.map((x) => x.name).join(', ')}`);
  return f;
}

/** A small message of about 16 KB, CRLF. */
function bulkMessage(i: number): Uint8Array {
  const line = `Line of bulk message ${i}: the quick brown fox jumps over the lazy dog.\r\n`;
  return Buffer.from(`From: bulk@old.example\r\nSubject: bulk ${i}\r\nMessage-ID: <bulk-${i}@old.example>\r\n\r\n${line.repeat(Math.ceil(16_000 / line.length))}`);
}

test.before(async () => {
  fixture = await startMigrationFixture({ tls: true });
  // A 2,000-message folder, written straight into the Maildir (APPEND would take seconds).
  fixture.dovecot.populate(fixture.user, Array.from({ length: BULK }, (_, i) => ({ raw: bulkMessage(i), flags: i % 3 === 0 ? ['\\Seen'] : [], internalDate: new Date(Date.UTC(2012, 0, 1) + i * 60_000) })), 'Bulk');
  source = await openImapSource(options());
});

test.after.always(async () => {
  await source?.close();
  await fixture?.stop();
});

// ---- folders ----------------------------------------------------------------

test.serial('folders: Sealpost names, special use by attribute and by name, subscriptions, counts; \\Noselect parents left out', async (t) => {
  const folders = await source.folders();
  const expected = [...FIXTURE_FOLDERS.map((f) => ({ path: f.path, name: f.sealpostName, specialUse: f.specialUse, subscribed: f.subscribed, messages: fixture.expected[f.path] })),
    { path: 'Bulk', name: 'Bulk', specialUse: null, subscribed: false, messages: BULK }];
  t.deepEqual(folders.map((f) => f.name), ['INBOX', 'Archive/2019', 'Bulk', 'Café & Co', 'Drafts', 'Empty', 'Junk', 'Projekte/Überblick', 'Sent', 'Sent Messages', 'Trash', 'Входящие архив']);
  for (const e of expected) {
    const f = folder(folders, e.name);
    t.like(f, { path: e.path, specialUse: e.specialUse, messages: e.messages }, e.name);
    if (e.path !== 'Bulk') t.is(f.subscribed, e.subscribed, `${e.name} subscribed`);
    t.true(f.uidValidity > 0);
    t.is(f.uidNext, e.messages! + 1, `${e.name} uidNext`);
  }
  t.false(folders.some((f) => f.path === 'Archive' || f.path === 'Projekte'));
});

test.serial('folders: include globs match the Sealpost name or the server path; % stays within a level; INBOX in any case', async (t) => {
  const names = async (include: string[]): Promise<string[]> => (await source.folders({ include })).map((f) => f.name);
  t.deepEqual(await names(['inbox', 'Projekte/%']), ['INBOX', 'Projekte/Überblick']);
  t.deepEqual(await names(['%']), ['INBOX', 'Bulk', 'Café & Co', 'Drafts', 'Empty', 'Junk', 'Sent', 'Sent Messages', 'Trash', 'Входящие архив']);
  t.deepEqual(await names(['Junk E-mail', 'Sent*']), ['Junk', 'Sent', 'Sent Messages']); // by path, then by name
  t.deepEqual(await names(['*/2019', 'Вход*']), ['Archive/2019', 'Входящие архив']);
  t.deepEqual(await names(['nothing*']), []);
});

// ---- messages ----------------------------------------------------------------

test.serial('messages: every message of every folder comes back byte for byte with flags and INTERNALDATE, as the fixture appended it', async (t) => {
  const folders = await source.folders({ include: FIXTURE_FOLDERS.map((f) => f.path) });
  t.is(folders.length, FIXTURE_FOLDERS.length);
  const ids = new Set<string>();
  let total = 0;
  for (const f of folders) {
    const messages = await collect(source.messages(f));
    const want = fixture.state.get(f.path)!;
    t.deepEqual(messages.map(state).sort(order), want, f.path);
    for (const m of messages) {
      t.false(m.flags.includes('\\Recent'));
      t.is(m.size, m.raw.byteLength);
      t.true(m.sourceId.startsWith(`imap://migrant@127.0.0.1:${fixture.conn.port}/`), m.sourceId);
      t.regex(m.sourceId, /;UIDVALIDITY=\d+\/;UID=\d+$/);
      ids.add(m.sourceId);
    }
    total += messages.length;
  }
  t.is(ids.size, total, 'sourceIds are unique');
  t.is(total, Object.values(fixture.expected).reduce((a, b) => a + b, 0));
  // Deleted-but-not-expunged messages and keywords are carried.
  const all = [...fixture.state.values()].flat();
  t.true(all.some((m) => m.flags.includes('\\Deleted')) && all.some((m) => m.flags.includes('Important')) && all.some((m) => m.flags.includes('$Forwarded')));
  // A second read gives the same ids: the ids are stable.
  const cafe = folder(folders, 'Café & Co');
  const again = await collect(source.messages(cafe));
  t.true(again.every((m) => ids.has(m.sourceId)));
  t.true(again[0]!.sourceId.startsWith(`imap://migrant@127.0.0.1:${fixture.conn.port}/Caf%C3%A9%20&%20Co;UIDVALIDITY=${cafe.uidValidity}/;UID=`));
});

test.serial('messages: readImapState sees the same account (plain and STARTTLS with the CA)', async (t) => {
  const plain = await readImapState(fixture.conn);
  const secure = await readImapState({ ...fixture.conn, starttls: true });
  t.deepEqual([...secure], [...plain]);
  for (const [folderPath, list] of fixture.state) t.deepEqual(plain.get(folderPath), list, folderPath);
});

test.serial('messages: ids `known` reports are skipped without being downloaded, asked 500 at a time', async (t) => {
  const folders = await source.folders({ include: ['INBOX', 'Bulk'] });
  const inbox = folder(folders, 'INBOX');
  const all = await collect(source.messages(inbox));
  const known = new Set(all.filter((_, i) => i % 2 === 0).map((m) => m.sourceId));
  const before = { ...source.stats };
  const rest = await collect(source.messages(inbox, { known: async (ids) => new Set(ids.filter((id) => known.has(id))) }));
  t.is(rest.length, all.length - known.size);
  t.false(rest.some((m) => known.has(m.sourceId)));
  t.is(source.stats.downloaded - before.downloaded, rest.length, 'only the unknown ones were downloaded');
  t.is(source.stats.skippedKnown - before.skippedKnown, known.size);

  // Everything known: nothing downloaded at all; `known` asked in batches of 500.
  const bulk = folder(folders, 'Bulk');
  const batches: number[] = [];
  const downloaded = source.stats.downloaded;
  const none = await collect(source.messages(bulk, { known: async (ids) => (batches.push(ids.length), new Set(ids)) }));
  t.is(none.length, 0);
  t.is(source.stats.downloaded, downloaded);
  t.deepEqual(batches, [500, 500, 500, 500]);
});

test.serial('messages: the ~12 MB message comes through whole, alone in its chunk', async (t) => {
  const big = fixture.big!;
  const reader = await openImapSource(options({ chunkBytes: 1 * MB }));
  t.teardown(() => reader.close());
  const archive = folder(await reader.folders(), BIG_MESSAGE_FOLDER);
  let found: SourceMessage | undefined;
  for await (const m of reader.messages(archive)) {
    if (m.size > 10 * MB) found = m;
    t.true(reader.stats.bufferedBytes <= 1 * MB || m.size > 1 * MB);
  }
  t.truthy(found);
  t.is(createHash('sha256').update(found!.raw).digest('hex'), big.sha256);
  t.is(found!.size, big.size);
  t.deepEqual(found!.flags, ['\\Seen', '$Label1']);
  t.is(reader.stats.peakBufferedBytes, big.size, 'the big message was held alone');
});

test.serial('messages: a message over maxMessageSize goes to onSkip (MIGRATE_TOO_LARGE) without being downloaded, or throws', async (t) => {
  const skipped: MigrateError[] = [];
  const reader = await openImapSource(options({ maxMessageSize: 5 * MB, onSkip: (e) => skipped.push(e) }));
  t.teardown(() => reader.close());
  const archive = folder(await reader.folders(), BIG_MESSAGE_FOLDER);
  const messages = await collect(reader.messages(archive));
  t.is(messages.length, fixture.expected[BIG_MESSAGE_FOLDER]! - 1);
  t.is(skipped.length, 1);
  t.is(skipped[0]!.code, 'MIGRATE_TOO_LARGE');
  t.regex(skipped[0]!.file, /^imap:\/\/.*;UID=\d+$/);
  t.true(reader.stats.downloadedBytes < 5 * MB, 'the big message was never fetched');

  const strict = await openImapSource(options({ maxMessageSize: 5 * MB }));
  t.teardown(() => strict.close());
  const strictArchive = folder(await strict.folders(), BIG_MESSAGE_FOLDER);
  const error = await failure(() => collect(strict.messages(strictArchive)));
  t.is(error.code, 'MIGRATE_TOO_LARGE');
});

test.serial('messages: 2,000 messages are read in bounded chunks, not held at once', async (t) => {
  const chunkBytes = 256 * 1024;
  const reader = await openImapSource(options({ chunkBytes, chunkMessages: 50 }));
  t.teardown(() => reader.close());
  const bulk = folder(await reader.folders({ include: ['Bulk'] }), 'Bulk');
  gc();
  const baseline = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let peak = 0;
  let count = 0;
  let bytes = 0;
  let previous = 0;
  for await (const m of reader.messages(bulk)) {
    const uid = Number(/UID=(\d+)$/.exec(m.sourceId)![1]);
    t.true(uid > previous, 'UID order');
    previous = uid;
    bytes += m.size;
    if (++count % 100 === 0) {
      gc();
      const u = process.memoryUsage();
      peak = Math.max(peak, u.heapUsed + u.arrayBuffers - baseline);
    }
  }
  t.is(count, BULK);
  t.true(reader.stats.peakBufferedBytes <= chunkBytes, `peak buffered ${reader.stats.peakBufferedBytes}`);
  t.true(reader.stats.fetches >= Math.ceil(bytes / chunkBytes), `${reader.stats.fetches} UID FETCH commands for ${bytes} bytes`);
  t.is(reader.stats.bufferedBytes, 0);
  t.log(`${count} messages, ${(bytes / MB).toFixed(1)} MiB in ${reader.stats.fetches} chunks; live memory growth peak ${(peak / MB).toFixed(1)} MiB`);
  t.true(peak < bytes / 3, `live growth peak ${peak} for ${bytes} bytes read`);
});

test.serial('messages: a folder recreated since it was listed is MIGRATE_SOURCE_CHANGED', async (t) => {
  const empty = folder(await source.folders({ include: ['Empty'] }), 'Empty');
  // Recreate it through a plain client (the reader is read-only).
  const client = new ImapFlow({ host: fixture.conn.host, port: fixture.conn.port, secure: false, doSTARTTLS: false, auth: { user: fixture.user, pass: fixture.password }, logger: false });
  await client.connect();
  await client.mailboxDelete('Empty');
  await client.mailboxCreate('Empty');
  await client.logout();
  const error = await failure(() => collect(source.messages(empty)));
  t.is(error.code, 'MIGRATE_SOURCE_CHANGED');
  t.not(folder(await source.folders({ include: ['Empty'] }), 'Empty').uidValidity, empty.uidValidity);
});

// ---- connecting -------------------------------------------------------------

test.serial('connect: a wrong password is MIGRATE_AUTH_FAILED and the password is in no error text', async (t) => {
  const error = await failure(() => openImapSource(options({ password: 'not-the-password' })));
  t.is(error.code, 'MIGRATE_AUTH_FAILED');
  t.false(JSON.stringify({ message: error.message, file: error.file }).includes('not-the-password'));
});

test.serial('connect: a closed port is MIGRATE_CONNECT_FAILED', async (t) => {
  const error = await failure(async () => openImapSource(options({ port: await freePort() })));
  t.is(error.code, 'MIGRATE_CONNECT_FAILED');
});

test.serial('connect: STARTTLS with the CA works; without it, or TLS to a plain port, is MIGRATE_TLS_FAILED', async (t) => {
  const secure = await openImapSource(options({ security: 'starttls', ca: fixture.conn.ca! }));
  t.is((await secure.folders({ include: ['INBOX'] })).length, 1);
  await secure.close();
  t.is((await failure(() => openImapSource(options({ security: 'starttls' })))).code, 'MIGRATE_TLS_FAILED');
  t.is((await failure(() => openImapSource(options({ security: 'tls', ca: fixture.conn.ca! })))).code, 'MIGRATE_TLS_FAILED');
});

// ---- follow -----------------------------------------------------------------

test.serial('follow: a message APPENDed to INBOX comes within seconds (IDLE), one to another folder by the poll; abort ends it', async (t) => {
  const folders = await source.folders({ include: ['INBOX', 'Café & Co', 'Sent'] });
  const controller = new AbortController();
  const got: Array<SourceMessage & { folder: ImapSourceFolder }> = [];
  const arrived: number[] = [];
  let wake: () => void = () => undefined;
  const run = (async () => {
    for await (const m of source.follow(folders, { signal: controller.signal, intervalMs: 1000 })) {
      got.push(m);
      arrived.push(Date.now());
      wake();
    }
  })();
  const next = (ms: number): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

  await new Promise((resolve) => setTimeout(resolve, 500)); // let it settle into IDLE
  t.is(got.length, 0, 'existing mail is not yielded');
  const raw = Buffer.from('From: new@old.example\r\nSubject: arrived while following\r\n\r\nhello\r\n');
  let sent = Date.now();
  let waiting = next(3000);
  const appended = await fixture.append('INBOX', raw, ['$Label1']);
  await waiting;
  t.is(got[0]!.folder.name, 'INBOX');
  t.deepEqual(state(got[0]!), appended);
  t.log(`INBOX: ${arrived[0]! - sent} ms from APPEND to yield`);
  t.true(arrived[0]! - sent < 2000, 'IDLE woke it, not the next poll');

  sent = Date.now();
  waiting = next(4000);
  await fixture.append('Café & Co', raw, ['\\Flagged']);
  await waiting;
  t.is(got[1]!.folder.name, 'Café & Co');
  t.deepEqual(got[1]!.flags, ['\\Flagged']);
  t.log(`Café & Co (poll every 1 s): ${arrived[1]! - sent} ms`);

  const aborted = Date.now();
  controller.abort();
  await run;
  t.true(Date.now() - aborted < 2000, 'abort ends follow promptly');
  t.is(got.length, 2);
});

test.serial('follow: survives a dropped connection (doveadm kick) and skips what `known` reports', async (t) => {
  const folders = await source.folders({ include: ['INBOX'] });
  const controller = new AbortController();
  const got: SourceMessage[] = [];
  const knownIds = new Set<string>();
  const reader = await openImapSource(options());
  t.teardown(() => reader.close());
  const run = (async () => {
    for await (const m of reader.follow(folders, { signal: controller.signal, intervalMs: 60_000, known: async (ids) => new Set(ids.filter((id) => knownIds.has(id))) })) got.push(m);
  })();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const kick = spawnSync('doveadm', ['-c', path.join(fixture.dovecot.dir, 'dovecot.conf'), 'kick', fixture.user], { encoding: 'utf8' });
  t.is(kick.status, 0, kick.stderr);
  // One message the importer already has (known), then one it has not.
  const inbox = folders[0]!;
  knownIds.add(imapMessageUrl({ user: fixture.user, host: fixture.conn.host, port: fixture.conn.port }, 'INBOX', inbox.uidValidity, inbox.uidNext));
  await fixture.append('INBOX', Buffer.from('Subject: known\r\n\r\nalready imported\r\n'));
  const after = await fixture.append('INBOX', Buffer.from('Subject: after the kick\r\n\r\nstill here\r\n'));
  const deadline = Date.now() + 8000;
  while (got.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  controller.abort();
  await run;
  t.is(got.length, 1);
  t.deepEqual(state(got[0]!), after);
});

// ---- naming rules and ids, without a server ----------------------------------

const listed = (path: string, delimiter: string | null, ...attributes: string[]): ListedMailbox => ({ path, delimiter, attributes, subscribed: true });

test('naming: Gmail: special use by attribute, virtual folders marked, [Gmail] parent left out', (t) => {
  const named = nameMailboxes([
    listed('INBOX', '/'), listed('[Gmail]', '/', '\\Noselect', '\\HasChildren'), listed('[Gmail]/All Mail', '/', '\\All'),
    listed('[Gmail]/Sent Mail', '/', '\\Sent'), listed('[Gmail]/Spam', '/', '\\Junk'), listed('[Gmail]/Starred', '/', '\\Flagged'),
    listed('[Gmail]/Bin', '/', '\\Trash'), listed('[Gmail]/Drafts', '/', '\\Drafts'), listed('[Gmail]/Important', '/', '\\Important'),
    listed('Sent', '/'), listed('Receipts', '/'),
  ]);
  t.deepEqual(named.map((m) => [m.path, m.name, m.specialUse, m.virtual]), [
    ['INBOX', 'INBOX', null, false],
    ['[Gmail]/Drafts', 'Drafts', '\\Drafts', false],
    ['[Gmail]/Spam', 'Junk', '\\Junk', false],
    ['Receipts', 'Receipts', null, false],
    ['[Gmail]/Sent Mail', 'Sent', '\\Sent', false],
    ['Sent', 'Sent (2)', null, false], // the attribute claimed "Sent"
    ['[Gmail]/Bin', 'Trash', '\\Trash', false],
    ['[Gmail]/All Mail', '[Gmail]/All Mail', null, true],
    ['[Gmail]/Important', '[Gmail]/Important', null, true],
    ['[Gmail]/Starred', '[Gmail]/Starred', null, true],
  ]);
});

test('include: virtual folders only when a glob names them without wildcards; % and * by level', (t) => {
  const allMail = { name: '[Gmail]/All Mail', path: '[Gmail]/All Mail', delimiter: '/', virtual: true };
  const work = { name: 'Work/2020_21', path: 'INBOX.Work.2020/21', delimiter: '.', virtual: false };
  t.false(isIncluded(allMail));
  t.false(isIncluded(allMail, ['*']));
  t.false(isIncluded(allMail, ['[Gmail]/%']));
  t.true(isIncluded(allMail, ['[Gmail]/All Mail']));
  t.true(isIncluded(work));
  t.true(isIncluded(work, ['Work/%']));
  t.true(isIncluded(work, ['INBOX.Work.%']));
  t.true(isIncluded(work, ['inbox.*']));
  t.false(isIncluded(work, ['%']));
  t.false(isIncluded(work, ['INBOX.%']));
});

test('naming: no attributes: well-known names, one folder per use, children move with their folder', (t) => {
  const named = nameMailboxes([
    listed('INBOX', '/'), listed('Sent Items', '/'), listed('Sent Items/2019', '/'), listed('Sent', '/'), listed('Deleted Messages', '/'),
    listed('Spam', '/'), listed('Junk', '/'), listed('Gesendet', '/'), listed('Projects/Sent', '/'), listed('Archiv', '/'),
  ]);
  const byPath = Object.fromEntries(named.map((m) => [m.path, [m.name, m.specialUse]]));
  t.deepEqual(byPath, {
    INBOX: ['INBOX', null],
    Sent: ['Sent', '\\Sent'], // already called so: preferred
    'Sent Items': ['Sent Items', null],
    'Sent Items/2019': ['Sent Items/2019', null],
    Gesendet: ['Gesendet', null],
    'Deleted Messages': ['Trash', '\\Trash'],
    Junk: ['Junk', '\\Junk'],
    Spam: ['Spam', null],
    'Projects/Sent': ['Projects/Sent', null], // names count at the top level only
    Archiv: ['Archive', '\\Archive'],
  });
  const moved = nameMailboxes([listed('Sent Items', '/'), listed('Sent Items/2019', '/')]);
  t.deepEqual(moved.map((m) => m.name), ['Sent', 'Sent/2019']);
});

test('naming: a "." server with an INBOX. prefix; "/" inside a level is not a level; attributes beat names', (t) => {
  const named = nameMailboxes([
    listed('INBOX', '.'), listed('INBOX.Sent Messages', '.', '\\Sent'), listed('INBOX.Sent', '.'), listed('INBOX.a/b', '.'),
    listed('INBOX.Work.2020/21', '.'), listed('INBOX.Trash', '.', '\\Trash'), listed('INBOX.Work', '.', '\\HasChildren'),
  ], 'INBOX.');
  t.deepEqual(named.map((m) => [m.path, m.name, m.specialUse]), [
    ['INBOX', 'INBOX', null],
    ['INBOX.Sent Messages', 'Sent', '\\Sent'],
    ['INBOX.Sent', 'Sent (2)', null],
    ['INBOX.Trash', 'Trash', '\\Trash'],
    ['INBOX.Work', 'Work', null],
    ['INBOX.Work.2020/21', 'Work/2020_21', null],
    ['INBOX.a/b', 'a_b', null],
  ]);
});

test('ids: RFC 5092 URLs percent-encode user and mailbox as UTF-8', (t) => {
  t.is(imapMessageUrl({ user: 'ann@example.org', host: 'IMAP.Example.org', port: 993 }, 'Café & Co/a;b', 7, 42),
    'imap://ann%40example.org@imap.example.org:993/Caf%C3%A9%20&%20Co/a%3Bb;UIDVALIDITY=7/;UID=42');
  t.is(imapMessageUrl({ user: 'u', host: '::1', port: 143 }, 'Входящие', 1, 1), 'imap://u@[::1]:143/%D0%92%D1%85%D0%BE%D0%B4%D1%8F%D1%89%D0%B8%D0%B5;UIDVALIDITY=1/;UID=1');
});

test('chunks: bounded by count and bytes, a big message alone; UID sets compressed; flags cleaned', (t) => {
  const w = (uid: number, size: number) => ({ uid, size });
  t.deepEqual(planChunks([w(1, 10), w(2, 10), w(3, 10), w(4, 100), w(5, 10)], 2, 50).map((c) => c.map((x) => x.uid)), [[1, 2], [3], [4], [5]]);
  t.is(uidSet([1, 2, 3, 7, 9, 10]), '1:3,7,9:10');
  t.deepEqual(sourceFlags(['\\seen', '\\Recent', '\\Unknown', '$Label1', 'bad]word', '\\SEEN', 'Important']), ['\\Seen', '$Label1', 'Important']);
});
