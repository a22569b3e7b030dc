// OpenPGP sign+encrypt (crypto/pgp.ts encryptMessage) on a pool of worker
// threads, so that the gateway's main thread keeps serving SMTP, IMAP and
// storage while messages are sealed. Same input, output and PgpError codes as
// encryptMessage; the worker entry is crypto/pgp-worker.ts.
//
// Keys cross the thread boundary once: a worker is sent an account's
// decrypted signing key (exportUnlockedKey) the first time it signs with that
// fingerprint and keeps it (least recently used out; the pool tells it what to
// drop). Armored public keys (about 1 KB) go with each job; the worker's
// pgp.ts parses each text once and keeps the parsed key. Message bytes are
// copied once into a buffer that is then transferred, not cloned; ciphertext
// comes back transferred.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { SealpostError, ValidationError } from '../errors/index.ts';
import { exportUnlockedKey, PgpError, type PgpErrorCode, type UnlockedKey } from './pgp.ts';

export type PgpPoolErrorCode = 'PGP_POOL_CLOSED' | 'PGP_POOL_BUSY' | 'PGP_WORKER_FAILED';

/** The pool could not run a job: closed, its queue full, or the worker running it died. */
export class PgpPoolError extends SealpostError {
  constructor(code: PgpPoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PgpPoolError';
  }
}

export interface EncryptInput {
  data: Uint8Array;
  encryptionKeys: readonly string[];
  signingKey?: UnlockedKey;
  /** true: the caller hands `data` over (its buffer is transferred and detached
   *  when it is a buffer of its own); default false: `data` is copied */
  transfer?: boolean;
}

export interface PgpPoolOptions {
  /** worker threads; default max(1, availableParallelism − 1) */
  size?: number;
  /** jobs waiting for a worker before encrypt() refuses with PGP_POOL_BUSY; default 256 */
  maxQueue?: number;
  /** the worker script (tests wrap the real one); default crypto/pgp-worker.ts/.js beside this file */
  workerUrl?: URL;
}

export interface PgpPool {
  readonly size: number;
  /**
   * encryptMessage on a worker thread.
   * @throws PgpError PGP_BAD_KEY as encryptMessage does
   * @throws PgpPoolError PGP_POOL_CLOSED after close(), PGP_POOL_BUSY when the queue is full,
   *   PGP_WORKER_FAILED when the worker running the job died
   * @throws TypeError when signingKey was not made by pgp.ts
   */
  encrypt(input: EncryptInput): Promise<Uint8Array>;
  /**
   * Encrypts many messages (no signature) in as few jobs as there are
   * threads, each worker taking its share in one round trip: for imports,
   * where one message's work is short and a busy main thread would otherwise
   * leave workers waiting for their next job. Results in input order.
   * @throws as encrypt
   */
  encryptMany(inputs: ReadonlyArray<{ data: Uint8Array; encryptionKeys: readonly string[] }>): Promise<Uint8Array[]>;
  /** Refuses new jobs, lets queued and running ones finish, then ends the threads. */
  close(): Promise<void>;
}

// --- what crosses the thread boundary (pgp-worker.ts reads the same types) ---

export interface EncryptJob {
  id: number;
  data: Uint8Array;
  encryptionKeys: string[];
  /** fingerprint of the signing key, which the worker holds (or is given in `key`) */
  signingKey: string | null;
  /** the signing key's exportUnlockedKey bytes, the first time this worker sees it */
  key?: Uint8Array;
  /** fingerprints the worker drops before this job (evicted here) */
  forget: string[];
  /** more messages in the same job (encryptMany; never with a signing key), answered in `more` */
  more?: Array<{ data: Uint8Array; encryptionKeys: string[] }>;
}

export interface WireError {
  name: string;
  code: string | null;
  message: string;
  stack: string | undefined;
  fingerprint?: string;
}

export type JobResult = { id: number; ok: true; data: Uint8Array; more?: Uint8Array[] } | { id: number; ok: false; error: WireError };

