// `sealpost import imap` from a real Dovecot (test/helpers/migration-fixture.ts:
// several folders, special-use ones, non-ASCII names, flags and keywords, old
// internal dates, a 12 MB message) into a real gateway, the CLI run as a user
// runs it. Compared over IMAP on both sides: the same folders (mapped as the
// fixture says), counts, flags, internal dates and message bytes (SHA-256).
// Killed half way and run again: the same result, no duplicates. --follow:
// a message appended to Dovecot afterwards arrives in Sealpost.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { readImapState, startMigrationFixture, type MigrationFixture, type StateMessage } from '../helpers/migration-fixture.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';

const USER = 'alice@example.org';
const PASSWORD = 'correct horse battery';
const MAIN = path.resolve('src/cli/main.ts');

interface Run { code: number | null; stdout: string; stderr: string }

function importArgs(server: SealpostServer, fixture: MigrationFixture, extra: string[] = []): string[] {
  return [MAIN, 'import', 'imap', '--data-dir', server.dir, '--account', USER, '--host', fixture.conn.host, '--port', String(fixture.conn.port), '--plain', '--user', fixture.user, ...extra];
}

const env = (fixture: MigrationFixture): NodeJS.ProcessEnv => ({ ...process.env, SEALPOST_HOME: '', SEALPOST_PASSWORD: PASSWORD, SEALPOST_IMPORT_PASSWORD: fixture.password });

