// Pedersen commitments over ristretto255 (custody/pedersen.ts): the second
// generator H from RFC 9380 hash-to-curve, and the commitment encoding.
import test from 'ava';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import {
  commit, decodeCommitments, encodeCommitments, evaluateCommitments, G, H, H_DST, H_MESSAGE,
} from '../../src/custody/pedersen.ts';
import { ORDER, randomScalar } from '../../src/custody/scalar.ts';
import { CustodyError } from '../../src/custody/errors.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('H is hash-to-curve of the fixed domain string, pinned so every node agrees on it', (t) => {
  const again = ristretto255_hasher.hashToCurve(new TextEncoder().encode(H_MESSAGE), { DST: H_DST });
  t.true(again.equals(H));
  t.is(hex(H.toBytes()), 'f6ca492586a4fb155ae6afa89f6442cfcf6a0e83bf147bb9377f463e00154124');
});

test('H is not the identity, not G and not a small multiple k·G (k = 1..16, ±)', (t) => {
  t.false(H.is0());
  t.false(H.equals(G));
  let kG = ristretto255.Point.ZERO;
  for (let k = 1; k <= 16; k++) {
    kG = kG.add(G);
    t.false(H.equals(kG), `H = ${k}·G`);
    t.false(H.equals(kG.negate()), `H = -${k}·G`);
  }
});

test('commit is additively homomorphic: C(a1,b1) + C(a2,b2) = C(a1+a2, b1+b2)', (t) => {
  for (let i = 0; i < 10; i++) {
    const [a1, b1, a2, b2] = [randomScalar(), randomScalar(), randomScalar(), randomScalar()];
    t.true(commit(a1, b1).add(commit(a2, b2)).equals(commit((a1 + a2) % ORDER, (b1 + b2) % ORDER)));
  }
  t.true(commit(0n, 0n).is0());
  t.true(commit(1n, 0n).equals(G));
  t.true(commit(0n, 1n).equals(H));
});

test('commit hides: the same a with different b gives different commitments', (t) => {
  const a = randomScalar();
  t.false(commit(a, randomScalar()).equals(commit(a, randomScalar())));
});

test('commit refuses values outside [0, L), naming the argument', (t) => {
  const error = t.throws(() => commit(ORDER, 1n), { instanceOf: CustodyError });
  t.is(error.code, 'CUSTODY_BAD_PARAMS');
  t.is(error.field, 'a');
  t.is(t.throws(() => commit(1n, -1n), { instanceOf: CustodyError }).field, 'b');
});

test('evaluateCommitments(C, x) equals Σ C_j·x^j computed term by term', (t) => {
  const cs = [commit(randomScalar(), randomScalar()), commit(randomScalar(), randomScalar()), commit(randomScalar(), randomScalar())];
  for (const x of [1, 2, 7, 255]) {
    const bx = BigInt(x);
    const direct = cs[0]!.add(cs[1]!.multiply(bx)).add(cs[2]!.multiply(bx * bx));
    t.true(evaluateCommitments(cs, x).equals(direct));
  }
});

test('commitments encode as version | t | t×32 bytes and decode back', (t) => {
  for (const size of [1, 2, 5, 255]) {
    const cs = Array.from({ length: size }, () => commit(randomScalar(), randomScalar()));
    const bytes = encodeCommitments(cs);
    t.is(bytes.byteLength, 2 + 32 * size);
    t.is(bytes[0], 1);
    t.is(bytes[1], size % 256);
    const back = decodeCommitments(bytes);
    t.is(back.length, size);
    back.forEach((c, j) => t.true(c.equals(cs[j]!)));
  }
});

test('malformed commitment bytes are refused with the field at fault', (t) => {
  const good = encodeCommitments([commit(1n, 2n), commit(3n, 4n)]);
  const expectField = (bytes: Uint8Array, field: string): void => {
    const error = t.throws(() => decodeCommitments(bytes), { instanceOf: CustodyError });
    t.is(error.code, 'CUSTODY_BAD_COMMITMENTS');
    t.is(error.field, field);
  };
  expectField(new Uint8Array(0), 'length');
  expectField(good.subarray(0, 33), 'length');
  expectField(good.subarray(0, good.byteLength - 1), 'length');
  expectField(Uint8Array.from([...good, 0]), 'length');
  expectField(Uint8Array.from(good, (b, i) => (i === 0 ? 2 : b)), 'version');
  expectField(Uint8Array.from(good, (b, i) => (i === 1 ? 0 : b)), 't');
  expectField(Uint8Array.from(good, (b, i) => (i === 1 ? 3 : b)), 'length');
  // all-ones is not a canonical ristretto255 encoding
  expectField(Uint8Array.from(good, (b, i) => (i >= 34 ? 0xff : b)), 'commitments[1]');
  t.throws(() => encodeCommitments([]), { code: 'CUSTODY_BAD_COMMITMENTS' });
});
