// Small concurrency tools of the replica service (service.ts): a deadline
// signal whose timer is cleared when done, waiting on work without cancelling
// it, a counting semaphore whose waits can be abandoned (fetches in flight),
// and a per-key lock (one CID's pin and unpin never interleave).

/** Runs `fn` with a signal that aborts after `ms` or with `outer`; the timer is cleared when done. */
export async function withDeadline<T>(ms: number, outer: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new DOMException('fetch wait is over', 'TimeoutError')), ms);
  try {
    return await fn(AbortSignal.any([timeout.signal, outer]));
  } finally {
    clearTimeout(timer);
  }
}

/** `work`'s result, or `onAbort` as soon as `signal` aborts (the work goes on). */
export function untilAborted<T, U>(work: Promise<T>, signal: AbortSignal, onAbort: U): Promise<T | U> {
  if (signal.aborted) return Promise.resolve(onAbort);
  return new Promise<T | U>((resolve, reject) => {
    const abort = (): void => resolve(onAbort);
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** A counting semaphore whose waits can be abandoned. */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = Math.max(1, Math.floor(size));
  }

  /** Resolves with the release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.#releaser());
      };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(grant);
        if (i !== -1) this.#waiting.splice(i, 1);
        reject(signal.reason);
      };
      this.#waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#free++;
      else next();
    };
  }
}

/** Mutual exclusion per key; several keys are taken in sorted order, so two holders of many never wait on each other in a cycle. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquire(key));
      return await fn();
    } finally {
      for (const release of releases) release();
    }
  }

  #acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => { release = resolve; });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return previous.then(() => release);
  }
}
