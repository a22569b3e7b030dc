// Failed-login throttling shared by SMTP AUTH and IMAP LOGIN/AUTHENTICATE:
// after too many failures within a window for one user name, or from one
// remote address, further attempts are refused for a lockout period
// (a defence against online guessing, RFC 4954 §4 / RFC 3501 §11.1 leave the
// policy to the server).
export interface ThrottleOptions {
  maxFailuresPerUser: number;
  maxFailuresPerRemote: number;
  windowMs: number;
  lockoutMs: number;
  now?: () => number;
}

interface Entry {
  /** times of recent failures, oldest first */
  failures: number[];
  lockedUntil: number;
}

/** Above this many tracked keys, stale entries are swept (bounds memory under a spray attack). */
const SWEEP_AT = 10_000;

export class LoginThrottle {
  readonly #options: ThrottleOptions;
  readonly #now: () => number;
  readonly #users = new Map<string, Entry>();
  readonly #remotes = new Map<string, Entry>();

  constructor(options: ThrottleOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** True when this user or this remote address is currently locked out. */
  isThrottled(user: string, remote: string): boolean {
    const now = this.#now();
    return (this.#users.get(user)?.lockedUntil ?? 0) > now || (this.#remotes.get(remote)?.lockedUntil ?? 0) > now;
  }

  recordFailure(user: string, remote: string): void {
    const now = this.#now();
    this.#bump(this.#users, user, this.#options.maxFailuresPerUser, now);
    this.#bump(this.#remotes, remote, this.#options.maxFailuresPerRemote, now);
  }

  /** A successful login clears the user's failures (not the address's: one good account must not launder guesses at others). */
  recordSuccess(user: string): void {
    this.#users.delete(user);
  }

  #bump(map: Map<string, Entry>, key: string, max: number, now: number): void {
    if (map.size >= SWEEP_AT) this.#sweep(map, now);
    const entry = map.get(key) ?? { failures: [], lockedUntil: 0 };
    const since = now - this.#options.windowMs;
    entry.failures = entry.failures.filter((t) => t > since);
    entry.failures.push(now);
    if (entry.failures.length >= max) {
      entry.lockedUntil = now + this.#options.lockoutMs;
      entry.failures = [];
    }
    map.set(key, entry);
  }

  #sweep(map: Map<string, Entry>, now: number): void {
    const since = now - this.#options.windowMs;
    for (const [key, entry] of map) {
      if (entry.lockedUntil <= now && entry.failures.every((t) => t <= since)) map.delete(key);
    }
  }
}
