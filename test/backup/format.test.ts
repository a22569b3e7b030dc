// backup/format.ts: the key backup file (RFC 4880 SKESK v4 + SEIPD v1,
// iterated+salted S2K) — round trips, a wrong passphrase told apart from an
// altered file, strict validation naming the field, newer versions refused,
// interop with the real GnuPG 2.2 in both directions, generated passphrases.
import { generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import * as openpgp from 'openpgp';
import { BackupCorruptError } from '../../src/backup/errors.ts';
import {
  generateBackupPassphrase,
  normalizeBackupPassphrase,
  protectKeyForBackup,
  readBackup,
  writeBackup,
  type BackupContents,
} from '../../src/backup/format.ts';
import { checkKeyPassphrase, encryptMessage, generateAccountKey, type AccountKey } from '../../src/crypto/pgp.ts';
import { gpgHome } from '../helpers/gpg.ts';

const CLIENT_PASSWORD = 'client password 1';
const PASSPHRASE = generateBackupPassphrase();

// Key generation and S2K are the slow part: one account (and a stranger) for the whole file.
const fixture = (async () => {
  const alice = await generateAccountKey({ name: 'Alice', address: 'alice@example.org', passphrase: CLIENT_PASSWORD });
  const bob = await generateAccountKey({ name: '', address: 'bob@example.org', passphrase: CLIENT_PASSWORD });
  const protectedKey = await protectKeyForBackup(alice.privateKey, CLIENT_PASSWORD, PASSPHRASE);
  return { alice, bob, protectedKey };
})();

const pem = (type: 'ed25519' | 'x25519'): string => generateKeyPairSync(type as 'ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const NODE = { nodeKeyPem: pem('ed25519'), x25519Pem: pem('x25519') };
const PEER = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzh6NMEK3E7wmJfoR7nW2gYYB4G2wRZrYm1fxvPtTcbU';

function contents(alice: AccountKey, protectedKey: string): BackupContents {
  return {
    version: 1,
    createdAt: 1_700_000_000_000,
    account: { address: 'alice@example.org', name: 'Alice', fingerprint: alice.fingerprint, publicKey: alice.publicKey, privateKey: protectedKey },
    node: NODE,
    ledger: {
      backend: 'evm',
      evm: { rpcUrl: 'http://127.0.0.1:8545', contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3', privateKeyHex: `0x${'ab'.repeat(32)}`, chainId: 31337 },
    },
    network: {
      enabled: true,
      registry: { backend: 'evm', path: '', evm: { rpcUrl: 'http://127.0.0.1:8545', contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512', privateKeyFile: '/x/registry.key' } },
      custody: { n: 5, t: 3 },
      registryPrivateKeyHex: `0x${'cd'.repeat(32)}`,
    },
    storage: { peers: [PEER] },
  };
}

/** Encrypts any JSON text the way a backup is (low S2K count: only speed differs), to feed the reader what writeBackup never would. */
async function sealText(text: string, passphrase = PASSPHRASE): Promise<string> {
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(text), format: 'binary' });
  const binary = await openpgp.encrypt({
    message,
    passwords: [passphrase],
    format: 'binary',
    config: { aeadProtect: false, s2kIterationCountByte: 0, preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed },
  });
  return openpgp.armor(openpgp.enums.armor.message, binary, undefined, undefined, undefined, true);
}

async function binaryOf(armored: string): Promise<Uint8Array> {
  const { data } = await openpgp.unarmor(armored);
  return data as Uint8Array;
}

test('round trip: what is written reads back equal, from text or bytes; the armor names the account', async (t) => {
  const { alice, protectedKey } = await fixture;
  const input = contents(alice, protectedKey);
  const armored = await writeBackup(input, PASSPHRASE);
  t.true(armored.startsWith('-----BEGIN PGP MESSAGE-----\nComment: Sealpost key backup of alice@example.org - keep this file and its passphrase safe\n'));
  t.regex(armored, /^=[A-Za-z0-9+/]{4}$/m, 'CRC-24 line for GnuPG 2.2');
  t.deepEqual(await readBackup(armored, PASSPHRASE), input);
  t.deepEqual(await readBackup(new TextEncoder().encode(armored), PASSPHRASE), input);
  t.deepEqual(await readBackup(await binaryOf(armored), PASSPHRASE), input);
});

test('the smallest backup: local ledger, no node identity, no peers, no optional fields', async (t) => {
  const { alice, protectedKey } = await fixture;
  const input: BackupContents = {
    ...contents(alice, protectedKey),
    node: null,
    ledger: { backend: 'local' },
    network: { enabled: false, registry: { backend: 'local', path: '' } },
    storage: { peers: [] },
  };
  t.deepEqual(await readBackup(await writeBackup(input, PASSPHRASE), PASSPHRASE), input);
});

test('protectKeyForBackup: the key inside opens with the backup passphrase, not with the client password', async (t) => {
  const { alice, protectedKey } = await fixture;
  t.true(await checkKeyPassphrase(protectedKey, PASSPHRASE));
  t.false(await checkKeyPassphrase(protectedKey, CLIENT_PASSWORD));
  await t.throwsAsync(protectKeyForBackup(alice.privateKey, 'not the password', PASSPHRASE), { code: 'AUTH_FAILED' });
  await t.throwsAsync(protectKeyForBackup(alice.privateKey, CLIENT_PASSWORD, 'short'), { code: 'INVALID', name: 'ValidationError' });
});

test('a wrong passphrase is BACKUP_BAD_PASSPHRASE, every time', async (t) => {
  const { alice, protectedKey } = await fixture;
  const armored = await writeBackup(contents(alice, protectedKey), PASSPHRASE);
  for (const wrong of [generateBackupPassphrase(), PASSPHRASE.toUpperCase(), `${PASSPHRASE} `, '', CLIENT_PASSWORD]) {
    await t.throwsAsync(readBackup(armored, wrong), { code: 'BACKUP_BAD_PASSPHRASE', name: 'BackupPassphraseError' });
  }
});

test('an altered ciphertext is BACKUP_CORRUPT, not a wrong passphrase', async (t) => {
  const { alice, protectedKey } = await fixture;
  const binary = await binaryOf(await writeBackup(contents(alice, protectedKey), PASSPHRASE));
  for (const at of [binary.length - 30, Math.floor(binary.length / 2), binary.length - 1]) {
    const altered = new Uint8Array(binary);
    altered[at] = (altered[at] ?? 0) ^ 0x01;
    await t.throwsAsync(readBackup(altered, PASSPHRASE), { code: 'BACKUP_CORRUPT', name: 'BackupCorruptError' }, `octet ${at}`);
  }
  // Cut short: the framing no longer adds up.
  await t.throwsAsync(readBackup(binary.subarray(0, binary.length - 10), PASSPHRASE), { code: 'BACKUP_CORRUPT' });
});

test('what is not a backup is BACKUP_CORRUPT', async (t) => {
  const { alice } = await fixture;
  const notBackups: Array<string | Uint8Array> = [
    'hello',
    '',
    alice.publicKey,
    // a message to a key, not to a passphrase
    await encryptMessage({ data: new TextEncoder().encode('{}'), encryptionKeys: [alice.publicKey] }),
    crypto.getRandomValues(new Uint8Array(300)),
    'x'.repeat(2 * 1024 * 1024),
  ];
  for (const input of notBackups) await t.throwsAsync(readBackup(input, PASSPHRASE), { code: 'BACKUP_CORRUPT' });
  // Decrypts, but is not JSON.
  await t.throwsAsync(readBackup(await sealText('not json'), PASSPHRASE), { code: 'BACKUP_CORRUPT' });
});

test('a backup from a newer Sealpost is BACKUP_VERSION; an impossible version is BACKUP_CORRUPT', async (t) => {
  const { alice, protectedKey } = await fixture;
  const newer = await sealText(JSON.stringify({ ...contents(alice, protectedKey), version: 2, somethingNew: true }));
  const error = await t.throwsAsync(readBackup(newer, PASSPHRASE), { code: 'BACKUP_VERSION', name: 'BackupVersionError' });
  t.is((error as { version?: number } | undefined)?.version, 2);
  for (const version of [0, '1', 1.5, null]) {
    const sealed = await sealText(JSON.stringify({ ...contents(alice, protectedKey), version }));
    const e = await t.throwsAsync(readBackup(sealed, PASSPHRASE), { code: 'BACKUP_CORRUPT' });
    t.is((e as BackupCorruptError | undefined)?.field, 'version');
  }
});

// Each mutation of a valid backup, and the field the error must name.
type Mutation = [field: string, mutate: (c: Record<string, any>, keys: { bob: AccountKey; alice: AccountKey }) => void];
const MUTATIONS: Mutation[] = [
  ['createdAt', (c) => (c.createdAt = -1)],
  ['surprise', (c) => (c.surprise = 1)],
  ['account.address', (c) => (c.account.address = 'Alice@Example.org')],
  ['account.address', (c) => (c.account.address = 'not an address')],
  ['account.name', (c) => (c.account.name = 'Alice\nBcc: x')],
  ['account.fingerprint', (c) => (c.account.fingerprint = 'abc')],
  ['account.publicKey', (c, { bob }) => (c.account.publicKey = bob.publicKey)],
  ['account.publicKey', (c) => (c.account.publicKey = c.account.privateKey)],
  ['account.privateKey', (c, { alice }) => (c.account.privateKey = alice.privateKey)], // protected with the client password, not the backup passphrase
  ['account.privateKey', (c, { bob }) => (c.account.privateKey = bob.privateKey)],
  ['account.privateKey', (c) => delete c.account.privateKey],
  ['node.nodeKeyPem', (c) => (c.node.nodeKeyPem = c.node.x25519Pem)],
  ['node.x25519Pem', (c) => (c.node.x25519Pem = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')],
  ['node.nodeKeyPem', (c) => (c.node.nodeKeyPem = 'hello')],
  ['ledger.backend', (c) => (c.ledger.backend = 'sqlite')],
  ['ledger.evm', (c) => delete c.ledger.evm],
  ['ledger.evm.rpcUrl', (c) => (c.ledger.evm.rpcUrl = 'file:///etc/passwd')],
  ['ledger.evm.rpcUrl', (c) => (c.ledger.evm.rpcUrl = 'not a url')],
  ['ledger.evm.contract', (c) => (c.ledger.evm.contract = '0x1234')],
  ['ledger.evm.privateKeyHex', (c) => (c.ledger.evm.privateKeyHex = 'ab'.repeat(32))],
  ['ledger.evm.chainId', (c) => (c.ledger.evm.chainId = 0)],
  ['network.enabled', (c) => (c.network.enabled = 'yes')],
  ['network.registry', (c) => (c.network.registry = ['local'])],
  ['network.custody', (c) => (c.network.custody = 5)],
  ['network.registryPrivateKeyHex', (c) => (c.network.registryPrivateKeyHex = '0xzz')],
  ['storage.peers[1]', (c) => c.storage.peers.push('/ip4/8.8.8.8/tcp/4001/p2p/12D3KooWGzh6NMEK3E7wmJfoR7nW2gYYB4G2wRZrYm1fxvPtTcbU')],
  ['storage.peers', (c) => (c.storage.peers = 'none')],
];

test('validation on read: each bad field is BACKUP_CORRUPT naming that field', async (t) => {
  const { alice, bob, protectedKey } = await fixture;
  for (const [field, mutate] of MUTATIONS) {
    const c = structuredClone(contents(alice, protectedKey)) as Record<string, any>;
    mutate(c, { alice, bob });
    const error = await t.throwsAsync(readBackup(await sealText(JSON.stringify(c)), PASSPHRASE), { code: 'BACKUP_CORRUPT' }, field);
    t.is((error as BackupCorruptError | undefined)?.field, field);
  }
});

test('validation on write: each bad field is a ValidationError naming that field; nothing is written', async (t) => {
  const { alice, bob, protectedKey } = await fixture;
  for (const [field, mutate] of MUTATIONS) {
    const c = structuredClone(contents(alice, protectedKey)) as Record<string, any>;
    mutate(c, { alice, bob });
    const error = await t.throwsAsync(writeBackup(c as BackupContents, PASSPHRASE), { code: 'INVALID', name: 'ValidationError' }, field);
    t.is((error as { field?: string } | undefined)?.field, field);
  }
  for (const passphrase of ['short', 'twelve chars\nmore', 'x'.repeat(1025)]) {
    const error = await t.throwsAsync(writeBackup(contents(alice, protectedKey), passphrase), { code: 'INVALID' });
    t.is((error as { field?: string } | undefined)?.field, 'passphrase');
  }
});

test('GnuPG 2.2 opens a backup with the passphrase: SKESK v4, AES-256, iterated+salted SHA-256 at count 65011712, SEIPD v1 with MDC', async (t) => {
  const { alice, protectedKey } = await fixture;
  const input = contents(alice, protectedKey);
  const armored = await writeBackup(input, PASSPHRASE);
  const gpg = gpgHome(t);
  const opened = gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', PASSPHRASE, '--decrypt'], armored);
  t.deepEqual(JSON.parse(opened.stdout.toString('utf8')), input);
  t.regex(opened.status, /DECRYPTION_OKAY/);
  t.regex(opened.status, /GOODMDC/);
  const packets = gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', PASSPHRASE, '--list-packets'], armored).stdout.toString('utf8');
  t.regex(packets, /:symkey enc packet: version 4, cipher 9, aead 0,s2k 3, hash 8/);
  t.regex(packets, /count 65011712 \(255\)/);
  t.regex(packets, /:encrypted data packet:[\s\S]*mdc_method: 2/);
  // The canonical JSON inside: sorted keys, no white space.
  t.true(opened.stdout.toString('utf8').startsWith('{"account":{"address":"alice@example.org","fingerprint":'));
  t.not(gpg.run(['--pinentry-mode', 'loopback', '--passphrase', 'wrong passphrase', '--decrypt'], armored).code, 0);
});

test('a backup decrypted and re-encrypted by GnuPG (`gpg --symmetric`: old-format packets, compressed, no encrypted session key) still reads', async (t) => {
  const { alice, protectedKey } = await fixture;
  const input = contents(alice, protectedKey);
  const gpg = gpgHome(t);
  const json = gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', PASSPHRASE, '--decrypt'], await writeBackup(input, PASSPHRASE)).stdout;
  const again = gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', PASSPHRASE, '--symmetric', '--armor'], json).stdout.toString('utf8');
  t.deepEqual(await readBackup(again, PASSPHRASE), input);
  // Without an encrypted session key only the RFC 4880 quick check tells a wrong passphrase from an altered file.
  await t.throwsAsync(readBackup(again, generateBackupPassphrase()), { code: 'BACKUP_BAD_PASSPHRASE' });
});

test('generated passphrases: 6 groups of 5 Crockford base32 characters (150 bits), all distinct, every character used', (t) => {
  const seen = new Set<string>();
  const chars = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const passphrase = generateBackupPassphrase();
    t.regex(passphrase, /^[0-9a-hjkmnp-tv-z]{5}(?:-[0-9a-hjkmnp-tv-z]{5}){5}$/);
    seen.add(passphrase);
    for (const c of passphrase.replaceAll('-', '')) chars.add(c);
  }
  t.is(seen.size, 2000);
  t.is(chars.size, 32); // 32 symbols × 30 positions = 150 bits
});

test('normalizeBackupPassphrase: the generated shape typed loosely comes back exact; anything else is left alone', (t) => {
  const passphrase = generateBackupPassphrase();
  t.is(normalizeBackupPassphrase(passphrase), passphrase);
  t.is(normalizeBackupPassphrase(` ${passphrase.toUpperCase().replaceAll('-', ' ')} `), passphrase);
  t.is(normalizeBackupPassphrase(passphrase.replaceAll('-', '')), passphrase);
  t.is(normalizeBackupPassphrase('ABCDE-FGHIJ-KLMNO-PQRST-VWXYZ-01234'), 'abcde-fgh1j-k1mn0-pqrst-vwxyz-01234');
  for (const other of ['correct horse battery staple', 'Abcde-fghij', ' spaced passphrase ', 'uuuuu-uuuuu-uuuuu-uuuuu-uuuuu-uuuuu']) {
    t.is(normalizeBackupPassphrase(other), other);
  }
});
