// Client password hashing with scrypt (RFC 7914) from node:crypto, and the
// generator of client passwords. Hashes are self-describing:
//   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
// so the cost can be raised later without breaking stored hashes.
import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors/index.ts';

/** Cost parameters: N=2^15, r=8, p=1 is ~32 MiB and ~50-100 ms per hash (OWASP's minimum is N=2^17 with r=8 at p=1; we use 2^15 to keep login fast on small machines while still far beyond brute force for a 128-bit password). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(password: string, salt: Uint8Array, params: ScryptParams, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes plus slack.
    scrypt(password.normalize('NFC'), salt, keyLength, { ...params, maxmem: 256 * params.N * params.r }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, params, KEY_LENGTH);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * Checks a password against a stored hash in constant time.
 * @throws ValidationError when `stored` is not a hash this module wrote
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [scheme, n, r, p, salt64, hash64] = parts;
  if (parts.length !== 6 || scheme !== 'scrypt' || salt64 === undefined || hash64 === undefined) {
    throw new ValidationError('passwordHash', 'not a scrypt hash');
  }
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!Object.values(params).every((v) => Number.isSafeInteger(v) && v > 0)) {
    throw new ValidationError('passwordHash', 'bad scrypt parameters');
  }
  const expected = Buffer.from(hash64, 'base64');
  if (expected.length === 0) throw new ValidationError('passwordHash', 'empty hash');
  const actual = await derive(password, Buffer.from(salt64, 'base64'), params, expected.length);
  return timingSafeEqual(actual, expected);
}

/** No 0/O, 1/l/I: a person may have to type it from a terminal. */
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 24 characters from a 57-symbol alphabet: 24 * log2(57) ≈ 140 bits. */
export function generatePassword(length = 24): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
