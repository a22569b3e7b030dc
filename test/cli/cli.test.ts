// The sealpost CLI run as a child process (node src/cli/main.ts): help,
// usage errors (exit 2), init/account/status on a temp data dir, and start
// with port 0 serving a real SMTP submission end to end.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';

const MAIN = path.resolve('src/cli/main.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sealpost(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, SEALPOST_HOME: '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'data');
}

test('--help lists the commands with examples; help <command> shows its usage', async (t) => {
  const top = await sealpost(['--help']);
  t.is(top.code, 0);
  for (const word of ['init', 'start', 'account', 'status', 'quickstart', 'Examples:', '--data-dir']) t.true(top.stdout.includes(word), word);
  const init = await sealpost(['init', '--help']);
  t.is(init.code, 0);
  t.true(init.stdout.startsWith('Usage: sealpost init --address ADDR'));
  t.is((await sealpost(['help', 'account'])).stdout, (await sealpost(['account', '--help'])).stdout);
  t.is((await sealpost([])).code, 0);
});

test('usage mistakes exit 2 with a short message and no stack trace', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['init', '--data-dir', dir], /--address is required/],
    [['init', '--data-dir', dir, '--address', 'a@b.example', '--bogus'], /Unknown option '--bogus'/],
    [['init', '--data-dir', dir, '--address', 'not an address'], /address: "not an address" is not a valid mail address/],
    [['init', '--data-dir', dir, '--address', 'a@b.example', '--password', 'short'], /password: must be at least 8/],
    [['init', '--data-dir', dir, '--address', 'a@b.example', '--password-file', path.join(dir, 'missing')], /cannot read --password-file/],
    [['start', '--data-dir', dir, '--imap-port', '99999'], /--imap-port must be a port number/],
    [['account', '--data-dir', dir], /say what to do/],
    [['account', 'remove', '--data-dir', dir], /unknown action "remove"/],
    [['account', 'list', '--data-dir', dir, '--address', 'a@b.example'], /--address does not apply to account list/],
    [['account', 'passwd', '--data-dir', dir, '--address', 'a@b.example'], /needs --old-password/],
  ];
  for (const [args, message] of cases) {
    const run = await sealpost(args);
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, message, args.join(' '));
    t.regex(run.stderr, /--help" for usage/);
    t.false(run.stderr.includes('    at '), 'no stack trace');
  }
  t.false(fs.existsSync(dir), 'nothing was created by a refused command');
});

test('commands on an uninitialised data dir fail with exit 1 and say what to do', async (t) => {
  const dir = tempDir(t);
  const run = await sealpost(['account', 'list', '--data-dir', dir]);
  t.is(run.code, 1);
  t.regex(run.stderr, /not initialised: run "sealpost init --address ADDR" first/);
  const status = await sealpost(['status', '--data-dir', dir]);
  t.is(status.code, 0);
  t.regex(status.stdout, /Not initialised/);
});

