// offlineimap (Debian's offlineimap3) syncing a Sealpost account over implicit
// TLS (RFC 8314 §3.2): every folder, a modified-UTF-7 name (RFC 3501 §5.1.3)
// included, comes down to a Maildir; then local flag changes, deletions and new
// mail go back up, checked through a separate IMAP connection.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { RawImapClient, quote } from '../helpers/imap-raw.ts';
import { startSealpost } from '../helpers/sealpost.ts';

const OFFLINEIMAP_BIN = '/usr/bin/offlineimap';
const user = 'offline@example.test';
// a space, a quote, a backslash and a percent sign: the rc must carry it verbatim
const pass = 'p"ss w\\rd 100%';

function message(id: string, subject: string): Buffer {
  return Buffer.from(
    `From: Sender <sender@example.test>\r\nTo: ${user}\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${id}@offlineimap.test>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n${subject}, body.\r\n`,
  );
}

const idOf = (raw: Buffer | string): string | undefined => /^Message-ID: <([^@>]+)@offlineimap\.test>/im.exec(raw.toString())?.[1];

/** Sorted by key, so that UID or file order does not matter when comparing. */
function sorted<V>(map: Map<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** offlineimaprc values go through Python's ConfigParser: '%' must be doubled, line breaks are impossible. */
function rcValue(value: string): string {
  if (/[\r\n]/.test(value) || value !== value.trim()) throw new Error('offlineimaprc value: no line breaks or edge spaces');
  return value.replaceAll('%', '%%');
}

interface Setup {
  dir: string;
  rcFile: string;
  mailDir: string;
}

function writeRc(server: { port: number; caFile: string }): Setup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-offlineimap-'));
  const mailDir = path.join(dir, 'mail');
  const rc = [
    '[general]',
    'accounts = sealpost',
    `metadata = ${rcValue(path.join(dir, 'meta'))}`,
    'ui = basic',
    '',
    '[Account sealpost]',
    'localrepository = near',
    'remoterepository = far',
    // folder names as UTF-8 on disk, modified UTF-7 on the wire
    'utf8foldernames = yes',
    '',
    '[Repository near]',
    'type = Maildir',
    `localfolders = ${rcValue(mailDir)}`,
    'sep = /',
    '',
    '[Repository far]',
    'type = IMAP',
    // the gateway's certificate names localhost and 127.0.0.1; a user would type the name
    'remotehost = localhost',
    `remoteport = ${server.port}`,
    `remoteuser = ${rcValue(user)}`,
    `remotepass = ${rcValue(pass)}`,
    'ssl = yes',
    `sslcacertfile = ${rcValue(server.caFile)}`,
    'maxconnections = 1',
    'holdconnectionopen = no',
    '',
  ].join('\n');
  const rcFile = path.join(dir, 'offlineimaprc');
  fs.writeFileSync(rcFile, rc, { mode: 0o600 });
  return { dir, rcFile, mailDir };
}

/** One-shot sync. @throws Error with offlineimap's output when it fails or reports an error */
function runOfflineimap(setup: Setup): Promise<string> {
  if (!fs.existsSync(OFFLINEIMAP_BIN)) throw new Error(`offlineimap is not installed (${OFFLINEIMAP_BIN}); run: apt-get install -y offlineimap3`);
  const extra = process.env.OFFLINEIMAP_DEBUG === undefined ? [] : ['-d', process.env.OFFLINEIMAP_DEBUG];
  return new Promise((resolve, reject) => {
    execFile(OFFLINEIMAP_BIN, ['-c', setup.rcFile, '-o', '-u', 'basic', ...extra], { timeout: 60_000, env: { ...process.env, HOME: setup.dir } }, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      // offlineimap can exit 0 after per-folder errors; its summary names them
      if (error !== null || /\bERROR\b|Traceback/.test(output)) reject(new Error(`offlineimap failed (${error?.code ?? 'errors reported'}):\n${output}`));
      else resolve(output);
    });
  });
}

interface LocalMessage {
  file: string;
  /** Maildir info flags after ":2," */
  flags: string;
  raw: Buffer;
}

function localMessages(setup: Setup, folder: string): LocalMessage[] {
  const messages: LocalMessage[] = [];
  for (const sub of ['new', 'cur']) {
    const root = path.join(setup.mailDir, folder, sub);
    if (!fs.existsSync(root)) continue;
    for (const name of fs.readdirSync(root).sort()) {
      const file = path.join(root, name);
      const info = name.indexOf(':2,');
      messages.push({ file, flags: info < 0 ? '' : name.slice(info + 3), raw: fs.readFileSync(file) });
    }
  }
  return messages;
}

/** Message-ID (local part) -> Maildir flags. */
function localIndex(setup: Setup, folder: string): Map<string, string> {
  return sorted(new Map(localMessages(setup, folder).map((m) => [idOf(m.raw) ?? m.file, m.flags])));
}

function localFind(setup: Setup, folder: string, id: string): LocalMessage {
  const found = localMessages(setup, folder).find((m) => idOf(m.raw) === id);
  if (found === undefined) throw new Error(`local ${folder} has no message ${id}`);
  return found;
}

