// Stealth announcements: the sender tells the network "there is a message for
// someone" without naming the recipient, and only the recipient can recognise
// it. This is the ERC-5564 stealth-address idea (one ephemeral key per
// announcement, ECDH with the recipient's public key, a one-byte view tag so
// scanning stays cheap) carried over to X25519 (RFC 7748):
//
//   shared          = X25519(ephemeral private, recipient public)
//   viewTag         = SHA-256("sealpost view tag" | shared)[0]
//   tag             = SHA-256("sealpost stealth tag" | shared | ephemeralPublic)
//   key | nonce     = HKDF-SHA256(ikm = shared, salt = empty,
//                       info = "sealpost stealth payload v1" | ephemeralPublic | recipientPublic, 44 bytes)
//   sealedPayload   = AES-256-GCM(key, nonce, payload, aad = tag): ciphertext | 16-byte tag
//
// The key and nonce are fresh for every ephemeral key, so the nonce can be
// derived rather than sent. A scanner does one X25519 per announcement; 255 in
// 256 foreign announcements stop at the view tag, the rest at the tag.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { ephemeralAgreement, X25519_KEY_BYTES, x25519PrivateKeyObject, x25519PublicKeyObject, x25519RawPublic, x25519Shared } from '../custody/ecies.ts';

/** One announcement as published (on the ledger or the peer network). */
export interface StealthAnnouncement {
  /** the sender's one-time X25519 public key, 32 bytes */
  readonly ephemeralPublic: Uint8Array;
  /** the first byte of SHA-256("sealpost view tag" | shared), 0..255 */
  readonly viewTag: number;
  /** 32 bytes; also usable as the announcement's unique id */
  readonly tag: Uint8Array;
  /** ciphertext | 16-byte GCM tag; as long as the payload plus 16 */
  readonly sealedPayload: Uint8Array;
}

/** Counters of a scanner, for metrics and tests. */
export interface ScanStats {
  /** announcements looked at */
  scanned: number;
  /** announcements whose view tag matched (ours, or about 1 in 256 of the rest) */
  viewTagPassed: number;
  /** announcements recognised and opened */
  recognised: number;
}

/** Recognises and opens announcements for one private key; never throws. */
export interface Scanner {
  /** the payload when the announcement is ours, else null (also for garbage) */
  (announcement: StealthAnnouncement): Uint8Array | null;
  readonly stats: Readonly<ScanStats>;
}

export const TAG_BYTES = 32;
const GCM_TAG_BYTES = 16;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const VIEW_TAG_PREFIX = Buffer.from('sealpost view tag', 'utf8');
const TAG_PREFIX = Buffer.from('sealpost stealth tag', 'utf8');
const PAYLOAD_INFO = Buffer.from('sealpost stealth payload v1', 'utf8');
const EMPTY = new Uint8Array(0);

/**
 * Announces a payload (typically the CID and the message key material) to one recipient.
 * @throws CustodyError CUSTODY_BAD_KEY (field `recipientPublic`) when the key is not 32 bytes or is a low-order point
 */
export function stealthAnnounce(recipientPublic: Uint8Array, payload: Uint8Array): StealthAnnouncement {
  const { ephemeralPublic, shared } = ephemeralAgreement(recipientPublic);
  const tag = stealthTag(shared, ephemeralPublic);
  const { key, nonce } = payloadKey(shared, ephemeralPublic, recipientPublic);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(tag);
  const sealedPayload = new Uint8Array(Buffer.concat([cipher.update(payload), cipher.final(), cipher.getAuthTag()]));
  return { ephemeralPublic, viewTag: viewTag(shared), tag, sealedPayload };
}

/**
 * A scanner for one recipient key. The default backend does X25519 in
 * OpenSSL through node:crypto; 'noble' uses @noble/curves (pure JS, for
 * comparison and for runtimes without X25519 in node:crypto).
 * @throws CustodyError CUSTODY_BAD_KEY (field `recipientPrivate`) when the key is not 32 bytes
 */
export function makeScanner(recipientPrivate: Uint8Array, options: { backend?: 'node' | 'noble' } = {}): Scanner {
  const privateKey = x25519PrivateKeyObject(recipientPrivate, 'recipientPrivate');
  const recipientPublic = x25519RawPublic(privateKey);
  const sharedWith = options.backend === 'noble' ? nobleShared(recipientPrivate) : nodeShared(privateKey);
  const stats: ScanStats = { scanned: 0, viewTagPassed: 0, recognised: 0 };
  const scan = (a: StealthAnnouncement): Uint8Array | null => {
    stats.scanned++;
    try {
      if (!wellShaped(a)) return null;
      const shared = sharedWith(a.ephemeralPublic);
      if (viewTag(shared) !== a.viewTag) return null;
      stats.viewTagPassed++;
      if (!timingSafeEqual(stealthTag(shared, a.ephemeralPublic), a.tag)) return null;
      const { key, nonce } = payloadKey(shared, a.ephemeralPublic, recipientPublic);
      const at = a.sealedPayload.byteLength - GCM_TAG_BYTES;
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
      decipher.setAAD(a.tag);
      decipher.setAuthTag(a.sealedPayload.subarray(at));
      const payload = new Uint8Array(Buffer.concat([decipher.update(a.sealedPayload.subarray(0, at)), decipher.final()]));
      stats.recognised++;
      return payload;
    } catch {
      // low-order ephemeral key, failed authentication, anything else: not ours
      return null;
    }
  };
  return Object.assign(scan, { stats });
}

function nodeShared(privateKey: KeyObject): (ephemeralPublic: Uint8Array) => Uint8Array {
  return (ephemeralPublic) => x25519Shared(privateKey, x25519PublicKeyObject(ephemeralPublic));
}

function nobleShared(recipientPrivate: Uint8Array): (ephemeralPublic: Uint8Array) => Uint8Array {
  const own = Uint8Array.from(recipientPrivate);
  // noble throws on a low-order point (all-zero output), as OpenSSL does
  return (ephemeralPublic) => x25519.getSharedSecret(own, ephemeralPublic);
}

function wellShaped(a: StealthAnnouncement): boolean {
  return typeof a === 'object' && a !== null
    && a.ephemeralPublic instanceof Uint8Array && a.ephemeralPublic.byteLength === X25519_KEY_BYTES
    && Number.isInteger(a.viewTag) && a.viewTag >= 0 && a.viewTag <= 255
    && a.tag instanceof Uint8Array && a.tag.byteLength === TAG_BYTES
    && a.sealedPayload instanceof Uint8Array && a.sealedPayload.byteLength >= GCM_TAG_BYTES;
}

function viewTag(shared: Uint8Array): number {
  return createHash('sha256').update(VIEW_TAG_PREFIX).update(shared).digest()[0]!;
}

function stealthTag(shared: Uint8Array, ephemeralPublic: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(TAG_PREFIX).update(shared).update(ephemeralPublic).digest());
}

function payloadKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const info = Buffer.concat([PAYLOAD_INFO, ephemeralPublic, recipientPublic]);
  const okm = new Uint8Array(hkdfSync('sha256', shared, EMPTY, info, KEY_BYTES + NONCE_BYTES));
  return { key: okm.subarray(0, KEY_BYTES), nonce: okm.subarray(KEY_BYTES) };
}
