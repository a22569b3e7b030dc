// Message bodies sealed at rest: AES-256-GCM (NIST SP 800-38D) under the
// account's 32-byte cache key (accounts/keyring.ts), so nothing on disk outside
// the store's index (header, structure, envelope, search text) holds a message
// in clear. Format: "SPB1" | 12-byte random nonce | ciphertext | 16-byte tag.
// The additional authenticated data is the account id, so a body row moved to
// another account's message fails to open instead of showing up there.
//
// Rows written before sealing existed have no magic and are returned as they
// are. (Only an old clear message whose first header field is named exactly
// "SPB1" would be taken for a sealed one, and then fail to open.)
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { LockedError, UnreadableError } from '../errors/index.ts';
import type { AccountId } from './types.ts';

export const BODY_MAGIC = new Uint8Array([0x53, 0x50, 0x42, 0x31]); // "SPB1"
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const OVERHEAD = BODY_MAGIC.byteLength + NONCE_BYTES + TAG_BYTES;

/** Seals and opens message bodies per account. Synchronous: it runs inside store transactions. */
export interface BodyCipher {
  /**
   * @throws LockedError when the account's cache key is not available
   */
  seal(accountId: AccountId, plain: Uint8Array): Uint8Array;
  /**
   * Opens a sealed body; data without the magic (written before sealing) is returned unchanged.
   * @throws LockedError when the account's cache key is not available,
   *         UnreadableError when the data does not open with it (tampered, another account's, replaced key)
   */
  open(accountId: AccountId, sealed: Uint8Array): Uint8Array;
}

/** Where the cache keys come from (the key ring); null while the account is locked. */
export interface CacheKeySource {
  cacheKey(accountId: AccountId): Uint8Array | null;
}

/** True when `data` carries the sealed-body magic. */
export function isSealed(data: Uint8Array): boolean {
  return data.byteLength >= BODY_MAGIC.byteLength && BODY_MAGIC.every((b, i) => data[i] === b);
}

const aad = (accountId: AccountId): Buffer => Buffer.from(String(accountId), 'ascii');

/** AES-256-GCM body cipher over the given key source. */
export function createBodyCipher(keys: CacheKeySource): BodyCipher {
  // A raw key makes Node build a KeyObject on every createCipheriv (about 20 µs,
  // 12% of a whole-mailbox download); one per key buffer instead. Keyed weakly on
  // the key source's buffer, so it goes when the key ring forgets the key.
  const keyObjects = new WeakMap<Uint8Array, KeyObject>();
  const keyOf = (accountId: AccountId): KeyObject => {
    const key = keys.cacheKey(accountId);
    if (key === null) throw new LockedError();
    // A wrong-sized key is a programming error in the key source, never user input.
    if (key.byteLength !== KEY_BYTES) throw new Error(`cache key of account ${accountId} has ${key.byteLength} bytes, expected ${KEY_BYTES}`);
    let keyObject = keyObjects.get(key);
    if (keyObject === undefined) {
      keyObject = createSecretKey(key);
      keyObjects.set(key, keyObject);
    }
    return keyObject;
  };
  return {
    seal(accountId, plain) {
      const key = keyOf(accountId);
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(accountId));
      const out = new Uint8Array(OVERHEAD + plain.byteLength);
      out.set(BODY_MAGIC, 0);
      out.set(nonce, BODY_MAGIC.byteLength);
      let at = BODY_MAGIC.byteLength + NONCE_BYTES;
      const head = cipher.update(plain);
      out.set(head, at);
      at += head.byteLength;
      const tail = cipher.final();
      out.set(tail, at);
      at += tail.byteLength;
      out.set(cipher.getAuthTag(), at);
      return out;
    },
    open(accountId, sealed) {
      if (!isSealed(sealed)) return sealed;
      const key = keyOf(accountId);
      if (sealed.byteLength < OVERHEAD) throw new UnreadableError('sealed message body is truncated');
      const nonce = sealed.subarray(BODY_MAGIC.byteLength, BODY_MAGIC.byteLength + NONCE_BYTES);
      const body = sealed.subarray(BODY_MAGIC.byteLength + NONCE_BYTES, sealed.byteLength - TAG_BYTES);
      const tag = sealed.subarray(sealed.byteLength - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(accountId));
      decipher.setAuthTag(tag);
      try {
        const head = decipher.update(body);
        const tail = decipher.final();
        // GCM is a stream mode: final() gives nothing more, so no second copy of the body.
        if (tail.byteLength === 0) return new Uint8Array(head.buffer, head.byteOffset, head.byteLength);
        const out = new Uint8Array(head.byteLength + tail.byteLength);
        out.set(head, 0);
        out.set(tail, head.byteLength);
        return out;
      } catch {
        throw new UnreadableError("message body does not open with this account's key");
      }
    },
  };
}
