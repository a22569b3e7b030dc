// `sealpost keys` run as a child process (node src/cli/main.ts) on a temp
// data dir: the exported public and secret keys are read by the real gpg
// (the secret one only with the account's password), and keys made by gpg
// are imported from a file and from standard input.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPublicKeys } from '../../src/crypto/pgp.ts';
import { gpgHome } from '../helpers/gpg.ts';

const MAIN = path.resolve('src/cli/main.ts');
const PASSWORD = 'alice-client-password';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sealpost(args: string[], input?: string | Uint8Array): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, SEALPOST_HOME: '' }, timeout: 60_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

async function initialised(t: { teardown(fn: () => void): void }): Promise<{ root: string; dataDir: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-cli-keys-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const dataDir = path.join(root, 'data');
  const init = await sealpost(['init', '--data-dir', dataDir, '--address', 'alice@example.org', '--name', 'Alice', '--password', PASSWORD]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  return { root, dataDir };
}

test('keys export: public key to stdout, secret key (0600) that gpg imports and unlocks only with the client password', async (t) => {
  const { root, dataDir } = await initialised(t);
  const exported = await sealpost(['keys', 'export', '--data-dir', dataDir, '--address', 'Alice@Example.org']);
  t.is(exported.code, 0, exported.stderr);
  t.true(exported.stdout.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----'));
  const [publicInfo] = await readPublicKeys(exported.stdout);
  t.deepEqual(publicInfo?.addresses, ['alice@example.org']);
  const fingerprint = publicInfo?.fingerprint ?? '';
  t.regex((await sealpost(['account', 'list', '--data-dir', dataDir])).stdout, new RegExp(fingerprint));

  const secretFile = path.join(root, 'alice-secret.asc');
  const secret = await sealpost(['keys', 'export', '--data-dir', dataDir, '--address', 'alice@example.org', '--secret', '--output', secretFile]);
  t.is(secret.code, 0, secret.stderr);
  t.is(secret.stdout, '');
  t.regex(secret.stderr, /client password of alice@example\.org/);
  t.is(fs.statSync(secretFile).mode & 0o777, 0o600);
  const armoredSecret = fs.readFileSync(secretFile, 'utf8');
  t.true(armoredSecret.startsWith('-----BEGIN PGP PRIVATE KEY BLOCK-----'));

  const gpg = gpgHome(t);
  gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', PASSWORD, '--import'], armoredSecret);
  const listing = gpg.ok(['--with-colons', '--list-secret-keys']).stdout.toString('utf8');
  t.true(listing.includes(fingerprint), 'gpg holds the secret key');
  // Wrong passphrase first: gpg-agent caches a passphrase once it has worked.
  t.not(gpg.run(['--pinentry-mode', 'loopback', '--passphrase', 'wrong-password', '--local-user', fingerprint, '--sign'], 'hello').code, 0);
  const signed = gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', PASSWORD, '--local-user', fingerprint, '--sign'], 'hello');
  t.true(signed.stdout.length > 0);
  t.regex(signed.status, /SIG_CREATED/);

  // Without --output the secret goes to stdout, with the note on stderr.
  const toStdout = await sealpost(['keys', 'export', '--data-dir', dataDir, '--address', 'alice@example.org', '--secret']);
  t.is(toStdout.stdout, armoredSecret);
});

test('keys import: a gpg-made key from a file and from stdin (binary), then list and export it', async (t) => {
  const { root, dataDir } = await initialised(t);
  const gpg = gpgHome(t);
  gpg.ok(['--passphrase', '', '--quick-gen-key', 'Bob <bob@ext.example>', 'future-default', 'default', 'never']);
  gpg.ok(['--passphrase', '', '--quick-gen-key', 'Carol <carol@ext.example>', 'future-default', 'default', 'never']);
  const bobArmored = gpg.ok(['--export', '--armor', 'bob@ext.example']).stdout.toString('utf8');
  const carolBinary = gpg.ok(['--export', 'carol@ext.example']).stdout;
  const [bob] = await readPublicKeys(bobArmored);
  const [carol] = await readPublicKeys(new Uint8Array(carolBinary));

  const file = path.join(root, 'bob.asc');
  fs.writeFileSync(file, bobArmored);
  const fromFile = await sealpost(['keys', 'import', file, '--data-dir', dataDir]);
  t.is(fromFile.code, 0, fromFile.stderr);
  t.regex(fromFile.stdout, new RegExp(`^bob@ext\\.example  ${bob?.fingerprint}$`, 'm'));
  const fromStdin = await sealpost(['keys', 'import', '-', '--data-dir', dataDir], new Uint8Array(carolBinary));
  t.is(fromStdin.code, 0, fromStdin.stderr);
  t.regex(fromStdin.stdout, new RegExp(`^carol@ext\\.example  ${carol?.fingerprint}$`, 'm'));

  const list = await sealpost(['keys', 'list', '--data-dir', dataDir]);
  t.is(list.code, 0);
  const lines = list.stdout.trim().split('\n');
  t.is(lines.length, 3);
  t.regex(lines[0] ?? '', /^account\s+alice@example\.org /);
  t.true(lines.some((l) => /^imported\s+bob@ext\.example /.test(l) && l.includes(bob?.fingerprint ?? '-')));
  t.true(lines.some((l) => /^imported\s+carol@ext\.example /.test(l) && l.includes(carol?.fingerprint ?? '-')));

  const exported = await sealpost(['keys', 'export', '--address', 'bob@ext.example', '--data-dir', dataDir]);
  t.is(exported.code, 0);
  t.is((await readPublicKeys(exported.stdout))[0]?.fingerprint, bob?.fingerprint);
});

test('keys: bad input fails with one line and exit 1; usage mistakes exit 2', async (t) => {
  const { root, dataDir } = await initialised(t);
  const garbage = path.join(root, 'garbage.asc');
  fs.writeFileSync(garbage, 'this is not a key\n');
  const alicePublic = (await sealpost(['keys', 'export', '--data-dir', dataDir, '--address', 'alice@example.org'])).stdout;
  const failures: Array<[string[], string | undefined, RegExp]> = [
    [['keys', 'import', garbage], undefined, /garbage\.asc: .*key/],
    [['keys', 'import', '-'], 'nothing', /standard input: /],
    [['keys', 'import', path.join(root, 'missing.asc')], undefined, /cannot read .*ENOENT/],
    [['keys', 'import', '-'], alicePublic, /alice@example\.org is a local account/],
    [['keys', 'export', '--address', 'nobody@ext.example'], undefined, /no key for nobody@ext\.example/],
    [['keys', 'export', '--address', 'nobody@ext.example', '--secret'], undefined, /only the key of an account/],
  ];
  const runs = await Promise.all(failures.map(([args, input]) => sealpost([...args, '--data-dir', dataDir], input)));
  for (const [i, [args, , message]] of failures.entries()) {
    const run = runs[i]!;
    t.is(run.code, 1, args.join(' '));
    t.regex(run.stderr, message, args.join(' '));
    t.is(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
    t.false(run.stderr.includes('    at '), 'no stack trace');
  }
  const usage: string[][] = [['keys'], ['keys', 'frob'], ['keys', 'import'], ['keys', 'export'], ['keys', 'list', '--secret'], ['keys', 'list', 'extra'], ['keys', 'export', '--address', 'not an address']];
  const usageRuns = await Promise.all(usage.map((args) => sealpost([...args, '--data-dir', dataDir])));
  for (const [i, args] of usage.entries()) {
    const run = usageRuns[i]!;
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, /--help" for usage/);
  }
  const help = await sealpost(['keys', '--help']);
  t.is(help.code, 0);
  t.true(help.stdout.startsWith('Usage: sealpost keys'));
  t.regex((await sealpost(['--help'])).stdout, /keys\s+import, export or list OpenPGP keys/);
});
