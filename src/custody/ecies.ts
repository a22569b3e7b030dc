// ECIES for sealing a key share to one custodian or recipient: X25519
// (RFC 7748) with a fresh ephemeral key, HKDF-SHA256 (RFC 5869) and
// AES-256-GCM (NIST SP 800-38D), in the shape of the HPKE base mode
// (RFC 9180) without its suite negotiation. Also the raw-key X25519 helpers
// that stealth announcements (network/stealth.ts) stand on.
//
// Sealed box: ephemeral public key (32) | nonce (12) | ciphertext | GCM tag (16),
// so 60 bytes longer than the plaintext. The AEAD key is
// HKDF-SHA256(ikm = X25519(ephemeral, recipient), salt = empty,
// info = "sealpost ecies v1" | ephemeral public | recipient public), binding
// both public keys so a box cannot be re-pointed at another key pair.
// The optional AAD is authenticated, not sent: the opener must supply it.
import {
  createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync,
  hkdfSync, randomBytes, type KeyObject,
} from 'node:crypto';
import { CustodyError } from './errors.ts';

export const X25519_KEY_BYTES = 32;
export const ECIES_INFO = 'sealpost ecies v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Bytes a sealed box adds to its plaintext. */
export const SEALED_OVERHEAD = X25519_KEY_BYTES + NONCE_BYTES + TAG_BYTES;

// RFC 8410 PKCS#8 header of an X25519 private key; the raw 32 bytes follow.
// (A JWK private key would need the public half too.)
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const EMPTY = new Uint8Array(0);

export interface X25519KeyPair {
  /** raw 32-byte u-coordinate (RFC 7748) */
  readonly publicKey: Uint8Array;
  /** raw 32-byte scalar (RFC 7748; clamped when used) */
  readonly privateKey: Uint8Array;
}

/** A fresh X25519 key pair as raw bytes. */
export function generateX25519(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { publicKey: fromBase64Url(jwk.x), privateKey: fromBase64Url(jwk.d) };
}

/**
 * A Node KeyObject for a raw X25519 private key.
 * @throws CustodyError CUSTODY_BAD_KEY (field `privateKey`) when it is not 32 bytes
 */
export function x25519PrivateKeyObject(raw: Uint8Array, field = 'privateKey'): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.byteLength !== X25519_KEY_BYTES) {
    throw new CustodyError('CUSTODY_BAD_KEY', `expected ${X25519_KEY_BYTES} bytes`, { field });
  }
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

/**
 * A Node KeyObject for a raw X25519 public key. JWK import is the quickest way
 * in (about 30% quicker than SPKI DER), which matters when scanning.
 * @throws CustodyError CUSTODY_BAD_KEY (field `publicKey`) when it is not 32 bytes
 */
export function x25519PublicKeyObject(raw: Uint8Array, field = 'publicKey'): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.byteLength !== X25519_KEY_BYTES) {
    throw new CustodyError('CUSTODY_BAD_KEY', `expected ${X25519_KEY_BYTES} bytes`, { field });
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url') }, format: 'jwk' });
}

/** The raw public key of a private KeyObject. */
export function x25519RawPublic(key: KeyObject): Uint8Array {
  return fromBase64Url(key.export({ format: 'jwk' }).x);
}

/**
 * X25519(private, public). OpenSSL refuses a low-order public key (all-zero
 * output, RFC 7748 §6.1), which surfaces here as an exception.
 */
export function x25519Shared(privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  return new Uint8Array(diffieHellman({ privateKey, publicKey }));
}

/**
 * A one-time X25519 key pair and its shared secret with `recipientPublic`
 * (RFC 7748 §6.1): the sender's half of ECIES here and of stealth
 * announcements (network/stealth.ts).
 * @throws CustodyError CUSTODY_BAD_KEY (field `recipientPublic`) when the key is not 32 bytes or is a low-order point
 */
export function ephemeralAgreement(recipientPublic: Uint8Array): { ephemeralPublic: Uint8Array; shared: Uint8Array } {
  const recipient = x25519PublicKeyObject(recipientPublic, 'recipientPublic');
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralPublic = x25519RawPublic(ephemeral.privateKey);
  try {
    return { ephemeralPublic, shared: x25519Shared(ephemeral.privateKey, recipient) };
  } catch (cause) {
    throw new CustodyError('CUSTODY_BAD_KEY', 'low-order X25519 public key', { field: 'recipientPublic', cause });
  }
}

/**
 * Seals plaintext to an X25519 public key (layout in the header comment).
 * @throws CustodyError CUSTODY_BAD_KEY (field `recipientPublic`) when the key is not 32 bytes or is a low-order point
 */
export function sealTo(recipientPublic: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  const { ephemeralPublic, shared } = ephemeralAgreement(recipientPublic);
  const key = aeadKey(shared, ephemeralPublic, recipientPublic);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const out = new Uint8Array(SEALED_OVERHEAD + plaintext.byteLength);
  out.set(ephemeralPublic, 0);
  out.set(nonce, X25519_KEY_BYTES);
  out.set(body, X25519_KEY_BYTES + NONCE_BYTES);
  return out;
}

/**
 * Opens a box made by sealTo.
 * @throws CustodyError CUSTODY_BAD_KEY (field `recipientPrivate`) when the private key is not 32 bytes;
 *         CUSTODY_UNSEALABLE when the box does not open: wrong key, wrong AAD, any byte changed, truncated
 */
export function openSealed(recipientPrivate: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  const recipient = x25519PrivateKeyObject(recipientPrivate, 'recipientPrivate');
  if (!(sealed instanceof Uint8Array) || sealed.byteLength < SEALED_OVERHEAD) {
    throw new CustodyError('CUSTODY_UNSEALABLE', 'sealed box too short', { field: 'sealed' });
  }
  try {
    const ephemeralPublic = sealed.subarray(0, X25519_KEY_BYTES);
    const nonce = sealed.subarray(X25519_KEY_BYTES, X25519_KEY_BYTES + NONCE_BYTES);
    const ciphertext = sealed.subarray(X25519_KEY_BYTES + NONCE_BYTES, sealed.byteLength - TAG_BYTES);
    const tag = sealed.subarray(sealed.byteLength - TAG_BYTES);
    const shared = x25519Shared(recipient, x25519PublicKeyObject(ephemeralPublic));
    const key = aeadKey(shared, ephemeralPublic, x25519RawPublic(recipient));
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    // a copy, not a view that might sit in Node's shared Buffer pool
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch (cause) {
    throw new CustodyError('CUSTODY_UNSEALABLE', 'sealed box does not open with this key', { cause });
  }
}

function aeadKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  const info = Buffer.concat([Buffer.from(ECIES_INFO, 'utf8'), ephemeralPublic, recipientPublic]);
  return new Uint8Array(hkdfSync('sha256', shared, EMPTY, info, KEY_BYTES));
}

function fromBase64Url(text: string | undefined): Uint8Array {
  if (text === undefined) throw new Error('X25519 JWK export lacks a key member');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
