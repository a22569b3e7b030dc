// Stealth announcements (network/stealth.ts), the ERC-5564 idea over X25519:
// the recipient recognises its own, nobody else recognises any, tampering and
// garbage give null, and the documented formulas hold (checked with
// @noble/curves' X25519, independent of the node:crypto path).
import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { x25519 } from '@noble/curves/ed25519.js';
import { makeScanner, stealthAnnounce, type StealthAnnouncement } from '../../src/network/stealth.ts';
import { generateX25519 } from '../../src/custody/ecies.ts';
import { CustodyError } from '../../src/custody/errors.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};
const flip = (bytes: Uint8Array, at: number): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  copy[at]! ^= 0x80;
  return copy;
};

test('the recipient recognises its own announcements and gets the payload back', (t) => {
  const me = generateX25519();
  const scan = makeScanner(me.privateKey);
  for (const size of [0, 1, 46, 1000]) {
    const payload = randomBytes(size);
    const a = stealthAnnounce(me.publicKey, payload);
    t.is(a.ephemeralPublic.byteLength, 32);
    t.is(a.tag.byteLength, 32);
    t.true(Number.isInteger(a.viewTag) && a.viewTag >= 0 && a.viewTag <= 255);
    t.is(a.sealedPayload.byteLength, size + 16);
    t.deepEqual(scan(a), Uint8Array.from(payload));
  }
  t.deepEqual(scan.stats, { scanned: 4, viewTagPassed: 4, recognised: 4 });
});

test('view tag and tag follow the documented formulas', (t) => {
  const me = generateX25519();
  const a = stealthAnnounce(me.publicKey, utf8('cid'));
  const shared = x25519.getSharedSecret(me.privateKey, a.ephemeralPublic);
  t.is(a.viewTag, sha256(utf8('sealpost view tag'), shared)[0]!);
  t.deepEqual(a.tag, sha256(utf8('sealpost stealth tag'), shared, a.ephemeralPublic));
});

test('another key recognises none of 1000+; about 1 in 256 pass the view tag and fail the full check', (t) => {
  const recipient = generateX25519();
  const stranger = makeScanner(generateX25519().privateKey);
  // go past 1000 until at least one view tag collides, so the full check is exercised
  // ((255/256)^1000 ≈ 2% of runs would otherwise never reach it)
  let count = 0;
  while (count < 1000 || (stranger.stats.viewTagPassed === 0 && count < 10_000)) {
    t.is(stranger(stealthAnnounce(recipient.publicKey, utf8(`message ${count}`))), null);
    count++;
  }
  t.is(stranger.stats.scanned, count);
  t.is(stranger.stats.recognised, 0);
  t.true(stranger.stats.viewTagPassed >= 1);
  // expected count/256 ≈ 4 per 1000; 25 would be a broken view tag
  t.true(stranger.stats.viewTagPassed <= Math.max(25, count / 40), `${stranger.stats.viewTagPassed} of ${count}`);
});

test('a tampered announcement gives null, whichever field is changed', (t) => {
  const me = generateX25519();
  const scan = makeScanner(me.privateKey);
  const a = stealthAnnounce(me.publicKey, utf8('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'));
  const tampered: StealthAnnouncement[] = [
    { ...a, sealedPayload: flip(a.sealedPayload, 0) },
    { ...a, sealedPayload: flip(a.sealedPayload, a.sealedPayload.byteLength - 1) },
    { ...a, sealedPayload: a.sealedPayload.subarray(1) },
    { ...a, tag: flip(a.tag, 5) },
    { ...a, viewTag: (a.viewTag + 1) % 256 },
    { ...a, ephemeralPublic: flip(a.ephemeralPublic, 3) },
    // the top bit of a u-coordinate is ignored by X25519 (RFC 7748 §5), but the tag binds the bytes
    { ...a, ephemeralPublic: flip(a.ephemeralPublic, 31) },
  ];
  for (const [i, b] of tampered.entries()) t.is(scan(b), null, `case ${i}`);
  t.is(scan.stats.recognised, 0);
  t.notDeepEqual(scan(a), null);
});

test('garbage never throws: random bytes of the right shape, wrong shapes, low-order keys', (t) => {
  const me = generateX25519();
  for (const backend of ['node', 'noble'] as const) {
    const scan = makeScanner(me.privateKey, { backend });
    for (let i = 0; i < 300; i++) {
      const garbage = { ephemeralPublic: randomBytes(32), viewTag: i % 256, tag: randomBytes(32), sealedPayload: randomBytes(i % 40) };
      t.is(scan(garbage), null);
    }
    const good = stealthAnnounce(me.publicKey, utf8('x'));
    const misshapen: unknown[] = [
      null, undefined, 7, 'announcement', {},
      { ...good, ephemeralPublic: new Uint8Array(31) },
      { ...good, ephemeralPublic: new Uint8Array(32) }, // u = 0, low order
      { ...good, ephemeralPublic: Uint8Array.from([1, ...new Uint8Array(31)]) }, // u = 1, low order
      { ...good, viewTag: 256 }, { ...good, viewTag: -1 }, { ...good, viewTag: 1.5 }, { ...good, viewTag: '1' },
      { ...good, tag: new Uint8Array(33) }, { ...good, tag: 'tag' },
      { ...good, sealedPayload: new Uint8Array(15) }, { ...good, sealedPayload: null },
    ];
    for (const m of misshapen) t.is(scan(m as StealthAnnouncement), null);
    t.deepEqual(scan(good), utf8('x'));
  }
});

test('the noble backend agrees with the node:crypto one', (t) => {
  const me = generateX25519();
  const other = generateX25519();
  const viaNode = makeScanner(me.privateKey);
  const viaNoble = makeScanner(me.privateKey, { backend: 'noble' });
  for (let i = 0; i < 60; i++) {
    const a = stealthAnnounce(i % 3 === 0 ? me.publicKey : other.publicKey, utf8(`m${i}`));
    t.deepEqual(viaNoble(a), viaNode(a));
  }
  t.is(viaNode.stats.recognised, 20);
  t.deepEqual(viaNoble.stats, viaNode.stats);
});

test('announcing to a bad key is CUSTODY_BAD_KEY; a bad scanner key too', (t) => {
  for (const key of [new Uint8Array(31), new Uint8Array(32)]) {
    const error = t.throws(() => stealthAnnounce(key, utf8('x')), { instanceOf: CustodyError });
    t.is(error.code, 'CUSTODY_BAD_KEY');
    t.is(error.field, 'recipientPublic');
  }
  t.is(t.throws(() => makeScanner(new Uint8Array(16)), { instanceOf: CustodyError }).code, 'CUSTODY_BAD_KEY');
});

test('each announcement uses a fresh ephemeral key and tag', (t) => {
  const me = generateX25519();
  const a = stealthAnnounce(me.publicKey, utf8('same'));
  const b = stealthAnnounce(me.publicKey, utf8('same'));
  t.notDeepEqual(a.ephemeralPublic, b.ephemeralPublic);
  t.notDeepEqual(a.tag, b.tag);
  t.notDeepEqual(a.sealedPayload, b.sealedPayload);
});
