// The expiry secret of an expiring message and the OpenPGP session key derived
// from it. The secret is a random nonzero ristretto255 scalar so that it can be
// split with Shamir/Pedersen (shamir.ts); the AES-256 session key is
// HKDF-SHA256 (RFC 5869) of its 32-byte little-endian encoding, salted with the
// message's context (its id bytes), so one secret never yields the same key
// for two messages.
import { hkdfSync } from 'node:crypto';
import { CustodyError } from './errors.ts';
import { ORDER, randomNonzeroScalar, scalarToBytes } from './scalar.ts';

/** HKDF info: names the purpose and version, so no other derivation shares its output. */
export const SESSION_KEY_INFO = 'sealpost expiry session key v1';
/** Bytes of the derived key: an AES-256 OpenPGP session key. */
export const SESSION_KEY_BYTES = 32;

/** A fresh expiry secret: a uniform random scalar in [1, L) of ristretto255. */
export function newExpirySecret(): bigint {
  return randomNonzeroScalar();
}

/**
 * The AES-256 session key of one message: HKDF-SHA256(ikm = secret as 32 bytes
 * little-endian, salt = context, info = SESSION_KEY_INFO), 32 bytes.
 * @param context the message id bytes (or another per-message salt)
 * @throws CustodyError CUSTODY_BAD_PARAMS (field `secret`) when the secret is not in [1, L)
 */
export function deriveSessionKey(secret: bigint, context: Uint8Array): Uint8Array {
  if (typeof secret !== 'bigint' || secret <= 0n || secret >= ORDER) {
    throw new CustodyError('CUSTODY_BAD_PARAMS', 'expiry secret must be a scalar in [1, L)', { field: 'secret' });
  }
  return new Uint8Array(hkdfSync('sha256', scalarToBytes(secret), context, SESSION_KEY_INFO, SESSION_KEY_BYTES));
}
