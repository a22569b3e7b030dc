// ECIES sealing (custody/ecies.ts): RFC 7748 §6.1 X25519 vectors for the raw
// key helpers, the documented box layout opened by an independent
// implementation (@noble/curves + @noble/hashes), and every failure as
// CUSTODY_UNSEALABLE.
import { createDecipheriv, randomBytes } from 'node:crypto';
import test from 'ava';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  ECIES_INFO, generateX25519, openSealed, SEALED_OVERHEAD, sealTo, x25519PrivateKeyObject, x25519PublicKeyObject,
  x25519RawPublic, x25519Shared,
} from '../../src/custody/ecies.ts';
import { CustodyError } from '../../src/custody/errors.ts';

const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const RFC7748 = {
  alicePrivate: unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
  alicePublic: unhex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'),
  bobPrivate: unhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
  bobPublic: unhex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'),
  shared: unhex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'),
};

function expectUnsealable(t: import('ava').ExecutionContext, run: () => unknown, what: string): void {
  const error = t.throws(run, { instanceOf: CustodyError }, what);
  t.is(error?.code, 'CUSTODY_UNSEALABLE', what);
}

test('RFC 7748 §6.1: raw key import, public from private, and the shared secret', (t) => {
  const alice = x25519PrivateKeyObject(RFC7748.alicePrivate);
  const bob = x25519PrivateKeyObject(RFC7748.bobPrivate);
  t.deepEqual(x25519RawPublic(alice), RFC7748.alicePublic);
  t.deepEqual(x25519RawPublic(bob), RFC7748.bobPublic);
  t.deepEqual(x25519Shared(alice, x25519PublicKeyObject(RFC7748.bobPublic)), RFC7748.shared);
  t.deepEqual(x25519Shared(bob, x25519PublicKeyObject(RFC7748.alicePublic)), RFC7748.shared);
});

test('generateX25519 gives matching 32-byte halves, fresh each time', (t) => {
  const a = generateX25519();
  const b = generateX25519();
  t.is(a.publicKey.byteLength, 32);
  t.is(a.privateKey.byteLength, 32);
  t.deepEqual(x25519.getPublicKey(a.privateKey), a.publicKey);
  t.notDeepEqual(a.privateKey, b.privateKey);
});

test('sealTo / openSealed round trip, with and without AAD, empty and large plaintexts', (t) => {
  const { publicKey, privateKey } = generateX25519();
  for (const size of [0, 1, 66, 4096, 1 << 20]) {
    const plain = randomBytes(size);
    const sealed = sealTo(publicKey, plain);
    t.is(sealed.byteLength, size + SEALED_OVERHEAD);
    t.deepEqual(openSealed(privateKey, sealed), Uint8Array.from(plain));
    const aad = utf8(`message ${size}`);
    t.deepEqual(openSealed(privateKey, sealTo(publicKey, plain, aad), aad), Uint8Array.from(plain));
  }
  const plain = utf8('same');
  t.notDeepEqual(sealTo(publicKey, plain), sealTo(publicKey, plain), 'fresh ephemeral key and nonce');
});

test('the box is ephemeral public | nonce | ciphertext | tag under the documented HKDF (independent open)', (t) => {
  const { publicKey, privateKey } = generateX25519();
  const plain = utf8('a share of the expiry secret');
  const aad = utf8('custodian request 7');
  const sealed = sealTo(publicKey, plain, aad);
  const ephemeral = sealed.subarray(0, 32);
  const shared = x25519.getSharedSecret(privateKey, ephemeral);
  const key = hkdf(sha256, shared, new Uint8Array(0), Uint8Array.from([...utf8(ECIES_INFO), ...ephemeral, ...publicKey]), 32);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(32, 44));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16));
  const opened = Buffer.concat([decipher.update(sealed.subarray(44, sealed.byteLength - 16)), decipher.final()]);
  t.deepEqual(Uint8Array.from(opened), plain);
});

test('wrong key, wrong or missing AAD: CUSTODY_UNSEALABLE', (t) => {
  const { publicKey, privateKey } = generateX25519();
  const plain = utf8('share');
  const aad = utf8('aad');
  const sealed = sealTo(publicKey, plain, aad);
  t.deepEqual(openSealed(privateKey, sealed, aad), plain);
  expectUnsealable(t, () => openSealed(generateX25519().privateKey, sealed, aad), 'wrong key');
  expectUnsealable(t, () => openSealed(privateKey, sealed, utf8('aae')), 'wrong aad');
  expectUnsealable(t, () => openSealed(privateKey, sealed), 'missing aad');
  expectUnsealable(t, () => openSealed(privateKey, sealTo(publicKey, plain), aad), 'unexpected aad');
});

test('any changed byte, truncation or a low-order ephemeral key: CUSTODY_UNSEALABLE', (t) => {
  const { publicKey, privateKey } = generateX25519();
  const sealed = sealTo(publicKey, utf8('twenty bytes of text'));
  for (let i = 0; i < sealed.byteLength; i++) {
    const copy = Uint8Array.from(sealed);
    copy[i]! ^= 0x01 << (i % 8);
    expectUnsealable(t, () => openSealed(privateKey, copy), `byte ${i}`);
  }
  expectUnsealable(t, () => openSealed(privateKey, sealed.subarray(0, sealed.byteLength - 1)), 'truncated');
  expectUnsealable(t, () => openSealed(privateKey, sealed.subarray(0, SEALED_OVERHEAD - 1)), 'too short');
  expectUnsealable(t, () => openSealed(privateKey, new Uint8Array(0)), 'empty');
  const lowOrder = Uint8Array.from(sealed);
  lowOrder.fill(0, 0, 32);
  expectUnsealable(t, () => openSealed(privateKey, lowOrder), 'zero ephemeral key');
});

test('bad keys are CUSTODY_BAD_KEY naming the argument', (t) => {
  const bad = (run: () => unknown, field: string): void => {
    const error = t.throws(run, { instanceOf: CustodyError });
    t.is(error.code, 'CUSTODY_BAD_KEY');
    t.is(error.field, field);
  };
  bad(() => sealTo(new Uint8Array(31), utf8('x')), 'recipientPublic');
  bad(() => sealTo(new Uint8Array(32), utf8('x')), 'recipientPublic'); // u = 0 has low order
  bad(() => openSealed(new Uint8Array(33), new Uint8Array(100)), 'recipientPrivate');
});
