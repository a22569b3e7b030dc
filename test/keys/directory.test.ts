// keys/directory.ts: account, imported and Autocrypt keys; precedence, the
// usability filter (expired, revoked, sign-only keys from real gpg), key id
// lookup, Autocrypt Level 1 §2.3 update rules, and the SQLite file itself.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { generateAccountKey, readPublicKeys, type AccountKey } from '../../src/crypto/pgp.ts';
import { autocryptHeader } from '../../src/keys/autocrypt.ts';
import { openKeyDirectory, type KeyDirectory } from '../../src/keys/directory.ts';
import { createMemoryMailStore } from '../../src/mailstore/memory.ts';
import type { MailStore } from '../../src/mailstore/types.ts';
import { gpgHome, type GpgHome } from '../helpers/gpg.ts';

// Key generation (S2K included) is the slow part: made once, shared.
const keys = (async () => ({
  local: await generateAccountKey({ name: 'Local', address: 'local@node.example', passphrase: 'p' }),
  bob: await generateAccountKey({ name: 'Bob', address: 'bob@ext.example', passphrase: 'p' }),
  bob2: await generateAccountKey({ name: 'Bob', address: 'bob@ext.example', passphrase: 'p' }),
  carol: await generateAccountKey({ name: 'Carol', address: 'carol@ext.example', passphrase: 'p' }),
  carol2: await generateAccountKey({ name: 'Carol', address: 'carol@ext.example', passphrase: 'p' }),
}))();

interface Fixture {
  dir: string;
  file: string;
  store: MailStore;
  directory: KeyDirectory;
  local: AccountKey;
}