test('init, account add/list/passwd and status on a data dir (from SEALPOST_HOME)', async (t) => {
  const dir = tempDir(t);
  const env = { SEALPOST_HOME: dir };
  const pwFile = path.join(path.dirname(dir), 'pw.txt');
  fs.writeFileSync(pwFile, 'alice-secret-pw\n');

  const init = await sealpost(['init', '--address', 'Alice@Example.org', '--name', 'Alice', '--password-file', pwFile], env);
  t.is(init.code, 0, init.stderr);
  t.regex(init.stdout, /Account alice@example\.org created; OpenPGP key [0-9A-F]{40}/);
  t.regex(init.stdout, /IMAP {2}server 127\.0\.0\.1 {2}port 1143 {2}security STARTTLS +\(or port 1993 with SSL\/TLS\)/);
  t.regex(init.stdout, /SMTP {2}server 127\.0\.0\.1 {2}port 1587 {2}security STARTTLS +\(or port 1465 with SSL\/TLS\)/);
  t.regex(init.stdout, /User name +alice@example\.org/);
  t.regex(init.stdout, /([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  t.false(init.stdout.includes('alice-secret-pw'), 'a password the user chose is not echoed');
  t.false(init.stdout.includes('Password '));
  t.is(fs.statSync(dir).mode & 0o777, 0o700);
  t.is(fs.statSync(path.join(dir, 'config.json')).mode & 0o777, 0o600);
  t.is(fs.statSync(path.join(dir, 'tls', 'key.pem')).mode & 0o777, 0o600);
  t.true(fs.existsSync(path.join(dir, 'sealpost.db')));
  const db = fs.readFileSync(path.join(dir, 'sealpost.db'));
  t.false(db.includes('alice-secret-pw'), 'the password is not stored in clear');

  const again = await sealpost(['init', '--address', 'alice@example.org', '--password-file', pwFile], env);
  t.is(again.code, 1);
  t.regex(again.stderr, /already exists/);

  const add = await sealpost(['account', 'add', '--address', 'bob@example.org'], env);
  t.is(add.code, 0, add.stderr);
  const bobPassword = /Password: (\S+)/.exec(add.stdout)?.[1] ?? '';
  t.is(bobPassword.length, 24);

  const list = await sealpost(['account', 'list'], env);
  t.is(list.code, 0);
  t.regex(list.stdout, /^alice@example\.org {2}"Alice" {2}key [0-9A-F]{40}/m);
  t.regex(list.stdout, /^bob@example\.org {2}key [0-9A-F]{40}/m);

  const wrongOld = await sealpost(['account', 'passwd', '--address', 'bob@example.org', '--old-password', 'not-the-password', '--password', 'bob-new-password'], env);
  t.is(wrongOld.code, 1);
  t.regex(wrongOld.stderr, /old password is wrong/);
  const passwd = await sealpost(['account', 'passwd', '--address', 'bob@example.org', '--old-password', bobPassword, '--password', 'bob-new-password'], env);
  t.is(passwd.code, 0, passwd.stderr);
  t.regex(passwd.stdout, /re-encrypted with the new password/);
  const reset = await sealpost(['account', 'passwd', '--address', 'bob@example.org', '--force-new-key'], env);
  t.is(reset.code, 0, reset.stderr);
  t.regex(reset.stdout, /A NEW OpenPGP key pair replaced the old one/);
  t.regex(reset.stdout, /New password: \S{24}/);

  const status = await sealpost(['status'], env);
  t.is(status.code, 0, status.stderr);
  t.true(status.stdout.includes(`Data directory: ${dir}`));
  t.regex(status.stdout, /Gateway: not running/);
  t.regex(status.stdout, /Accounts: 2/);
  t.regex(status.stdout, /INBOX 0, Archive 0, Drafts 0, Junk 0, Sent 0, Trash 0/);
});

test('start on port 0 prints the bound ports, accepts mail, shows in status, stops on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const init = await sealpost(['init', '--data-dir', dir, '--address', 'me@sealpost.localhost', '--password', 'my-password-1']);
  t.is(init.code, 0, init.stderr);
  const child = spawn(process.execPath, [MAIN, 'start', '--data-dir', dir, '--smtp-port', '0', '--smtps-port', '0', '--imap-port', '0', '--imaps-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /^Listening on .*$/m.exec(stdout);
      if (m) resolve(m[0]);
    });
    void exited.then(() => reject(new Error(`start exited: ${stderr}`)));
  });
  const ports = /SMTP (\d+) \(STARTTLS\), SMTPS (\d+) \(SSL\/TLS\), IMAP (\d+) \(STARTTLS\), IMAPS (\d+)/.exec(line);
  t.truthy(ports, line);
  const smtpPort = Number(ports?.[1]);
  t.true(smtpPort > 0 && smtpPort !== 1587);

  const cert = fs.readFileSync(path.join(dir, 'tls', 'cert.pem'), 'utf8');
  await nodemailer.createTransport({
    host: '127.0.0.1', port: smtpPort, requireTLS: true, tls: { ca: cert, servername: 'localhost' },
    auth: { user: 'me@sealpost.localhost', pass: 'my-password-1' },
  }).sendMail({ from: 'me@sealpost.localhost', to: 'me@sealpost.localhost', subject: 'to myself', text: 'hi' });

  const status = await sealpost(['status', '--data-dir', dir]);
  t.regex(status.stdout, new RegExp(`Gateway: running \\(pid ${child.pid}\\)`));
  t.regex(status.stdout, /INBOX 1 \(1 unseen\)/);

  const second = await sealpost(['start', '--data-dir', dir, '--smtp-port', '0', '--smtps-port', '0', '--imap-port', '0', '--imaps-port', '0']);
  t.is(second.code, 1);
  t.regex(second.stderr, /already running/);

  child.kill('SIGTERM');
  t.is(await exited, 0, stderr);
  t.false(fs.existsSync(path.join(dir, 'gateway.json')));
  t.false(stderr.includes('hi\n'), 'no message body in the logs');
});

/** Runs `quickstart` until its "Press Ctrl-C" line, then stops it with SIGTERM. */
async function quickstartOnce(home: string): Promise<{ stdout: string; code: number | null }> {
  const child = spawn(process.execPath, [MAIN, 'quickstart', '--smtp-port', '0', '--smtps-port', '0', '--imap-port', '0', '--imaps-port', '0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, SEALPOST_HOME: home, SEALPOST_ADDRESS: 'Quick@Sealpost.localhost' },
  });
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (stdout.includes('Press Ctrl-C to stop.')) child.kill('SIGTERM');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return { stdout, code };
}

test('quickstart: first run initialises and prints the generated password with the bound ports; later runs do not', async (t) => {
  const home = tempDir(t);
  const first = await quickstartOnce(home);
  t.is(first.code, 0, first.stdout);
  t.regex(first.stdout, /First run/);
  t.regex(first.stdout, /User name +quick@sealpost\.localhost/);
  t.regex(first.stdout, /Password +\S{24}/);
  const imap = /IMAP (\d+) \(STARTTLS\)/.exec(first.stdout)?.[1];
  t.true(first.stdout.includes(`port ${imap}  security STARTTLS`), 'settings show the bound port');
  const second = await quickstartOnce(home);
  t.is(second.code, 0, second.stdout);
  t.notRegex(second.stdout, /First run|Password +\S/);
  t.regex(second.stdout, /User name +quick@sealpost\.localhost/);
  t.regex(second.stdout, /Forgot a password\? sealpost account passwd/);
});

test('bin/sealpost.js works on the system node (20) by re-executing with Node 24', async (t) => {
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((f) => fs.existsSync(f));
  if (systemNode === undefined) return t.pass('no system node here');
  const run = await new Promise<Run>((resolve) => {
    execFile(systemNode, [path.resolve('bin/sealpost.js'), 'init', '--help'], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
  t.is(run.code, 0, run.stderr);
  t.true(run.stdout.startsWith('Usage: sealpost init'));
});
