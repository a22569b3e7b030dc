// crypto/pgp.ts message operations: RFC 4880 encrypt+sign / decrypt+verify,
// the signature statuses, damaged or foreign messages, and interop with the
// real GnuPG 2.2 binary in both directions.
import test from 'ava';
import * as openpgp from 'openpgp';
import {
  armorMessage,
  decryptMessage,
  encryptMessage,
  generateAccountKey,
  readPublicKeys,
  unlockPrivateKey,
  type AccountKey,
  type UnlockedKey,
} from '../../src/crypto/pgp.ts';
import { gpgHome } from '../helpers/gpg.ts';

interface Party {
  key: AccountKey;
  unlocked: UnlockedKey;
  passphrase: string;
}

async function party(address: string): Promise<Party> {
  const passphrase = `pass-${address}`;
  const key = await generateAccountKey({ name: '', address, passphrase });
  return { key, passphrase, unlocked: await unlockPrivateKey(key.privateKey, passphrase) };
}

// Shared by the tests: key generation and unlocking (S2K) is the slow part.
const parties = (async () => ({ alice: await party('alice@example.org'), bob: await party('bob@example.org'), carol: await party('carol@example.org') }))();

/** A directory lookup that knows the given parties' public keys by key id. */
function finder(...known: Party[]): (keyId: string) => Promise<string | null> {
  return async (keyId) => known.find((p) => p.unlocked.keyIds.includes(keyId))?.key.publicKey ?? null;
}

const ALL_BYTES = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) % 256);

test('round trip: every recipient decrypts, signature valid, bytes unchanged', async (t) => {
  const { alice, bob, carol } = await parties;
  const ciphertext = await encryptMessage({ data: ALL_BYTES, encryptionKeys: [bob.key.publicKey, carol.key.publicKey], signingKey: alice.unlocked });
  for (const reader of [bob, carol]) {
    const plain = await decryptMessage({ data: ciphertext, decryptionKey: reader.unlocked, findVerificationKey: finder(alice) });
    t.deepEqual(plain.data, ALL_BYTES);
    t.is(plain.signature.status, 'valid');
    t.is(plain.signature.fingerprint, alice.key.fingerprint);
    t.true(alice.unlocked.keyIds.includes(plain.signature.keyId ?? ''));
  }
  // The armored form decrypts too (PGP/MIME bodies carry it).
  const armored = await armorMessage(ciphertext);
  t.true(armored.startsWith('-----BEGIN PGP MESSAGE-----'));
  const again = await decryptMessage({ data: new TextEncoder().encode(armored), decryptionKey: bob.unlocked, findVerificationKey: finder(alice) });
  t.deepEqual(again.data, ALL_BYTES);
});

test('a message sealed with only a session key (expiring mail) has no key packet: the session key opens it, no private key does', async (t) => {
  const { alice, bob } = await parties;
  const sessionKey = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const ciphertext = await encryptMessage({ data: ALL_BYTES, encryptionKeys: [], signingKey: alice.unlocked, sessionKey });
  t.deepEqual(sessionKey, Uint8Array.from({ length: 32 }, (_, i) => i + 1), "the caller's key is left as it was");
  const packets = [...(await openpgp.readMessage({ binaryMessage: ciphertext })).packets].map((p) => (p.constructor as unknown as { tag: number }).tag);
  t.deepEqual(packets, [openpgp.enums.packet.symEncryptedIntegrityProtectedData], 'only the encrypted data: no PKESK for anyone');
  const plain = await decryptMessage({ data: ciphertext, sessionKey, findVerificationKey: finder(alice) });
  t.deepEqual(plain.data, ALL_BYTES);
  t.is(plain.signature.status, 'valid');
  const wrong = sessionKey.map((b) => b ^ 1);
  t.is((await t.throwsAsync(decryptMessage({ data: ciphertext, sessionKey: wrong, findVerificationKey: finder(alice) })) as { code?: string }).code, 'PGP_DECRYPT_FAILED');
  t.is((await t.throwsAsync(decryptMessage({ data: ciphertext, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) })) as { code?: string }).code, 'PGP_DECRYPT_FAILED');
  await t.throwsAsync(encryptMessage({ data: ALL_BYTES, encryptionKeys: [], sessionKey: new Uint8Array(16) }), { instanceOf: TypeError });
});

