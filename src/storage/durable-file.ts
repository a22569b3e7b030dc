// Crash-safe file writes for the on-disk stores: write a temporary file,
// fdatasync it, rename it over the target, then fsync the directory so the
// new name itself survives a power cut. blockstore-fs and datastore-fs write
// through `steno`, which renames without any fsync, so a block could be lost
// (or left empty under its final name) after an SMTP 250; storage/helia.ts
// routes their writes through here instead.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Directories whose fsync the surrounding `withDirSyncBatch` will do. */
const batch = new AsyncLocalStorage<Set<string>>();

/**
 * Runs `fn`, deferring the directory fsyncs of the writes it makes to its
 * end, where they run in parallel: a `put` writes a block and two pin
 * records one after another, and their directories then cost one journal
 * commit instead of three. Content is still synced before each rename, so a
 * crash never leaves a short file under its final name. When the promise
 * resolves, every write made inside is durable.
 */
export async function withDirSyncBatch<T>(fn: () => Promise<T>): Promise<T> {
  const dirs = new Set<string>();
  const result = await batch.run(dirs, fn);
  await Promise.all([...dirs].map(syncDir));
  return result;
}

let sequence = 0;

/**
 * Writes `bytes` to `file` atomically and durably: when the promise resolves
 * the content and the directory entry are on stable storage. Missing parent
 * directories are created (and their own entries synced).
 * @throws the underlying fs error (ENOSPC, EACCES, …)
 */
export async function writeFileDurable(file: string, bytes: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  // A unique temporary name per write: two writers of the same block must not
  // share a temporary file (steno's fixed `.name.tmp` can collide).
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++sequence}.tmp`);
  const handle = await open(tmp, 'wx', 0o600).catch(async (err: unknown) => {
    // The directory was removed behind our back since we last saw it: once more.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !known.delete(dir)) throw err;
    await ensureDir(dir);
    return open(tmp, 'wx', 0o600);
  });
  try {
    await handle.writeFile(bytes);
    await handle.datasync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const deferred = batch.getStore();
  if (deferred !== undefined) deferred.add(dir);
  else await syncDir(dir);
}

const known = new Set<string>();

/** mkdir -p, then fsync the parent of every directory that was created. */
async function ensureDir(dir: string): Promise<void> {
  if (known.has(dir)) return;
  const first = await mkdir(dir, { recursive: true });
  if (first !== undefined) {
    // `first` is the top-most new directory; every new one needs its entry synced.
    for (let d = dir; ; d = path.dirname(d)) {
      await syncDir(path.dirname(d));
      if (d === first || path.dirname(d) === d) break;
    }
  }
  known.add(dir);
}

interface DirSync {
  /** the fsync now running */
  running: Promise<void>;
  /** one more fsync, started when `running` ends, shared by all who asked meanwhile */
  next: Promise<void> | null;
}
const syncs = new Map<string, DirSync>();

/**
 * fsyncs a directory. Concurrent callers share fsyncs: a caller that arrives
 * while one is running waits for the next one (which covers its rename), so
 * N parallel writes into one directory cost about two fsyncs, not N.
 */
export function syncDir(dir: string): Promise<void> {
  const state = syncs.get(dir);
  if (state === undefined) {
    const entry: DirSync = { running: fsyncPath(dir), next: null };
    syncs.set(dir, entry);
    const settle = (): void => {
      if (entry.next === null) syncs.delete(dir);
    };
    entry.running.then(settle, settle);
    return entry.running;
  }
  if (state.next === null) {
    const after = (): Promise<void> => {
      const next = fsyncPath(dir);
      state.running = next;
      state.next = null;
      const settle = (): void => {
        if (state.next === null && syncs.get(dir) === state) syncs.delete(dir);
      };
      next.then(settle, settle);
      return next;
    };
    state.next = state.running.then(after, after);
  }
  return state.next;
}

async function fsyncPath(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
