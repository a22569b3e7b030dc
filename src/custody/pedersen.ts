// Pedersen commitments over ristretto255 (RFC 9496) for verifiable secret
// sharing (T. P. Pedersen, "Non-Interactive and Information-Theoretic Secure
// Verifiable Secret Sharing", CRYPTO 1991): C = a·G + b·H, where H is a second
// generator whose discrete log relative to G nobody knows. H comes from
// hash-to-curve (RFC 9380 ristretto255_XMD:SHA-512_R255MAP_RO_) of a fixed
// domain string, never k·G: a known k would let the dealer open a commitment
// to any value. The commitments are perfectly hiding, so unlike Feldman's
// secret·G they reveal nothing about the secret even to a future discrete-log
// break.
//
// Encoded commitments: version 0x01 (1 byte) | t (1 byte, 1..255) |
// t × 32-byte canonical ristretto255 encodings of C_0 .. C_{t-1}; 2 + 32·t bytes.
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { CustodyError } from './errors.ts';
import { isScalar } from './scalar.ts';

/** An element of the ristretto255 group. */
export type GroupElement = InstanceType<typeof ristretto255.Point>;
/** The Pedersen commitments C_0 .. C_{t-1} to the coefficients of a sharing polynomial. */
export type Commitments = readonly GroupElement[];

/** Hash-to-curve input and domain separation tag of H; changing either changes every commitment. */
export const H_MESSAGE = 'sealpost pedersen generator H';
export const H_DST = 'sealpost-v1-pedersen-H_ristretto255_XMD:SHA-512_R255MAP_RO_';

export const COMMITMENTS_VERSION = 0x01;
export const POINT_BYTES = 32;
export const MAX_THRESHOLD = 255;

/** The base point G of ristretto255. */
export const G: GroupElement = ristretto255.Point.BASE;
/** The second generator H, with precomputed windows since every commitment multiplies it. */
export const H: GroupElement = ristretto255_hasher
  .hashToCurve(new TextEncoder().encode(H_MESSAGE), { DST: H_DST })
  .precompute(8);

const ZERO = ristretto255.Point.ZERO;

/** s·P in constant time (noble's multiply refuses 0, which is legal here). */
function times(point: GroupElement, scalar: bigint): GroupElement {
  return scalar === 0n ? ZERO : point.multiply(scalar);
}

/**
 * The commitment a·G + b·H.
 * @throws CustodyError CUSTODY_BAD_PARAMS when a or b is not a scalar in [0, L)
 */
export function commit(a: bigint, b: bigint): GroupElement {
  if (!isScalar(a)) throw new CustodyError('CUSTODY_BAD_PARAMS', 'not a scalar in [0, L)', { field: 'a' });
  if (!isScalar(b)) throw new CustodyError('CUSTODY_BAD_PARAMS', 'not a scalar in [0, L)', { field: 'b' });
  return times(G, a).add(times(H, b));
}

/**
 * Σ_j C_j·x^j, the commitment to (f(x), g(x)), by Horner's rule. x is a public
 * share index, so the variable-time multiply is fine here.
 */
export function evaluateCommitments(commitments: Commitments, x: number): GroupElement {
  const bx = BigInt(x);
  let acc = ZERO;
  for (let j = commitments.length - 1; j >= 0; j--) acc = acc.multiplyUnsafe(bx).add(commitments[j]!);
  return acc;
}

/** Bytes of encoded commitments for threshold t. */
export function commitmentsByteLength(t: number): number {
  return 2 + POINT_BYTES * t;
}

/**
 * Encodes commitments (layout in the header comment).
 * @throws CustodyError CUSTODY_BAD_COMMITMENTS when there are none or more than 255
 */
export function encodeCommitments(commitments: Commitments): Uint8Array {
  const t = commitments.length;
  if (t < 1 || t > MAX_THRESHOLD) throw new CustodyError('CUSTODY_BAD_COMMITMENTS', `expected 1..${MAX_THRESHOLD} commitments, got ${t}`, { field: 't' });
  const out = new Uint8Array(commitmentsByteLength(t));
  out[0] = COMMITMENTS_VERSION;
  out[1] = t;
  commitments.forEach((c, j) => out.set(c.toBytes(), 2 + POINT_BYTES * j));
  return out;
}

/**
 * Decodes and validates encoded commitments.
 * @throws CustodyError CUSTODY_BAD_COMMITMENTS naming the field at fault: `length`, `version`, `t`,
 *         or `commitments[j]` for a point that is not a canonical ristretto255 encoding
 */
export function decodeCommitments(bytes: Uint8Array): Commitments {
  if (bytes.byteLength < commitmentsByteLength(1)) {
    throw new CustodyError('CUSTODY_BAD_COMMITMENTS', `too short: ${bytes.byteLength} bytes`, { field: 'length' });
  }
  if (bytes[0] !== COMMITMENTS_VERSION) throw new CustodyError('CUSTODY_BAD_COMMITMENTS', `unknown version ${bytes[0]}`, { field: 'version' });
  const t = bytes[1]!;
  if (t < 1) throw new CustodyError('CUSTODY_BAD_COMMITMENTS', 'threshold 0', { field: 't' });
  if (bytes.byteLength !== commitmentsByteLength(t)) {
    throw new CustodyError('CUSTODY_BAD_COMMITMENTS', `expected ${commitmentsByteLength(t)} bytes for t=${t}, got ${bytes.byteLength}`, { field: 'length' });
  }
  const points: GroupElement[] = [];
  for (let j = 0; j < t; j++) {
    const at = 2 + POINT_BYTES * j;
    try {
      points.push(ristretto255.Point.fromBytes(bytes.subarray(at, at + POINT_BYTES)));
    } catch (cause) {
      throw new CustodyError('CUSTODY_BAD_COMMITMENTS', 'not a canonical ristretto255 point', { field: `commitments[${j}]`, cause });
    }
  }
  return points;
}