test('UnlockedKey carries no secret when serialised', async (t) => {
  const { alice } = await parties;
  t.deepEqual(Object.keys(alice.unlocked).sort(), ['fingerprint', 'keyIds']);
  const json = JSON.stringify(alice.unlocked);
  t.false(json.includes('PRIVATE'));
  t.is(alice.unlocked.fingerprint, alice.key.fingerprint);
  t.is(alice.unlocked.keyIds.length, 2);
  for (const id of alice.unlocked.keyIds) t.regex(id, /^[0-9A-F]{16}$/);
});

test('signature statuses: unknown-key when not found or looked up under the wrong key, unsigned without signer', async (t) => {
  const { alice, bob, carol } = await parties;
  const signed = await encryptMessage({ data: ALL_BYTES, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  const asked: string[] = [];
  const notFound = await decryptMessage({
    data: signed,
    decryptionKey: bob.unlocked,
    findVerificationKey: async (keyId) => {
      asked.push(keyId);
      return null;
    },
  });
  t.deepEqual(notFound.data, ALL_BYTES, 'data is still returned');
  t.is(notFound.signature.status, 'unknown-key');
  t.true(alice.unlocked.keyIds.includes(notFound.signature.keyId ?? ''));
  t.deepEqual(asked, [notFound.signature.keyId]);

  const wrongKey = await decryptMessage({ data: signed, decryptionKey: bob.unlocked, findVerificationKey: async () => carol.key.publicKey });
  t.true(wrongKey.signature.status === 'unknown-key' || wrongKey.signature.status === 'invalid');
  t.not(wrongKey.signature.status, 'valid');

  const garbage = await decryptMessage({ data: signed, decryptionKey: bob.unlocked, findVerificationKey: async () => 'not a key' });
  t.is(garbage.signature.status, 'unknown-key');

  const unsigned = await encryptMessage({ data: ALL_BYTES, encryptionKeys: [bob.key.publicKey] });
  const plain = await decryptMessage({ data: unsigned, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) });
  t.is(plain.signature.status, 'unsigned');
  t.deepEqual(plain.data, ALL_BYTES);
});

test('signature status invalid: a signature over other data, by a key that is found', async (t) => {
  const { alice, bob } = await parties;
  // Built with OpenPGP.js directly: Alice's signature over one text attached
  // to another text, then encrypted to Bob.
  const privateKey = await openpgp.decryptKey({ privateKey: await openpgp.readPrivateKey({ armoredKey: alice.key.privateKey }), passphrase: alice.passphrase });
  const signature = await openpgp.sign({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode('pay 10 to bob') }),
    signingKeys: privateKey,
    detached: true,
    format: 'binary',
  });
  const other = await openpgp.createMessage({ binary: new TextEncoder().encode('pay 99 to eve') });
  // RFC 4880 §11.3: Signed Message :- Signature Packet, OpenPGP Message
  const packets = new openpgp.PacketList<openpgp.AnyPacket>();
  packets.push(...(await openpgp.readSignature({ binarySignature: signature })).packets, ...other.packets);
  const swapped = new openpgp.Message(packets);
  const ciphertext = await openpgp.encrypt({ message: swapped, encryptionKeys: await openpgp.readKey({ armoredKey: bob.key.publicKey }), format: 'binary' });
  const plain = await decryptMessage({ data: ciphertext, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) });
  t.is(new TextDecoder().decode(plain.data), 'pay 99 to eve');
  t.is(plain.signature.status, 'invalid');
  t.is(plain.signature.fingerprint, alice.key.fingerprint);
});

