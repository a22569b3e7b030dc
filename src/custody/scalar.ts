// The scalar field of ristretto255 (RFC 9496): integers modulo the prime group
// order L = 2^252 + 27742317777372353535851937790883648493, the field in which
// the expiry secret lives and over which Shamir sharing is done. Scalars are
// encoded as 32 bytes little-endian (the RFC 8032 / RFC 9496 convention) and
// only canonical encodings (value < L) are accepted.
import { randomBytes } from 'node:crypto';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { CustodyError, type CustodyErrorCode } from './errors.ts';

/** The scalar field (noble's field object: add, sub, mul, inv modulo L). */
export const Fn = ristretto255.Point.Fn;
/** The group order L. */
export const ORDER: bigint = Fn.ORDER;
/** Bytes in an encoded scalar. */
export const SCALAR_BYTES = 32;

// L < 2^253: a 253-bit draw is below L a little more than half of the time.
const TOP_BYTE_MASK = 0x1f;

/**
 * A uniformly random scalar in [0, L), by rejection sampling (no modulo bias).
 * Zero is possible (with probability 1/L); callers that need nonzero use randomNonzeroScalar.
 */
export function randomScalar(): bigint {
  for (;;) {
    const bytes = randomBytes(SCALAR_BYTES);
    bytes[SCALAR_BYTES - 1]! &= TOP_BYTE_MASK;
    const value = bytesToNumberLE(bytes);
    if (value < ORDER) return value;
  }
}

/** A uniformly random scalar in [1, L). */
export function randomNonzeroScalar(): bigint {
  for (;;) {
    const value = randomScalar();
    if (value !== 0n) return value;
  }
}

/** True when `value` is a bigint in [0, L). */
export function isScalar(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value < ORDER;
}

/**
 * The 32-byte little-endian encoding of a scalar.
 * @throws CustodyError CUSTODY_BAD_PARAMS when `value` is not in [0, L)
 */
export function scalarToBytes(value: bigint): Uint8Array {
  if (!isScalar(value)) throw new CustodyError('CUSTODY_BAD_PARAMS', 'not a scalar in [0, L)', { field: 'scalar' });
  const out = new Uint8Array(SCALAR_BYTES);
  let rest = value;
  for (let i = 0; i < SCALAR_BYTES; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/**
 * Decodes a canonical 32-byte little-endian scalar.
 * @throws CustodyError with the given code and field when the bytes are not 32 long or the value is not below L
 */
export function scalarFromBytes(bytes: Uint8Array, code: CustodyErrorCode, field: string): bigint {
  if (bytes.byteLength !== SCALAR_BYTES) throw new CustodyError(code, `expected ${SCALAR_BYTES} bytes, got ${bytes.byteLength}`, { field });
  const value = bytesToNumberLE(bytes);
  if (value >= ORDER) throw new CustodyError(code, 'scalar is not reduced modulo the group order', { field });
  return value;
}

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.byteLength - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}
