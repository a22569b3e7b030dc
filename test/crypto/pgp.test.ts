// crypto/pgp.ts: account keys are GnuPG 2.2 compatible and protected by the
// account password (checked with the real gpg binary).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { changeKeyPassphrase, checkKeyPassphrase, generateAccountKey } from '../../src/crypto/pgp.ts';

function gpg(home: string, args: string[], input?: string): string {
  return execFileSync('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

test('generated key: encrypted private key, gpg imports it and signs only with the password', async (t) => {
  const key = await generateAccountKey({ name: 'Alice Example', address: 'alice@example.org', passphrase: 'first-password' });
  t.regex(key.fingerprint, /^[0-9A-F]{40}$/);
  t.true(key.privateKey.includes('BEGIN PGP PRIVATE KEY BLOCK'));
  t.true(await checkKeyPassphrase(key.privateKey, 'first-password'));
  t.false(await checkKeyPassphrase(key.privateKey, 'wrong-password'));

  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-gpg-'));
  fs.chmodSync(home, 0o700);
  t.teardown(() => {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
    } catch {
      // no agent was started
    }
    fs.rmSync(home, { recursive: true, force: true });
  });
  gpg(home, ['--import'], key.privateKey);
  const listing = gpg(home, ['--with-colons', '--list-secret-keys']);
  t.true(listing.includes(key.fingerprint), 'gpg lists the secret key');
  t.true(listing.includes('alice@example.org'));
  t.regex(listing, /ed25519/);

  // Wrong passphrase first: gpg-agent caches a passphrase once it has worked.
  t.throws(() => gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', 'not-it', '--local-user', key.fingerprint, '--armor', '--sign'], 'hello'));
  const signed = gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', 'first-password', '--local-user', key.fingerprint, '--armor', '--sign'], 'hello');
  t.true(signed.includes('BEGIN PGP MESSAGE'));
});

test('changeKeyPassphrase re-encrypts the key, and refuses a wrong old passphrase', async (t) => {
  const key = await generateAccountKey({ name: '', address: 'bob@example.org', passphrase: 'old-password' });
  const changed = await changeKeyPassphrase(key.privateKey, 'old-password', 'new-password');
  t.true(await checkKeyPassphrase(changed, 'new-password'));
  t.false(await checkKeyPassphrase(changed, 'old-password'));
  await t.throwsAsync(changeKeyPassphrase(key.privateKey, 'nope', 'x'), { code: 'AUTH_FAILED' });
});