test('not encrypted to this key, or damaged: PGP_DECRYPT_FAILED', async (t) => {
  const { alice, bob, carol } = await parties;
  const ciphertext = await encryptMessage({ data: ALL_BYTES, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  await t.throwsAsync(decryptMessage({ data: ciphertext, decryptionKey: carol.unlocked, findVerificationKey: finder(alice) }), { code: 'PGP_DECRYPT_FAILED', name: 'PgpError' });
  // Flip one byte in the encrypted payload, then one in the MDC at the end, then truncate.
  for (const offset of [Math.floor(ciphertext.length / 2), ciphertext.length - 5]) {
    const damaged = ciphertext.slice();
    damaged[offset] = damaged[offset]! ^ 0x01;
    await t.throwsAsync(decryptMessage({ data: damaged, decryptionKey: bob.unlocked, findVerificationKey: finder(alice) }), { code: 'PGP_DECRYPT_FAILED' }, `offset ${offset}`);
  }
  await t.throwsAsync(decryptMessage({ data: ciphertext.subarray(0, ciphertext.length - 30), decryptionKey: bob.unlocked, findVerificationKey: finder(alice) }), { code: 'PGP_DECRYPT_FAILED' });
  await t.throwsAsync(decryptMessage({ data: new TextEncoder().encode('hello'), decryptionKey: bob.unlocked, findVerificationKey: finder(alice) }), { code: 'PGP_DECRYPT_FAILED' });
});

test('wrong passphrase: AUTH_FAILED; a public or unprotected key cannot be unlocked', async (t) => {
  const { alice } = await parties;
  await t.throwsAsync(unlockPrivateKey(alice.key.privateKey, 'not-the-passphrase'), { code: 'AUTH_FAILED' });
  await t.throwsAsync(unlockPrivateKey(alice.key.publicKey, alice.passphrase), { code: 'PGP_BAD_KEY' });
  // A key without passphrase protection would open with any password: refused.
  const { privateKey: unprotected } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'x@example.org' }], format: 'armored' });
  await t.throwsAsync(unlockPrivateKey(unprotected, 'anything'), { code: 'PGP_BAD_KEY' });
});

test('encryptMessage refuses unusable keys with PGP_BAD_KEY naming the key', async (t) => {
  const { alice, bob } = await parties;
  await t.throwsAsync(encryptMessage({ data: ALL_BYTES, encryptionKeys: [bob.key.publicKey, 'garbage'] }), { code: 'PGP_BAD_KEY' });
  await t.throwsAsync(encryptMessage({ data: ALL_BYTES, encryptionKeys: [] }), { code: 'PGP_BAD_KEY' });
  // A sign-only key made by gpg: no encryption subkey.
  const gpg = gpgHome(t);
  gpg.ok(['--passphrase', '', '--quick-gen-key', 'Signer <signer@ext.example>', 'ed25519', 'sign', 'never']);
  const signOnly = gpg.ok(['--armor', '--export', 'signer@ext.example']).stdout.toString('utf8');
  const [info] = await readPublicKeys(signOnly);
  t.false(info?.canEncrypt);
  const error = await t.throwsAsync(encryptMessage({ data: ALL_BYTES, encryptionKeys: [bob.key.publicKey, signOnly], signingKey: alice.unlocked }), { code: 'PGP_BAD_KEY' });
  t.is((error as { fingerprint?: string } | undefined)?.fingerprint, info?.fingerprint);
});

