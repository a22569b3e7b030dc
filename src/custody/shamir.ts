// Shamir t-of-n secret sharing (A. Shamir, "How to Share a Secret", 1979) of a
// ristretto255 scalar, made verifiable with Pedersen commitments (pedersen.ts):
// the dealer draws f(x) = s + a_1·x + … + a_{t-1}·x^{t-1} and a blinding
// g(x) = b_0 + … + b_{t-1}·x^{t-1}, gives share i the triple (i, f(i), g(i)) and
// publishes C_j = a_j·G + b_j·H. A holder checks its share with
// f(i)·G + g(i)·H = Σ_j C_j·i^j; any t verified shares give s = f(0) by
// Lagrange interpolation; t-1 shares say nothing about s.
//
// Encoded share, 66 bytes: version 0x01 (1) | index i (1, 1..255) |
// f(i) (32, little-endian scalar < L) | g(i) (32, little-endian scalar < L).
import { CustodyError } from './errors.ts';
import { commit, evaluateCommitments, MAX_THRESHOLD, type Commitments } from './pedersen.ts';
import { Fn, isScalar, randomScalar, SCALAR_BYTES, scalarFromBytes, scalarToBytes } from './scalar.ts';

/** One share: the point (index, f(index)) and its blinding g(index). */
export interface Share {
  /** x-coordinate, 1..255 (0 would be the secret itself) */
  readonly index: number;
  /** f(index) */
  readonly value: bigint;
  /** g(index) */
  readonly blinding: bigint;
}

export interface Sharing {
  /** shares with indexes 1..n, in order */
  readonly shares: readonly Share[];
  /** C_0 .. C_{t-1}; encode with encodeCommitments */
  readonly commitments: Commitments;
}

export const SHARE_VERSION = 0x01;
export const SHARE_BYTES = 2 + 2 * SCALAR_BYTES;

/**
 * Splits a secret into n shares, any t of which recover it, with Pedersen commitments.
 * @throws CustodyError CUSTODY_BAD_PARAMS unless 1 <= t <= n <= 255 (field `t` or `n`)
 *         and the secret is a scalar in [0, L) (field `secret`)
 */
export function split(secret: bigint, params: { t: number; n: number }): Sharing {
  const { t, n } = params;
  if (!isScalar(secret)) throw new CustodyError('CUSTODY_BAD_PARAMS', 'not a scalar in [0, L)', { field: 'secret' });
  if (!Number.isInteger(n) || n < 1 || n > MAX_THRESHOLD) {
    throw new CustodyError('CUSTODY_BAD_PARAMS', `must be an integer in 1..${MAX_THRESHOLD}`, { field: 'n' });
  }
  if (!Number.isInteger(t) || t < 1 || t > n) throw new CustodyError('CUSTODY_BAD_PARAMS', `must be an integer in 1..n (${n})`, { field: 't' });
  const f = [secret];
  const g = [randomScalar()];
  for (let j = 1; j < t; j++) {
    f.push(randomScalar());
    g.push(randomScalar());
  }
  const commitments = f.map((a, j) => commit(a, g[j]!));
  const shares: Share[] = [];
  for (let index = 1; index <= n; index++) shares.push({ index, value: evaluate(f, index), blinding: evaluate(g, index) });
  return { shares, commitments };
}

/**
 * True when the share lies on the committed polynomials: f(i)·G + g(i)·H = Σ_j C_j·i^j.
 * A share of the wrong shape (index outside 1..255, values outside [0, L)) is false, not an error.
 */
export function verifyShare(share: Share, commitments: Commitments): boolean {
  if (!isWellFormed(share) || commitments.length < 1 || commitments.length > MAX_THRESHOLD) return false;
  const expected = evaluateCommitments(commitments, share.index);
  return commit(share.value, share.blinding).equals(expected);
}

/**
 * The secret f(0), by Lagrange interpolation over the first t shares with
 * distinct indexes. Pass only shares that verifyShare accepted: unverified
 * shares give a wrong secret silently.
 * @throws CustodyError CUSTODY_BAD_PARAMS unless t is an integer in 1..255 (field `t`);
 *         CUSTODY_BAD_SHARE for a malformed share or two different shares with one index;
 *         CUSTODY_TOO_FEW_SHARES with fewer than t distinct indexes
 */
