// Shamir t-of-n sharing with Pedersen verification (custody/shamir.ts):
// property tests over many random secrets and (t, n), bad shares, encodings.
import test from 'ava';
import { combine, decodeShare, encodeShare, SHARE_BYTES, split, verifyShare, type Share } from '../../src/custody/shamir.ts';
import { decodeCommitments, encodeCommitments } from '../../src/custody/pedersen.ts';
import { ORDER, randomScalar, scalarToBytes } from '../../src/custody/scalar.ts';
import { newExpirySecret } from '../../src/custody/session-key.ts';
import { CustodyError } from '../../src/custody/errors.ts';

const randomInt = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
function pick<T>(items: readonly T[], k: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = randomInt(0, i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, k);
}
/** (t, n) pairs: the edges plus random ones. */
const PAIRS: [number, number][] = [[1, 1], [1, 5], [2, 2], [2, 3], [3, 5], [5, 5], [7, 12]];
for (let i = 0; i < 25; i++) {
  const n = randomInt(1, 16);
  PAIRS.push([randomInt(1, n), n]);
}

test('any t of n shares recover the secret; t-1 do not', (t) => {
  for (const [threshold, n] of PAIRS) {
    const secret = newExpirySecret();
    const { shares, commitments } = split(secret, { t: threshold, n });
    t.is(shares.length, n);
    t.is(commitments.length, threshold);
    t.deepEqual(shares.map((s) => s.index), Array.from({ length: n }, (_, i) => i + 1));
    for (let trial = 0; trial < 4; trial++) {
      t.is(combine(pick(shares, threshold), threshold), secret, `t=${threshold} n=${n}`);
      if (threshold > 1) t.not(combine(pick(shares, threshold - 1), threshold - 1), secret, `t-1 of t=${threshold} n=${n}`);
    }
    t.is(combine(shares, threshold), secret, 'all n');
  }
});

test('fewer than t distinct shares: CUSTODY_TOO_FEW_SHARES, duplicates count once', (t) => {
  const { shares } = split(newExpirySecret(), { t: 3, n: 5 });
  const [a, b] = [shares[0]!, shares[1]!];
  for (const given of [[], [a], [a, b], [a, b, a, b]]) {
    const error = t.throws(() => combine(given, 3), { instanceOf: CustodyError });
    t.is(error.code, 'CUSTODY_TOO_FEW_SHARES');
  }
});

test('two different shares with one index are refused', (t) => {
  const { shares } = split(newExpirySecret(), { t: 2, n: 3 });
  const forged: Share = { ...shares[0]!, value: (shares[0]!.value + 1n) % ORDER };
  const error = t.throws(() => combine([shares[0]!, forged, shares[1]!], 2), { instanceOf: CustodyError });
  t.is(error.code, 'CUSTODY_BAD_SHARE');
});

test('every honest share verifies; commitments of another split reject them', (t) => {
  for (const [threshold, n] of PAIRS.slice(0, 14)) {
    const { shares, commitments } = split(newExpirySecret(), { t: threshold, n });
    const other = split(newExpirySecret(), { t: threshold, n });
    for (const share of shares) {
      t.true(verifyShare(share, commitments), `t=${threshold} n=${n} i=${share.index}`);
      t.false(verifyShare(share, other.commitments));
    }
  }
});

test('the same secret split twice gives different commitments (they hide it)', (t) => {
  const secret = newExpirySecret();
  const a = split(secret, { t: 2, n: 3 });
  const b = split(secret, { t: 2, n: 3 });
  t.false(a.commitments[0]!.equals(b.commitments[0]!));
  t.false(verifyShare(a.shares[0]!, b.commitments));
});

test('a flipped bit in f(i) or g(i), a swapped index or swapped halves fail verification', (t) => {
  for (const [threshold, n] of [[1, 1], [1, 3], [2, 3], [3, 5], [4, 4]] as const) {
    const { shares, commitments } = split(newExpirySecret(), { t: threshold, n });
    for (const share of shares) {
      for (let k = 0; k < 3; k++) {
        const bit = 1n << BigInt(randomInt(0, 252));
        t.false(verifyShare({ ...share, value: share.value ^ bit }, commitments));
        t.false(verifyShare({ ...share, blinding: share.blinding ^ bit }, commitments));
      }
      t.false(verifyShare({ ...share, value: share.blinding, blinding: share.value }, commitments));
      // with t = 1 the polynomials are constant: every index holds the same share
      if (threshold === 1) continue;
      const otherIndex = share.index === n ? 1 : share.index + 1;
      t.false(verifyShare({ ...share, index: otherIndex }, commitments), `index ${share.index} as ${otherIndex}`);
    }
  }
});

