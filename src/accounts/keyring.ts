// The key ring: per account, the OpenPGP private key unlocked with the client
// password at login, and the 32-byte cache key that seals message bodies at
// rest (mailstore/body-cipher.ts). Both live only in this process's memory.
//
// The cache key is made at the account's first unlock and stored wrapped:
// OpenPGP-encrypted to the account's own public key and signed with its
// private key (RFC 4880 §5.13, §5.2). Encryption keeps it from anyone holding
// only the data directory; the signature keeps someone who can write the
// database from planting a key of their own choosing (the public key is
// public), which would let them read every body sealed afterwards.
// A password change with the old password keeps the key pair, so the wrapped
// cache key stays readable; a reset with a new key pair (forceNewKey) clears
// it, and bodies sealed under the old one can no longer be opened.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { decryptMessage, encryptMessage, unlockPrivateKey, type UnlockedKey } from '../crypto/pgp.ts';
import { SealpostError, UnreadableError } from '../errors/index.ts';
import type { Account, AccountId, MailStore } from '../mailstore/types.ts';

export const CACHE_KEY_BYTES = 32;

export type UnlockListener = (account: Account) => void;

export interface KeyRingOptions {
  store: Pick<MailStore, 'getSecrets' | 'getCacheKey' | 'initCacheKey'>;
  /** where listener failures are reported */
  logger?: Logger;
}

interface Unlocked {
  privateKey: UnlockedKey;
  cacheKey: Uint8Array;
}

export class KeyRing {
  readonly #store: KeyRingOptions['store'];
  readonly #log: Logger | undefined;
  readonly #unlocked = new Map<AccountId, Unlocked>();
  readonly #running = new Map<AccountId, Promise<void>>();
  /** bumped by forget(), so that an unlock still running when it was called does not store its result */
  readonly #generation = new Map<AccountId, number>();
  readonly #listeners = new Set<UnlockListener>();

  constructor(options: KeyRingOptions) {
    this.#store = options.store;
    this.#log = options.logger?.child({ part: 'keyring' });
  }

  /**
   * Unlocks the account's private key with its client password and loads (at
   * the first unlock ever: makes and stores) its cache key, then tells the
   * onUnlock listeners. Does nothing when already unlocked; concurrent calls
   * for one account share one unlock. The password is not checked against the
   * account's password hash here: call this after a successful login.
   * @throws AuthError AUTH_FAILED (the password does not unlock the key),
   *         PgpError PGP_BAD_KEY (stored key unreadable), UnreadableError (the
   *         stored cache key does not open with, or was not signed by, this key),
   *         NotFoundError (no such account)
   */
  async unlock(account: Account, password: string): Promise<void> {
    if (this.#unlocked.has(account.id)) return;
    const running = this.#running.get(account.id);
    if (running) return running;
    const generation = this.#generation.get(account.id) ?? 0;
    const work = this.#load(account, password).then((loaded) => {
      if ((this.#generation.get(account.id) ?? 0) !== generation) {
        loaded.cacheKey.fill(0);
        return;
      }
      this.#unlocked.set(account.id, loaded);
      this.#log?.info({ account: account.address }, 'account key unlocked');
      for (const listener of [...this.#listeners]) {
        try {
          listener(account);
        } catch (err) {
          this.#log?.error({ err, account: account.address }, 'BUG: unlock listener threw');
        }
      }
    }).finally(() => {
      if (this.#running.get(account.id) === work) this.#running.delete(account.id);
    });
    this.#running.set(account.id, work);
    return work;
  }

  /** the unlocked private key, or null while the account is locked */
  privateKey(accountId: AccountId): UnlockedKey | null {
    return this.#unlocked.get(accountId)?.privateKey ?? null;
  }

  /** the 32-byte body cache key (the ring's own copy: do not modify), or null while locked */
  cacheKey(accountId: AccountId): Uint8Array | null {
    return this.#unlocked.get(accountId)?.cacheKey ?? null;
  }

  isUnlocked(accountId: AccountId): boolean {
    return this.#unlocked.has(accountId);
  }

  /** `listener` is called after each account unlock (not on repeated unlocks); returns the unsubscribe function */
  onUnlock(listener: UnlockListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Locks the account again: its keys are dropped (the cache key zeroed), and an unlock still running is discarded. */
  forget(accountId: AccountId): void {
    this.#generation.set(accountId, (this.#generation.get(accountId) ?? 0) + 1);
    this.#unlocked.get(accountId)?.cacheKey.fill(0);
    this.#unlocked.delete(accountId);
    this.#running.delete(accountId);
  }

  async #load(account: Account, password: string): Promise<Unlocked> {
    const secrets = await this.#store.getSecrets(account.id);
    const privateKey = await unlockPrivateKey(secrets.privateKey, password);
    const stored = await this.#store.getCacheKey(account.id);
    if (stored !== null) return { privateKey, cacheKey: await unwrap(stored, privateKey, secrets.publicKey) };
    const fresh = new Uint8Array(randomBytes(CACHE_KEY_BYTES));
    const wrapped = await encryptMessage({ data: fresh, encryptionKeys: [secrets.publicKey], signingKey: privateKey });
    // Another process (the CLI, a second gateway on the same data) may have
    // stored one first: then that one is the account's key, not ours.
    const winner = await this.#store.initCacheKey(account.id, wrapped);
    if (Buffer.from(winner).equals(wrapped)) return { privateKey, cacheKey: fresh };
    fresh.fill(0);
    return { privateKey, cacheKey: await unwrap(winner, privateKey, secrets.publicKey) };
  }
}

/** Opens a wrapped cache key: it must decrypt with the account key and carry the account key's own signature. */
async function unwrap(wrapped: Uint8Array, privateKey: UnlockedKey, publicKey: string): Promise<Uint8Array> {
  const ownIds = new Set(privateKey.keyIds.map((id) => id.toUpperCase()));
  let opened: Awaited<ReturnType<typeof decryptMessage>>;
  try {
    opened = await decryptMessage({
      data: wrapped,
      decryptionKey: privateKey,
      findVerificationKey: async (keyId) => (ownIds.has(keyId.toUpperCase()) ? publicKey : null),
    });
  } catch (err) {
    if (err instanceof SealpostError) throw new UnreadableError(`the stored cache key does not decrypt with the account key (${err.code})`);
    throw err;
  }
  if (opened.signature.status !== 'valid' || opened.signature.fingerprint?.toUpperCase() !== privateKey.fingerprint.toUpperCase()) {
    opened.data.fill(0);
    throw new UnreadableError(`the stored cache key is not signed by the account key (${opened.signature.status})`);
  }
  if (opened.data.byteLength !== CACHE_KEY_BYTES) throw new UnreadableError('the stored cache key has the wrong length');
  return opened.data;
}