test('readPublicKeys: private key gives its public part; several blocks; binary input', async (t) => {
  const { alice, bob } = await parties;
  const [fromPrivate] = await readPublicKeys(alice.key.privateKey);
  t.is(fromPrivate?.fingerprint, alice.key.fingerprint);
  t.deepEqual(fromPrivate?.addresses, ['alice@example.org']);
  t.false(fromPrivate?.armored.includes('PRIVATE'));
  t.true(fromPrivate?.canEncrypt);
  t.false(fromPrivate?.expired);
  t.false(fromPrivate?.revoked);
  t.deepEqual(fromPrivate?.keyIds, [...alice.unlocked.keyIds]);
  const both = await readPublicKeys(`${alice.key.publicKey}\n${bob.key.publicKey}`);
  t.deepEqual(
    both.map((k) => k.fingerprint),
    [alice.key.fingerprint, bob.key.fingerprint],
  );
  const binary = (await openpgp.readKey({ armoredKey: bob.key.publicKey })).write();
  t.is((await readPublicKeys(binary))[0]?.fingerprint, bob.key.fingerprint);
  await t.throwsAsync(readPublicKeys('no key here'), { code: 'PGP_BAD_KEY' });
  await t.throwsAsync(readPublicKeys(new Uint8Array([1, 2, 3])), { code: 'PGP_BAD_KEY' });
});

test('GnuPG 2.2 decrypts our message and reports a good signature; we read what gpg encrypts and signs', async (t) => {
  const { alice, bob } = await parties;
  const gpg = gpgHome(t);
  // Bob's secret key as stored (passphrase-protected), Alice's public key.
  gpg.ok(['--import'], bob.key.privateKey);
  const ciphertext = await encryptMessage({ data: ALL_BYTES, encryptionKeys: [bob.key.publicKey], signingKey: alice.unlocked });
  // gpg exits 2 when it cannot check the signature, but still writes the plaintext.
  const unknownSigner = gpg.run(['--pinentry-mode', 'loopback', '--passphrase', bob.passphrase, '--decrypt'], ciphertext);
  t.deepEqual(new Uint8Array(unknownSigner.stdout), ALL_BYTES);
  t.regex(unknownSigner.status, /NO_PUBKEY|ERRSIG/);
  t.regex(unknownSigner.status, /DECRYPTION_OKAY/);
  t.regex(unknownSigner.status, /GOODMDC/);

  gpg.ok(['--import'], alice.key.publicKey);
  const decrypted = gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', bob.passphrase, '--decrypt'], ciphertext);
  t.deepEqual(new Uint8Array(decrypted.stdout), ALL_BYTES);
  t.regex(decrypted.status, /\[GNUPG:\] GOODSIG /);
  const validsig = decrypted.status.split('\n').find((line) => line.startsWith('[GNUPG:] VALIDSIG '));
  t.is(validsig?.trim().split(' ').at(-1), alice.key.fingerprint, 'VALIDSIG names the primary key');
  t.regex(decrypted.status, /DECRYPTION_INFO \d+ 9/, 'AES-256 (algo 9)');

  // The other way: gpg signs with Alice's key (imported with her passphrase) and encrypts to Bob's.
  const sender = gpgHome(t);
  sender.ok(['--import'], alice.key.privateKey);
  sender.ok(['--import'], bob.key.publicKey);
  const fromGpg = sender.ok(
    ['--pinentry-mode', 'loopback', '--passphrase', alice.passphrase, '--trust-model', 'always', '--local-user', alice.key.fingerprint, '--recipient', bob.key.fingerprint, '--sign', '--encrypt'],
    ALL_BYTES,
  ).stdout;
  const plain = await decryptMessage({ data: new Uint8Array(fromGpg), decryptionKey: bob.unlocked, findVerificationKey: finder(alice) });
  t.deepEqual(plain.data, ALL_BYTES);
  t.is(plain.signature.status, 'valid');
  t.is(plain.signature.fingerprint, alice.key.fingerprint);

  // gpg's armored output, signed by a key we do not know.
  const armored = sender.ok(['--pinentry-mode', 'loopback', '--passphrase', alice.passphrase, '--trust-model', 'always', '--local-user', alice.key.fingerprint, '--recipient', bob.key.fingerprint, '--armor', '--sign', '--encrypt'], ALL_BYTES).stdout;
  const unknown = await decryptMessage({ data: new Uint8Array(armored), decryptionKey: bob.unlocked, findVerificationKey: async () => null });
  t.deepEqual(unknown.data, ALL_BYTES);
  t.is(unknown.signature.status, 'unknown-key');
});
