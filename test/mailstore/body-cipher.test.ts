// mailstore/body-cipher.ts: AES-256-GCM sealing of message bodies (NIST SP
// 800-38D) with the account id as additional authenticated data.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { BODY_MAGIC, createBodyCipher, isSealed } from '../../src/mailstore/body-cipher.ts';
import type { AccountId } from '../../src/mailstore/types.ts';

const A = 1 as AccountId;
const B = 2 as AccountId;
const enc = new TextEncoder();

function setup() {
  const keys = new Map<AccountId, Uint8Array>([[A, randomBytes(32)], [B, randomBytes(32)]]);
  return { keys, cipher: createBodyCipher({ cacheKey: (id) => keys.get(id) ?? null }) };
}

test('seal/open round trip; format is magic + 12-byte nonce + ciphertext + 16-byte tag; nonces differ', (t) => {
  const { cipher } = setup();
  const plain = enc.encode('Subject: x\r\n\r\nthe quick brown fox\r\n');
  const sealed = cipher.seal(A, plain);
  t.true(isSealed(sealed));
  t.deepEqual(sealed.subarray(0, 4), BODY_MAGIC);
  t.is(sealed.byteLength, 4 + 12 + plain.byteLength + 16);
  t.false(Buffer.from(sealed).includes(Buffer.from('quick brown')));
  t.deepEqual(cipher.open(A, sealed), plain);
  const again = cipher.seal(A, plain);
  t.notDeepEqual(again.subarray(4, 16), sealed.subarray(4, 16), 'a fresh nonce per seal');
  t.deepEqual(cipher.open(A, cipher.seal(A, new Uint8Array(0))), new Uint8Array(0));
});

test('another account, a changed byte, a truncated body or a replaced key do not open (UNREADABLE)', (t) => {
  const { cipher, keys } = setup();
  const sealed = cipher.seal(A, enc.encode('hello'));
  t.throws(() => cipher.open(B, sealed), { code: 'UNREADABLE' }, 'AAD binds the account');
  // even with the same key under another id, the AAD refuses it
  keys.set(B, keys.get(A)!);
  t.throws(() => cipher.open(B, sealed), { code: 'UNREADABLE' });
  for (const at of [4, 16, sealed.byteLength - 1]) {
    const bad = sealed.slice();
    bad[at]! ^= 1;
    t.throws(() => cipher.open(A, bad), { code: 'UNREADABLE' }, `byte ${at}`);
  }
  t.throws(() => cipher.open(A, sealed.subarray(0, 20)), { code: 'UNREADABLE' });
  keys.set(A, randomBytes(32));
  t.throws(() => cipher.open(A, sealed), { code: 'UNREADABLE' });
});

test('no key: seal and open of sealed data are LOCKED; clear legacy data opens unchanged', (t) => {
  const { cipher } = setup();
  const sealed = cipher.seal(A, enc.encode('hello'));
  const locked = createBodyCipher({ cacheKey: () => null });
  t.throws(() => locked.seal(A, enc.encode('x')), { code: 'LOCKED', name: 'LockedError' });
  t.throws(() => locked.open(A, sealed), { code: 'LOCKED' });
  const legacy = enc.encode('From: a@example.test\r\n\r\nold\r\n');
  t.is(locked.open(A, legacy), legacy);
  t.is(cipher.open(A, legacy), legacy);
});