/** A buffer that can go in a transferList as it is: all of its own ArrayBuffer. */
export function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** Turns an error from the worker back into the class the caller would have got inline. */
function revive(wire: WireError): Error {
  let error: Error;
  if (wire.name === 'PgpError' && wire.code !== null) {
    error = new PgpError(wire.code as PgpErrorCode, wire.message, wire.fingerprint === undefined ? undefined : { fingerprint: wire.fingerprint });
  } else if (wire.code !== null) {
    error = new SealpostError(wire.code, wire.message);
    error.name = wire.name;
  } else {
    error = new Error(wire.message);
    error.name = wire.name;
  }
  // The worker's stack says where it failed; this thread's would only show the message handler.
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

// ------------------------------------------------------------------------------

/**
 * Jobs a worker is given at once: one. A worker thread that dies while an
 * OpenPGP job's WebCrypto key generation is still in flight aborts the whole
 * process (Node's KeyGenJob asserts on the torn-down isolate, seen in CI), so
 * a worker never holds a second job that its death could catch mid-crypto;
 * the queued job goes to a replacement instead. The idle round trip this
 * costs is microseconds against milliseconds of signing and encrypting.
 */
const PER_WORKER = 1;
/** Signing keys a worker keeps (one per account that sends). */
const KEYS_PER_WORKER = 256;

interface Job {
  input: EncryptInput;
  /** further messages of an encryptMany share */
  more: ReadonlyArray<{ data: Uint8Array; encryptionKeys: readonly string[] }>;
  resolve(data: Uint8Array[]): void;
  reject(error: unknown): void;
}

interface Thread {
  worker: Worker;
  running: Map<number, Job>;
  /** fingerprints this worker holds, least recently used first */
  keys: Set<string>;
  gone: boolean;
}

/**
 * Ends a worker by letting its event loop run dry (it closes its port when
 * told to stop) rather than terminate(): tearing down a thread whose
 * WebCrypto work (OpenPGP.js keeps some running after a job resolves) is still
 * in flight aborts the whole process ("Assertion failed:
 * try_catch.CanContinue()", seen in the pool's tests). terminate() only if it
 * has not ended within 5 s.
 */
function stopGracefully(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate().then(() => resolve(), () => resolve()), 5000);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.ref();
    worker.postMessage({ stop: true });
  });
}

function defaultWorkerUrl(): URL {
  // Run from src/ (type stripping) the worker is .ts; from dist/ tsc emitted .js
  // and does not rewrite the extension inside this string.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./pgp-worker${ext}`, import.meta.url);
}

/**
 * Starts a pool; threads start on first use.
 * @throws ValidationError when size is not an integer >= 1 or maxQueue not one >= 0
 */