/** Runs the import; `onStdout` sees its output, `watch` is polled every 20 ms; both may stop it early. */
function runImport(args: string[], environment: NodeJS.ProcessEnv, onStdout?: (text: string, kill: (signal: NodeJS.Signals) => void) => void, watch?: (kill: (signal: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = watch === undefined ? undefined : setInterval(() => watch((signal) => child.kill(signal)), 20);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, (signal) => child.kill(signal));
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStdout?.(stderr, (signal) => child.kill(signal));
    });
    child.once('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Sealpost's view, keyed by folder, of the folders the fixture fills (the account's own empty ones left aside). */
async function sealpostState(server: SealpostServer, names: readonly string[]): Promise<Map<string, StateMessage[]>> {
  const state = await readImapState({ host: '127.0.0.1', port: server.ports.imap, user: USER, password: PASSWORD });
  return new Map(names.map((n) => [n, state.get(n) ?? []]));
}

/** Dovecot's view with its folder names mapped to the names Sealpost gives them. */
function expectedState(fixture: MigrationFixture, source: Map<string, StateMessage[]>): Map<string, StateMessage[]> {
  return new Map([...source].map(([name, messages]) => [fixture.sealpostNames[name] ?? name, messages]));
}

const normalise = (state: Map<string, StateMessage[]>): Record<string, StateMessage[]> =>
  Object.fromEntries([...state].map(([k, list]): [string, StateMessage[]] => [k, [...list].map((m) => ({ ...m, internalDate: Math.floor(m.internalDate / 1000) })).sort((a, b) => a.sha256.localeCompare(b.sha256) || a.internalDate - b.internalDate)]).sort((x, y) => x[0].localeCompare(y[0])));

test('an IMAP account imports whole; killed half way and run again, nothing is missing or doubled', async (t) => {
  t.timeout(240_000);
  const fixture = await startMigrationFixture({ messages: 300 });
  t.teardown(() => fixture.stop());
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  const source = await readImapState(fixture.conn);
  const expected = expectedState(fixture, source);
  const total = [...source.values()].reduce((n, l) => n + l.length, 0);

  // First run, killed (SIGKILL: no chance to clean up) once a good part is in.
  const { store } = server.gateway.node;
  const account = (await store.getAccount(USER))!;
  let killed = false;
  let checking = false;
  const first = await runImport(importArgs(server, fixture), env(fixture), undefined, (kill) => {
    if (killed || checking) return;
    checking = true;
    void (async () => {
      let count = 0;
      for (const box of await store.listMailboxes(account.id)) count += (await store.status(box.id)).messages;
      if (!killed && count >= total / 3) {
        killed = true;
        kill('SIGKILL');
      }
      checking = false;
    })();
  });
  t.true(killed, `the first run was to be killed half way: ${first.stdout} ${first.stderr}`);
  const partial = await sealpostState(server, [...expected.keys()]);
  const partialCount = [...partial.values()].reduce((n, l) => n + l.length, 0);
  t.true(partialCount > 0 && partialCount < total, `killed with ${partialCount} of ${total} in`);

  const second = await runImport(importArgs(server, fixture), env(fixture));
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, /imported \d+ messages .*were imported before, through the running gateway/);
  t.deepEqual(normalise(await sealpostState(server, [...expected.keys()])), normalise(expected));

  // Special use carried over: Dovecot's \Sent folder is Sealpost's Sent, "Junk E-mail" is Junk.
  const boxes = await store.listMailboxes(account.id);
  t.is(boxes.find((b) => b.specialUse === '\\Sent')?.name, 'Sent');
  t.is(boxes.find((b) => b.specialUse === '\\Junk')?.name, 'Junk');
  const subscribed = await store.listSubscriptions(account.id);
  t.true(subscribed.includes('Входящие архив'));

  // A third run finds everything in.
  const third = await runImport(importArgs(server, fixture), env(fixture));
  t.is(third.code, 0, third.stderr);
  t.regex(third.stdout, new RegExp(`imported 0 messages .*; ${total} were imported before`));
});

/** Messages of Sealpost's INBOX with this keyword, polled until `count` are there or 20 s pass. */
async function withKeyword(server: SealpostServer, keyword: string, count: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const state = await readImapState({ host: '127.0.0.1', port: server.ports.imap, user: USER, password: PASSWORD });
    const n = (state.get('INBOX') ?? []).filter((m) => m.flags.includes(keyword)).length;
    if (n >= count || Date.now() > deadline) return n;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

const late = (subject: string): Buffer => Buffer.from(`From: late@example.net\r\nTo: migrant@example.net\r\nSubject: ${subject}\r\n\r\nAfter the switch.\r\n`);

test('--follow with the gateway running: the gateway keeps bringing in new mail, also after a restart', async (t) => {
  t.timeout(120_000);
  const fixture = await startMigrationFixture({ messages: 20, big: false });
  t.teardown(() => fixture.stop());
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  const run = await runImport(importArgs(server, fixture, ['--follow', '--poll-seconds', '1']), env(fixture));
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /the gateway now brings in new mail from 127\.0\.0\.1/);
  await fixture.append('INBOX', late('arrived later'), ['$Late']);
  t.is(await withKeyword(server, '$Late', 1), 1, 'the gateway followed the old account');
  // The follow is kept (sealed to the account's key) and resumes when the account logs in again.
  await server.restart();
  t.is(await withKeyword(server, '$Late', 1), 1, 'the login unlocks the account');
  await fixture.append('INBOX', late('arrived after the restart'), ['$Later']);
  t.is(await withKeyword(server, '$Later', 1), 1, 'followed again after the restart');
  t.false(fs.readFileSync(path.join(server.dir, 'follows.db')).includes(Buffer.from(fixture.password)), 'the old password is not stored in clear');
});

test('--follow without a gateway: the command itself brings in new mail until Ctrl-C', async (t) => {
  t.timeout(120_000);
  const fixture = await startMigrationFixture({ messages: 20, big: false });
  t.teardown(() => fixture.stop());
  const server = await startSealpost({ users: [{ user: USER, password: PASSWORD }] });
  t.teardown(() => server.stop());
  await server.gateway.close();
  let appended = false;
  const run = await runImport(importArgs(server, fixture, ['--follow', '--poll-seconds', '1']), env(fixture), (text, kill) => {
    if (!appended && /now following/.test(text)) {
      appended = true;
      void fixture.append('INBOX', late('arrived later'), ['$Late']);
    }
    if (/new message in INBOX/.test(text)) kill('SIGINT');
  });
  t.true(appended, run.stdout + run.stderr);
  t.regex(run.stdout, /new message in INBOX \(1 since following\)/);
  await server.restart();
  t.is(await withKeyword(server, '$Late', 1), 1);
});