export function combine(shares: readonly Share[], t: number): bigint {
  if (!Number.isInteger(t) || t < 1 || t > MAX_THRESHOLD) {
    throw new CustodyError('CUSTODY_BAD_PARAMS', `must be an integer in 1..${MAX_THRESHOLD}`, { field: 't' });
  }
  const byIndex = new Map<number, Share>();
  for (const share of shares) {
    if (!isWellFormed(share)) throw new CustodyError('CUSTODY_BAD_SHARE', 'malformed share', { field: 'share' });
    const seen = byIndex.get(share.index);
    if (seen === undefined) byIndex.set(share.index, share);
    else if (seen.value !== share.value || seen.blinding !== share.blinding) {
      throw new CustodyError('CUSTODY_BAD_SHARE', `two different shares with index ${share.index}`, { field: 'index' });
    }
  }
  if (byIndex.size < t) throw new CustodyError('CUSTODY_TOO_FEW_SHARES', `need ${t} distinct shares, have ${byIndex.size}`);
  const used = [...byIndex.values()].slice(0, t);
  let secret = 0n;
  for (const share of used) {
    // λ_i = Π_{j≠i} x_j / (x_j - x_i), the Lagrange basis at 0
    let numerator = 1n;
    let denominator = 1n;
    for (const other of used) {
      if (other.index === share.index) continue;
      numerator = Fn.mul(numerator, BigInt(other.index));
      denominator = Fn.mul(denominator, Fn.sub(BigInt(other.index), BigInt(share.index)));
    }
    secret = Fn.add(secret, Fn.mul(share.value, Fn.mul(numerator, Fn.inv(denominator))));
  }
  return secret;
}

/**
 * Encodes a share (layout in the header comment).
 * @throws CustodyError CUSTODY_BAD_SHARE for a share of the wrong shape
 */
export function encodeShare(share: Share): Uint8Array {
  if (!isWellFormed(share)) throw new CustodyError('CUSTODY_BAD_SHARE', 'malformed share', { field: 'share' });
  const out = new Uint8Array(SHARE_BYTES);
  out[0] = SHARE_VERSION;
  out[1] = share.index;
  out.set(scalarToBytes(share.value), 2);
  out.set(scalarToBytes(share.blinding), 2 + SCALAR_BYTES);
  return out;
}

/**
 * Decodes and validates an encoded share (it does not verify it: see verifyShare).
 * @throws CustodyError CUSTODY_BAD_SHARE naming the field at fault: `length`, `version`, `index`, `value`, `blinding`
 */
export function decodeShare(bytes: Uint8Array): Share {
  if (bytes.byteLength !== SHARE_BYTES) throw new CustodyError('CUSTODY_BAD_SHARE', `expected ${SHARE_BYTES} bytes, got ${bytes.byteLength}`, { field: 'length' });
  if (bytes[0] !== SHARE_VERSION) throw new CustodyError('CUSTODY_BAD_SHARE', `unknown version ${bytes[0]}`, { field: 'version' });
  const index = bytes[1]!;
  if (index === 0) throw new CustodyError('CUSTODY_BAD_SHARE', 'index 0 is the secret, not a share', { field: 'index' });
  return {
    index,
    value: scalarFromBytes(bytes.subarray(2, 2 + SCALAR_BYTES), 'CUSTODY_BAD_SHARE', 'value'),
    blinding: scalarFromBytes(bytes.subarray(2 + SCALAR_BYTES), 'CUSTODY_BAD_SHARE', 'blinding'),
  };
}

/** p(x) for coefficients p_0 .. p_k, by Horner's rule modulo L. */
function evaluate(coefficients: readonly bigint[], x: number): bigint {
  const bx = BigInt(x);
  let acc = 0n;
  for (let j = coefficients.length - 1; j >= 0; j--) acc = Fn.add(Fn.mul(acc, bx), coefficients[j]!);
  return acc;
}

function isWellFormed(share: Share): boolean {
  return typeof share === 'object' && share !== null
    && Number.isInteger(share.index) && share.index >= 1 && share.index <= MAX_THRESHOLD
    && isScalar(share.value) && isScalar(share.blinding);
}