export function createPgpPool(options: PgpPoolOptions = {}): PgpPool {
  const size = options.size ?? Math.max(1, os.availableParallelism() - 1);
  const maxQueue = options.maxQueue ?? 256;
  if (!Number.isInteger(size) || size < 1) throw new ValidationError('size', `expected an integer >= 1, got ${size}`);
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new ValidationError('maxQueue', `expected an integer >= 0, got ${maxQueue}`);
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const threads: Thread[] = [];
  const queue: Job[] = [];
  let nextId = 1;
  let pending = 0;
  let closing: Promise<void> | null = null;
  let drained: (() => void) | null = null;

  const settle = (): void => {
    pending--;
    if (pending === 0 && drained !== null) drained();
  };

  function fail(thread: Thread, cause: unknown): void {
    if (thread.gone) return;
    thread.gone = true;
    threads.splice(threads.indexOf(thread), 1);
    const jobs = [...thread.running.values()];
    thread.running.clear();
    void thread.worker.terminate();
    for (const job of jobs) job.reject(new PgpPoolError('PGP_WORKER_FAILED', 'the OpenPGP worker thread running this job died', { cause }));
    // A replacement starts when a queued job needs it.
    dispatch();
  }

  function spawn(): Thread {
    const worker = new Worker(workerUrl);
    const thread: Thread = { worker, running: new Map(), keys: new Set(), gone: false };
    worker.on('message', (result: JobResult) => {
      const job = thread.running.get(result.id);
      if (job === undefined) return;
      thread.running.delete(result.id);
      if (thread.running.size === 0) worker.unref();
      if (result.ok) job.resolve([result.data, ...(result.more ?? [])]);
      else job.reject(revive(result.error));
      dispatch();
    });
    worker.on('error', (error) => fail(thread, error));
    // A reply that cannot be read would leave its job waiting forever.
    worker.on('messageerror', (error) => fail(thread, error));
    worker.on('exit', (code) => fail(thread, new Error(`worker exited with code ${code}`)));
    worker.unref();
    threads.push(thread);
    return thread;
  }

  function send(thread: Thread, job: Job): void {
    const { input } = job;
    const id = nextId++;
    const data = input.transfer === true && ownsBuffer(input.data) ? input.data : new Uint8Array(input.data);
    const transfer: ArrayBuffer[] = [data.buffer as ArrayBuffer];
    const message: EncryptJob = { id, data, encryptionKeys: [...input.encryptionKeys], signingKey: input.signingKey?.fingerprint ?? null, forget: [] };
    if (job.more.length > 0) {
      message.more = job.more.map((m) => {
        const copy = new Uint8Array(m.data);
        transfer.push(copy.buffer as ArrayBuffer);
        return { data: copy, encryptionKeys: [...m.encryptionKeys] };
      });
    }
    const fingerprint = input.signingKey?.fingerprint;
    const known = fingerprint !== undefined && thread.keys.has(fingerprint);
    if (input.signingKey !== undefined && !known) {
      message.key = exportUnlockedKey(input.signingKey);
      transfer.push(message.key.buffer as ArrayBuffer);
      let over = thread.keys.size + 1 - KEYS_PER_WORKER;
      for (const old of thread.keys) {
        if (over-- <= 0) break;
        message.forget.push(old);
      }
    }
    try {
      thread.worker.postMessage(message, transfer);
    } catch (error) {
      message.key?.fill(0);
      throw error;
    }
    // Only now that the worker has it: the key list mirrors what the worker holds.
    for (const old of message.forget) thread.keys.delete(old);
    if (fingerprint !== undefined) {
      thread.keys.delete(fingerprint);
      thread.keys.add(fingerprint); // most recently used last
    }
    thread.running.set(id, job);
    thread.worker.ref();
  }

  /** The thread for the next job: an idle one, else a new one while under `size`, else the least busy with room. */
  function pick(): Thread | undefined {
    let best: Thread | undefined;
    for (const t of threads) if (t.running.size < PER_WORKER && (best === undefined || t.running.size < best.running.size)) best = t;
    if ((best === undefined || best.running.size > 0) && threads.length < size) return spawn();
    return best;
  }

  function dispatch(): void {
    while (queue.length > 0) {
      let thread: Thread | undefined;
      try {
        thread = pick();
      } catch (cause) {
        queue.shift()?.reject(new PgpPoolError('PGP_WORKER_FAILED', 'cannot start an OpenPGP worker thread', { cause }));
        continue;
      }
      if (thread === undefined) return;
      const job = queue.shift() as Job;
      try {
        send(thread, job);
      } catch (error) {
        // Not the worker's fault (an UnlockedKey from elsewhere, a buffer that cannot move): this job only.
        job.reject(error);
      }
    }
  }

  return {
    size,
    encrypt(input) {
      if (closing !== null) return Promise.reject(new PgpPoolError('PGP_POOL_CLOSED', 'the OpenPGP worker pool is closed'));
      // Jobs wait in the queue only while every thread is busy (dispatch is immediate otherwise).
      if (queue.length >= maxQueue) {
        return Promise.reject(new PgpPoolError('PGP_POOL_BUSY', `the OpenPGP worker pool has ${queue.length} jobs waiting`));
      }
      pending++;
      return new Promise<Uint8Array>((resolve, reject) => {
        queue.push({ input, more: [], resolve: (data) => resolve(data[0] as Uint8Array), reject });
        dispatch();
      }).finally(settle);
    },
    async encryptMany(inputs) {
      if (inputs.length === 0) return [];
      if (closing !== null) throw new PgpPoolError('PGP_POOL_CLOSED', 'the OpenPGP worker pool is closed');
      if (queue.length >= maxQueue) throw new PgpPoolError('PGP_POOL_BUSY', `the OpenPGP worker pool has ${queue.length} jobs waiting`);
      const shares = Math.min(size, inputs.length);
      const per = Math.ceil(inputs.length / shares);
      const jobs: Array<Promise<Uint8Array[]>> = [];
      for (let at = 0; at < inputs.length; at += per) {
        const [first, ...rest] = inputs.slice(at, at + per) as [{ data: Uint8Array; encryptionKeys: readonly string[] }, ...Array<{ data: Uint8Array; encryptionKeys: readonly string[] }>];
        pending++;
        jobs.push(new Promise<Uint8Array[]>((resolve, reject) => {
          queue.push({ input: first, more: rest, resolve, reject });
          dispatch();
        }).finally(settle));
      }
      return (await Promise.all(jobs)).flat();
    },
    close() {
      closing ??= (async () => {
        if (pending > 0) await new Promise<void>((resolve) => (drained = resolve));
        const all = threads.splice(0);
        for (const thread of all) thread.gone = true;
        await Promise.all(all.map((t) => stopGracefully(t.worker)));
      })();
      return closing;
    },
  };
}
