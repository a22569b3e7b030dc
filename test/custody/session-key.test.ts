// Expiry secret and session key (custody/session-key.ts): range of the secret,
// and HKDF-SHA256 (RFC 5869) checked against @noble/hashes' independent implementation.
import test from 'ava';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { deriveSessionKey, newExpirySecret, SESSION_KEY_INFO } from '../../src/custody/session-key.ts';
import { ORDER, scalarToBytes } from '../../src/custody/scalar.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('newExpirySecret gives distinct nonzero scalars below the group order', (t) => {
  const seen = new Set<bigint>();
  let highBitSet = 0;
  for (let i = 0; i < 500; i++) {
    const s = newExpirySecret();
    t.true(s > 0n && s < ORDER);
    seen.add(s);
    if (s >= 1n << 251n) highBitSet++;
  }
  t.is(seen.size, 500);
  // uniform on [1, L): about half lie at or above 2^251 (L ≈ 2^252)
  t.true(highBitSet > 180 && highBitSet < 320, `${highBitSet}`);
});

test('deriveSessionKey is HKDF-SHA256(secret LE, salt = context, info) to 32 bytes', (t) => {
  for (let i = 0; i < 20; i++) {
    const secret = newExpirySecret();
    const context = utf8(`<message-${i}@example.org>`);
    const expected = hkdf(sha256, scalarToBytes(secret), context, utf8(SESSION_KEY_INFO), 32);
    t.deepEqual(deriveSessionKey(secret, context), expected);
  }
});

test('deriveSessionKey pins a vector, and context and secret both change the key', (t) => {
  const key = deriveSessionKey(1n, new Uint8Array([1, 2, 3]));
  t.is(Buffer.from(key).toString('hex'), 'b28777753f123ef2f77785c72fddcecd05cd41d2c358d8c6100a736e8af4d8a5');
  t.notDeepEqual(deriveSessionKey(1n, new Uint8Array([1, 2, 4])), key);
  t.notDeepEqual(deriveSessionKey(2n, new Uint8Array([1, 2, 3])), key);
});

test('deriveSessionKey refuses secrets outside [1, L)', (t) => {
  for (const bad of [0n, -1n, ORDER, ORDER + 1n]) {
    const error = t.throws(() => deriveSessionKey(bad, new Uint8Array(1)));
    t.is((error as { code?: string }).code, 'CUSTODY_BAD_PARAMS');
    t.is((error as { field?: string }).field, 'secret');
  }
});