async function fixture(t: { teardown(fn: () => void): void }): Promise<Fixture> {
  const { local } = await keys;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-keys-'));
  const file = path.join(dir, 'keys.db');
  const store = createMemoryMailStore();
  await store.createAccount({ address: 'local@node.example', name: 'Local', passwordHash: 'unused', ...local });
  const directory = openKeyDirectory({ path: file, store });
  t.teardown(() => {
    directory.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, file, store, directory, local };
}

function gpgKey(gpg: GpgHome, uid: string, args: string[], extra: string[] = []): string {
  gpg.ok([...extra, '--passphrase', '', '--quick-gen-key', uid, ...args]);
  return gpg.ok(['--armor', '--export', uid]).stdout.toString('utf8');
}

test('account keys come from the store and win; NotAllowed to import a key for a local address', async (t) => {
  const { directory, local } = await fixture(t);
  const found = await directory.lookup('Local@Node.Example');
  t.is(found?.source, 'account');
  t.is(found?.fingerprint, local.fingerprint);
  t.is(found?.armored, local.publicKey);
  t.is(found?.address, 'local@node.example');
  await t.throwsAsync(directory.importKeys(local.publicKey), { code: 'NOT_ALLOWED', name: 'NotAllowedError' });
  t.is(await directory.lookup('nobody@ext.example'), null);
  await t.throwsAsync(directory.lookup('not an address'), { code: 'INVALID' });
});

test('import: one entry per address per key, re-import replaces, remove; persisted in the SQLite file', async (t) => {
  const { directory, file, store } = await fixture(t);
  const { bob, carol } = await keys;
  const imported = await directory.importKeys(`${bob.publicKey}\n${carol.publicKey}`);
  t.deepEqual(
    imported.map((k) => [k.address, k.fingerprint, k.source]),
    [
      ['bob@ext.example', bob.fingerprint, 'imported'],
      ['carol@ext.example', carol.fingerprint, 'imported'],
    ],
  );
  const first = await directory.lookup('bob@ext.example');
  t.is(first?.fingerprint, bob.fingerprint);
  t.is(first?.source, 'imported');
  const again = await directory.importKeys(bob.publicKey);
  t.is(again[0]?.addedAt.getTime(), first?.addedAt.getTime(), 're-import keeps the first addedAt');
  t.deepEqual(
    (await directory.list()).map((k) => `${k.source}:${k.address}`),
    ['account:local@node.example', 'imported:bob@ext.example', 'imported:carol@ext.example'],
  );
  t.is(await directory.remove('carol@ext.example'), 1);
  t.is(await directory.lookup('carol@ext.example'), null);
  t.is(await directory.remove('carol@ext.example'), 0);

  directory.close();
  const reopened = openKeyDirectory({ path: file, store });
  t.teardown(() => reopened.close());
  t.is((await reopened.lookup('bob@ext.example'))?.fingerprint, bob.fingerprint);
  const db = new DatabaseSync(file, { readOnly: true });
  t.teardown(() => db.close());
  t.is((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 1);
  t.is((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
});

test('import refuses private keys, keys without an address and unreadable input', async (t) => {
  const { directory } = await fixture(t);
  const { bob } = await keys;
  const privateKey = await t.throwsAsync(directory.importKeys(bob.privateKey), { code: 'INVALID' });
  t.is((privateKey as { field?: string } | undefined)?.field, 'key');
  await t.throwsAsync(directory.importKeys('garbage'), { code: 'PGP_BAD_KEY' });
  const gpg = gpgHome(t);
  const noAddress = gpgKey(gpg, 'Just A Name', ['ed25519', 'default', 'never']);
  await t.throwsAsync(directory.importKeys(noAddress), { code: 'INVALID' });
  t.deepEqual(await directory.list().then((all) => all.filter((k) => k.source !== 'account')), []);
});

test('lookup never returns expired, revoked or sign-only keys (made by gpg); findByKeyId still does', async (t) => {
  const { directory } = await fixture(t);
  const gpg = gpgHome(t);
  const signOnly = gpgKey(gpg, 'Signer <signer@ext.example>', ['ed25519', 'sign', 'never']);
  // Made in 2020 with a one-year lifetime.
  const expired = gpgKey(gpg, 'Old <old@ext.example>', ['future-default', 'default', '1y'], ['--faked-system-time', '20200101T000000!']);
  const good = gpgKey(gpg, 'Revoked <revoked@ext.example>', ['future-default', 'default', 'never']);
  const [goodInfo] = await readPublicKeys(good);
  if (goodInfo === undefined) return t.fail();

  const imported = await directory.importKeys(`${signOnly}\n${expired}\n${good}`);
  t.is(imported.length, 3);
  t.is(await directory.lookup('signer@ext.example'), null, 'no encryption subkey');
  t.is(await directory.lookup('old@ext.example'), null, 'expired');
  t.is((await directory.lookup('revoked@ext.example'))?.fingerprint, goodInfo.fingerprint);

  // gpg wrote a revocation certificate at key creation; applied and re-imported, the key is no longer used.
  const certificate = fs.readFileSync(path.join(gpg.dir, 'openpgp-revocs.d', `${goodInfo.fingerprint}.rev`), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
  gpg.ok(['--import'], certificate);
  const revoked = gpg.ok(['--armor', '--export', goodInfo.fingerprint]).stdout.toString('utf8');
  t.true((await readPublicKeys(revoked))[0]?.revoked);
  await directory.importKeys(revoked);
  t.is(await directory.lookup('revoked@ext.example'), null, 'revoked');

  // Signature checking still finds them, by primary or subkey id.
  for (const keyId of goodInfo.keyIds) t.is((await directory.findByKeyId(keyId))?.fingerprint, goodInfo.fingerprint);
  t.is((await directory.findByKeyId(goodInfo.keyIds[0]!.toLowerCase()))?.address, 'revoked@ext.example');
});

test('findByKeyId: account keys (primary and subkey ids), unknown ids, bad input', async (t) => {
  const { directory, store, local } = await fixture(t);
  const [info] = await readPublicKeys(local.publicKey);
  for (const keyId of info?.keyIds ?? []) {
    const found = await directory.findByKeyId(keyId);
    t.is(found?.source, 'account');
    t.is(found?.fingerprint, local.fingerprint);
  }
  t.is(await directory.findByKeyId('0123456789ABCDEF'), null);
  await t.throwsAsync(directory.findByKeyId('xyz'), { code: 'INVALID' });
  // An account created after the directory opened is found too.
  const { carol } = await keys;
  await store.createAccount({ address: 'carol@ext.example', name: 'Carol', passwordHash: 'unused', ...carol });
  const [carolInfo] = await readPublicKeys(carol.publicKey);
  t.is((await directory.findByKeyId(carolInfo!.keyIds[1]!))?.address, 'carol@ext.example');
});

test('Autocrypt §2.3: addr must be From, newer headers only, never over imported or account keys', async (t) => {
  const { directory, local } = await fixture(t);
  const { bob, bob2, carol, carol2 } = await keys;
  const jan = new Date('2026-01-01T00:00:00Z');
  const feb = new Date('2026-02-01T00:00:00Z');
  const header = (address: string, key: AccountKey) => autocryptHeader(address, key.publicKey);

  t.is(await directory.learnAutocrypt({ from: 'mallory@ext.example', header: header('carol@ext.example', carol), date: jan }), null, 'addr is not From');
  t.is(await directory.learnAutocrypt({ from: 'local@node.example', header: header('local@node.example', carol), date: jan }), null, 'local account');
  t.is((await directory.lookup('local@node.example'))?.fingerprint, local.fingerprint);

  const learnt = await directory.learnAutocrypt({ from: 'Carol@Ext.Example', header: header('carol@ext.example', carol), date: feb });
  t.is(learnt?.source, 'autocrypt');
  t.is((await directory.lookup('carol@ext.example'))?.fingerprint, carol.fingerprint);
  t.is(await directory.learnAutocrypt({ from: 'carol@ext.example', header: header('carol@ext.example', carol2), date: jan }), null, 'older header');
  t.is(await directory.learnAutocrypt({ from: 'carol@ext.example', header: header('carol@ext.example', carol2), date: feb }), null, 'same date');
  const newer = await directory.learnAutocrypt({ from: 'carol@ext.example', header: header('carol@ext.example', carol2), date: new Date('2026-03-01T00:00:00Z') });
  t.is(newer?.fingerprint, carol2.fingerprint);
  t.is((await directory.lookup('carol@ext.example'))?.fingerprint, carol2.fingerprint, 'a newer key replaces the learnt one');
  t.is((await directory.list()).filter((k) => k.address === 'carol@ext.example').length, 1);

  await directory.importKeys(bob.publicKey);
  t.is(await directory.learnAutocrypt({ from: 'bob@ext.example', header: header('bob@ext.example', bob2), date: new Date() }), null, 'imported key stays');
  t.is((await directory.lookup('bob@ext.example'))?.fingerprint, bob.fingerprint);

  // Importing over a learnt key makes it imported: Autocrypt can no longer change it.
  await directory.importKeys(carol.publicKey);
  t.is((await directory.lookup('carol@ext.example'))?.source, 'imported');
  t.is(await directory.learnAutocrypt({ from: 'carol@ext.example', header: header('carol@ext.example', carol2), date: new Date() }), null);
  t.is((await directory.lookup('carol@ext.example'))?.fingerprint, carol.fingerprint);

  await t.throwsAsync(directory.learnAutocrypt({ from: 'dave@ext.example', header: 'addr=dave@ext.example; critical=1; keydata=AAAA', date: jan }), { code: 'INVALID' });
  await t.throwsAsync(directory.learnAutocrypt({ from: 'dave@ext.example', header: 'addr=dave@ext.example; keydata=AAAA', date: jan }), { code: 'PGP_BAD_KEY' });
  t.is(await directory.lookup('dave@ext.example'), null);
});

test('Autocrypt: a Date in the future counts as now; a sign-only key is not learnt', async (t) => {
  const { directory } = await fixture(t);
  const { bob, bob2 } = await keys;
  const future = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  t.truthy(await directory.learnAutocrypt({ from: 'bob@ext.example', header: autocryptHeader('bob@ext.example', bob.publicKey), date: future }));
  // Had the future date been kept, this header (sent now) would look older.
  t.truthy(await directory.learnAutocrypt({ from: 'bob@ext.example', header: autocryptHeader('bob@ext.example', bob2.publicKey), date: new Date(Date.now() + 1000) }));
  t.is((await directory.lookup('bob@ext.example'))?.fingerprint, bob2.fingerprint);

  const gpg = gpgHome(t);
  const signOnly = gpgKey(gpg, 'Signer <signer@ext.example>', ['ed25519', 'sign', 'never']);
  t.is(await directory.learnAutocrypt({ from: 'signer@ext.example', header: autocryptHeader('signer@ext.example', signOnly), date: new Date() }), null);
});
