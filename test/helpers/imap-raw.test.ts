// Proves the raw IMAP client against a real Dovecot: framing of responses
// with literals (RFC 3501 §4.3), sync and non-sync literals (RFC 7888), IDLE.
import test from 'ava';
import { startDovecot, type DovecotServer } from './dovecot.ts';
import { RawImapClient, literal } from './imap-raw.ts';
import { generateCorpus } from './corpus.ts';

const USER = 'raw@example.test';
const PASS = 'secret pass';
const corpus = generateCorpus(30, 7);
let server: DovecotServer;

test.before(async () => {
  server = await startDovecot({ users: [{ user: USER, password: PASS }], maildirs: { [USER]: corpus } });
});
test.after.always(async () => {
  await server?.stop();
});

async function session(): Promise<RawImapClient> {
  const client = await RawImapClient.connect({ port: server.port });
  await client.ok(`LOGIN "${USER}" "${PASS}"`);
  return client;
}

test('reads the greeting and logs in', async (t) => {
  const client = await RawImapClient.connect({ port: server.port });
  t.regex(client.greeting, /^\* OK/);
  t.is((await client.login(USER, 'wrong')).status, 'NO');
  const ok = await client.login(USER, PASS);
  t.is(ok.status, 'OK');
  t.regex(ok.tagged, /^A2 OK/);
  await client.logout();
});

test('SELECT reports the maildir written directly, in corpus order', async (t) => {
  const client = await session();
  const select = await client.ok('SELECT INBOX');
  t.regex(select.untagged.toString(), new RegExp(`\\* ${corpus.length} EXISTS\\r\\n`));
  const fetch = await client.ok('UID FETCH 1:3 (UID FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])');
  t.is(fetch.responses.length, 3);
  for (const [i, response] of fetch.responses.entries()) {
    const message = corpus[i]!;
    t.true(response.includes(`<${message.messageId}>`), `message ${i + 1} in order`);
    for (const flag of message.flags) t.true(response.toString().includes(flag), `flag ${flag}`);
  }
  const firstDate = corpus[0]!.internalDate;
  t.true(fetch.responses[0]!.toString().includes(`${String(firstDate.getUTCDate()).padStart(2, '0')}-Jan-2024`));
  await client.logout();
});

test('FETCH BODY[] returns each literal byte for byte, whatever the chunking', async (t) => {
  const client = await session();
  await client.ok('EXAMINE INBOX');
  const fetch = await client.ok(`FETCH 1:${corpus.length} (BODY.PEEK[])`);
  t.is(fetch.responses.length, corpus.length);
  for (const [i, response] of fetch.responses.entries()) {
    const raw = corpus[i]!.raw;
    const head = `* ${i + 1} FETCH (BODY[] {${raw.length}}\r\n`;
    t.is(response.subarray(0, head.length).toString('latin1'), head);
    t.true(response.subarray(head.length, head.length + raw.length).equals(raw), `body ${i + 1}`);
    t.is(response.subarray(head.length + raw.length).toString(), ')\r\n');
  }
  // the untagged Buffer is the exact concatenation
  t.is(fetch.untagged.length, fetch.responses.reduce((sum, r) => sum + r.length, 0));
  await client.logout();
});

test('APPEND with a synchronising and a non-synchronising literal', async (t) => {
  const client = await session();
  await client.ok('CREATE Raw');
  const message = Buffer.from('From: a@example.test\r\nSubject: caf\xc3\xa9\r\n\r\nhello {5}\r\nworld\r\n', 'latin1');
  const sync = await client.append('Raw', message, { flags: ['\\Seen'], internalDate: '01-Feb-2024 10:00:00 +0000' });
  t.is(sync.status, 'OK');
  const nonSync = await client.append('Raw', message, { nonSync: true });
  t.is(nonSync.status, 'OK');
  // a literal inside a command that is not the last argument
  const search = await client.command(['EXAMINE ', literal('Raw')]);
  t.is(search.status, 'OK');
  const fetch = await client.ok('FETCH 1:2 (FLAGS BODY.PEEK[])');
  t.is(fetch.responses.length, 2);
  t.true(fetch.responses[0]!.includes(message));
  t.regex(fetch.responses[0]!.toString(), /\\Seen/);
  await client.logout();
});

test('a malformed command gets BAD and the session goes on', async (t) => {
  const client = await session();
  const bad = await client.command('FETCH (((');
  t.not(bad.status, 'OK');
  const tag = client.nextTag();
  client.send(`${tag} NOOP\r\n`);
  t.is((await client.waitForTagged(tag)).status, 'OK');
  await client.logout();
});

test('IDLE sees mail appended by another session', async (t) => {
  const watcher = await session();
  await watcher.ok('SELECT INBOX');
  await watcher.idle();
  const writer = await session();
  await writer.ok(['APPEND INBOX ', literal('Subject: idle\r\n\r\nx\r\n', true)]);
  const exists = await watcher.waitFor(/^\* \d+ EXISTS/, 10_000);
  t.is(exists, `* ${corpus.length + 1} EXISTS`);
  const done = await watcher.done();
  t.is(done.status, 'OK');
  t.is((await watcher.command('NOOP')).status, 'OK');
  await writer.logout();
  await watcher.logout();
});

test('STARTTLS upgrades the connection and the session continues over TLS', async (t) => {
  const secure = await startDovecot({ users: [{ user: USER, password: PASS }], tls: true });
  try {
    const client = await RawImapClient.connect({ port: secure.port });
    const capability = await client.ok('CAPABILITY');
    t.regex(capability.untagged.toString(), /STARTTLS/);
    t.is((await client.starttls()).status, 'OK');
    t.true('encrypted' in client.socket && client.socket.encrypted === true);
    t.is((await client.login(USER, PASS)).status, 'OK');
    const select = await client.ok('SELECT INBOX');
    t.regex(select.untagged.toString(), /\* 0 EXISTS/);
    await client.logout();
  } finally {
    await secure.stop();
  }
});
