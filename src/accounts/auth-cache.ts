// Remembers recent successful logins so that a client's reconnects (Thunderbird
// opens up to five IMAP connections and reopens them all day) do not each pay
// a full scrypt (~60 ms of CPU and 32 MiB of memory). This is Dovecot's
// auth_cache idea. What is kept is an HMAC of the password under a key that
// exists only in this process's memory, never the password; an entry is only
// used while the stored hash is the one it was verified against, so a password
// change (even from another process) invalidates it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

interface Entry {
  storedHash: string;
  mac: Buffer;
  expires: number;
}

export class AuthCache {
  readonly #key = randomBytes(32);
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  #mac(user: string, password: string): Buffer {
    return createHmac('sha256', this.#key).update(user).update('\0').update(password.normalize('NFC')).digest();
  }

  /** true when this user logged in with this password against this stored hash recently */
  matches(user: string, password: string, storedHash: string): boolean {
    const e = this.#entries.get(user);
    if (!e || e.storedHash !== storedHash || e.expires < this.#now()) return false;
    return timingSafeEqual(e.mac, this.#mac(user, password));
  }

  remember(user: string, password: string, storedHash: string): void {
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(user, { storedHash, mac: this.#mac(user, password), expires: this.#now() + this.#ttlMs });
  }

  forget(user: string): void {
    this.#entries.delete(user);
  }
}