/** Message-ID (local part) -> IMAP flags (without \Recent), read from the server. */
async function farIndex(client: RawImapClient, folder: string): Promise<Map<string, string[]>> {
  await client.ok(`EXAMINE ${quote(folder)}`);
  const fetch = await client.ok('UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])');
  const result = new Map<string, string[]>();
  for (const response of fetch.responses) {
    const text = response.toString('latin1');
    const id = /Message-ID: <([^@>]+)@offlineimap\.test>/i.exec(text)?.[1];
    const flags = /FLAGS \(([^)]*)\)/.exec(text)?.[1];
    if (id !== undefined && flags !== undefined) result.set(id, flags.split(' ').filter((f) => f !== '' && f !== '\\Recent').sort());
  }
  await client.ok('UNSELECT');
  return sorted(result);
}

test('offlineimap syncs every folder of a Sealpost account both ways over TLS', async (t) => {
  const server = await startSealpost({ users: [{ user, password: pass }] });
  const setup = writeRc({ port: server.ports.imaps, caFile: server.caFile });
  const far = await RawImapClient.connect({ host: server.host, port: server.ports.imaps, tls: true });
  try {
    await far.ok(`LOGIN ${quote(user)} ${quote(pass)}`);
    // "Zürich" in modified UTF-7 (RFC 3501 §5.1.3)
    await far.ok('CREATE "Z&APw-rich"');
    const seed: Array<[string, string, string[]]> = [
      ['INBOX', 'm1', ['\\Seen']],
      ['INBOX', 'm2', []],
      ['INBOX', 'm3', ['\\Flagged']],
      ['Sent', 's1', ['\\Seen']],
      ['Drafts', 'd1', ['\\Draft']],
      ['Junk', 'j1', []],
      ['Archive', 'a1', ['\\Seen']],
      ['Archive', 'a2', ['\\Seen', '\\Answered']],
      ['Z&APw-rich', 'z1', []],
    ];
    for (const [folder, id, flags] of seed) t.is((await far.append(folder, message(id, `${id} in ${folder}`), { flags })).status, 'OK', `APPEND ${id}`);

    // 1. first sync: everything comes down
    await runOfflineimap(setup);
    t.deepEqual(localIndex(setup, 'INBOX'), new Map([['m1', 'S'], ['m2', ''], ['m3', 'F']]), 'local INBOX');
    t.deepEqual(localIndex(setup, 'Sent'), new Map([['s1', 'S']]), 'local Sent');
    t.deepEqual(localIndex(setup, 'Drafts'), new Map([['d1', 'D']]), 'local Drafts');
    t.deepEqual(localIndex(setup, 'Trash'), new Map(), 'local Trash');
    t.true(fs.existsSync(path.join(setup.mailDir, 'Trash', 'cur')), 'empty Trash exists locally');
    t.deepEqual(localIndex(setup, 'Junk'), new Map([['j1', '']]), 'local Junk');
    t.deepEqual(localIndex(setup, 'Archive'), new Map([['a1', 'S'], ['a2', 'RS']]), 'local Archive');
    t.deepEqual(localIndex(setup, 'Zürich'), new Map([['z1', '']]), 'local Zürich (UTF-8 on disk)');
    // offlineimap stores the server's bytes with LF line ends (and, the server
    // having UIDPLUS, without an X-OfflineIMAP header)
    const m1 = localFind(setup, 'INBOX', 'm1');
    t.is(m1.raw.toString('latin1'), message('m1', 'm1 in INBOX').toString('latin1').replaceAll('\r\n', '\n'), 'bytes of m1');

    // 2. local changes: m2 read, m3 deleted, m4 delivered into new/
    const m2 = localFind(setup, 'INBOX', 'm2');
    fs.renameSync(m2.file, path.join(setup.mailDir, 'INBOX', 'cur', `${path.basename(m2.file).replace(/:2,.*$/, '')}:2,S`));
    fs.rmSync(localFind(setup, 'INBOX', 'm3').file);
    const m4Name = `${Math.floor(Date.now() / 1000)}.m4.sealpost-test`;
    fs.writeFileSync(path.join(setup.mailDir, 'INBOX', 'tmp', m4Name), message('m4', 'written locally'));
    fs.renameSync(path.join(setup.mailDir, 'INBOX', 'tmp', m4Name), path.join(setup.mailDir, 'INBOX', 'new', m4Name));
    await runOfflineimap(setup);

    t.deepEqual(await farIndex(far, 'INBOX'), new Map([
      ['m1', ['\\Seen']],
      ['m2', ['\\Seen']],
      ['m4', []],
    ]), 'server INBOX after local flag, deletion and new message');
    const search = await far.ok('EXAMINE INBOX').then(async () => far.ok('UID SEARCH HEADER Message-ID "m4@offlineimap.test"'));
    const m4Uid = /^\* SEARCH (\d+)/m.exec(search.untagged.toString())?.[1];
    t.truthy(m4Uid, 'server finds m4');
    const body = await far.ok(`UID FETCH ${m4Uid ?? '0'} BODY.PEEK[TEXT]`);
    t.regex(body.untagged.toString(), /written locally, body\./, 'm4 body on the server');
    await far.ok('UNSELECT');
    t.deepEqual(await farIndex(far, 'Z&APw-rich'), new Map([['z1', []]]), 'non-ASCII folder untouched');

    // 3. nothing left to do: another run changes nothing on either side
    await runOfflineimap(setup);
    t.is(localMessages(setup, 'INBOX').length, 3, 'idempotent local');
    t.is((await farIndex(far, 'INBOX')).size, 3, 'idempotent server');
  } finally {
    await far.logout().catch(() => far.close());
    await server.stop();
    fs.rmSync(setup.dir, { recursive: true, force: true });
  }
});