test('misshapen shares are false, not errors', (t) => {
  const { shares, commitments } = split(5n, { t: 2, n: 2 });
  const s = shares[0]!;
  t.false(verifyShare({ ...s, index: 0 }, commitments));
  t.false(verifyShare({ ...s, index: 256 }, commitments));
  t.false(verifyShare({ ...s, index: 1.5 }, commitments));
  t.false(verifyShare({ ...s, value: ORDER + s.value }, commitments));
  t.false(verifyShare({ ...s, blinding: -1n }, commitments));
  t.false(verifyShare(s, []));
});

test('split validates 1 <= t <= n <= 255 and the secret, naming the field', (t) => {
  const expectField = (run: () => unknown, field: string): void => {
    const error = t.throws(run, { instanceOf: CustodyError });
    t.is(error.code, 'CUSTODY_BAD_PARAMS');
    t.is(error.field, field);
  };
  expectField(() => split(1n, { t: 0, n: 3 }), 't');
  expectField(() => split(1n, { t: 4, n: 3 }), 't');
  expectField(() => split(1n, { t: 1.5, n: 3 }), 't');
  expectField(() => split(1n, { t: 1, n: 0 }), 'n');
  expectField(() => split(1n, { t: 1, n: 256 }), 'n');
  expectField(() => split(ORDER, { t: 1, n: 1 }), 'secret');
  expectField(() => split(-1n, { t: 1, n: 1 }), 'secret');
  expectField(() => combine([], 0), 't');
});

test('255 of 255 works at the top of the range', (t) => {
  const secret = newExpirySecret();
  const { shares, commitments } = split(secret, { t: 255, n: 255 });
  t.true(verifyShare(shares[254]!, commitments));
  t.true(verifyShare(shares[0]!, commitments));
  t.is(combine(pick(shares, 255), 255), secret);
  t.not(combine(shares.slice(0, 254), 254), secret);
  t.is(decodeCommitments(encodeCommitments(commitments)).length, 255);
});

test('shares encode to 66 bytes (version | index | f(i) LE | g(i) LE) and round trip', (t) => {
  const { shares, commitments } = split(newExpirySecret(), { t: 3, n: 7 });
  for (const share of shares) {
    const bytes = encodeShare(share);
    t.is(bytes.byteLength, SHARE_BYTES);
    t.is(SHARE_BYTES, 66);
    t.is(bytes[0], 1);
    t.is(bytes[1], share.index);
    t.deepEqual(bytes.subarray(2, 34), scalarToBytes(share.value));
    t.deepEqual(bytes.subarray(34), scalarToBytes(share.blinding));
    const back = decodeShare(bytes);
    t.deepEqual(back, share);
    t.true(verifyShare(back, decodeCommitments(encodeCommitments(commitments))));
  }
});

test('malformed share bytes are refused with CUSTODY_BAD_SHARE and the field at fault', (t) => {
  const good = encodeShare({ index: 3, value: randomScalar(), blinding: randomScalar() });
  const expectField = (bytes: Uint8Array, field: string): void => {
    const error = t.throws(() => decodeShare(bytes), { instanceOf: CustodyError });
    t.is(error.code, 'CUSTODY_BAD_SHARE');
    t.is(error.field, field);
  };
  const withBytes = (at: number, values: Uint8Array | number[]): Uint8Array => {
    const copy = Uint8Array.from(good);
    copy.set(values, at);
    return copy;
  };
  const orderLE = Uint8Array.from(Buffer.from(ORDER.toString(16).padStart(64, '0'), 'hex').reverse());
  expectField(good.subarray(0, 65), 'length');
  expectField(Uint8Array.from([...good, 0]), 'length');
  expectField(new Uint8Array(0), 'length');
  expectField(withBytes(0, [2]), 'version');
  expectField(withBytes(1, [0]), 'index');
  expectField(withBytes(2, orderLE), 'value');
  expectField(withBytes(34, new Uint8Array(32).fill(0xff)), 'blinding');
  t.throws(() => encodeShare({ index: 0, value: 1n, blinding: 1n }), { code: 'CUSTODY_BAD_SHARE' });
});

test('a flipped bit anywhere in an encoded share is refused by decode or by verification', (t) => {
  const { shares, commitments } = split(newExpirySecret(), { t: 2, n: 3 });
  const bytes = encodeShare(shares[1]!);
  for (let bit = 0; bit < bytes.byteLength * 8; bit += 3) {
    const copy = Uint8Array.from(bytes);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    let share: Share;
    try {
      share = decodeShare(copy);
    } catch (error) {
      t.is((error as CustodyError).code, 'CUSTODY_BAD_SHARE');
      continue;
    }
    t.false(verifyShare(share, commitments), `bit ${bit}`);
  }
});
