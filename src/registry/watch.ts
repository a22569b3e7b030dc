// Watching the announcement board by polling scanAnnouncements, the same way
// for every backend (a SQLite file written by other processes and an EVM
// chain both have to be asked). Entries reach the listener in order, one at a
// time; a listener that throws is reported and its entry skipped.
import type { AnnouncementCursor, AnnouncementListener, AnnouncementPage, WatchOptions } from './types.ts';

/** What a watcher needs from a registry. */
export interface WatchSource {
  scanAnnouncements(cursor: AnnouncementCursor | null, limit: number): Promise<AnnouncementPage>;
  announcementHead(): Promise<AnnouncementCursor>;
}

/** Entries per scan while catching up. */
const PAGE = 500;

/** A set of watchers that close() stops together. */
export class Watchers {
  readonly #stops = new Set<() => void>();
  readonly #source: WatchSource;
  readonly #defaultIntervalMs: number;

  constructor(source: WatchSource, defaultIntervalMs: number) {
    this.#source = source;
    this.#defaultIntervalMs = defaultIntervalMs;
  }

  /** Starts a watcher; returns its stop function. */
  add(listener: AnnouncementListener, options: WatchOptions = {}): () => void {
    const stop = watchAnnouncements(this.#source, listener, { intervalMs: this.#defaultIntervalMs, ...options });
    const remove = () => {
      this.#stops.delete(remove);
      stop();
    };
    this.#stops.add(remove);
    return remove;
  }

  stopAll(): void {
    for (const stop of [...this.#stops]) stop();
  }
}

/**
 * Polls `source` and calls `listener` for every announcement after the
 * starting point (see WatchOptions.from). Returns the stop function.
 */
export function watchAnnouncements(source: WatchSource, listener: AnnouncementListener, options: WatchOptions = {}): () => void {
  const intervalMs = options.intervalMs ?? 1_000;
  const report = options.onError ?? (() => undefined);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  const run = async () => {
    let cursor: AnnouncementCursor | null | undefined = options.from;
    while (!stopped) {
      try {
        if (cursor === undefined) cursor = await source.announcementHead();
        const page = await source.scanAnnouncements(cursor, PAGE);
        for (const entry of page.entries) {
          if (stopped) return;
          try {
            await listener(entry);
          } catch (error) {
            report(error);
          }
          cursor = entry.cursor;
        }
        cursor = page.next;
        if (page.entries.length === PAGE) continue; // more are waiting: no pause while catching up
      } catch (error) {
        if (stopped) return;
        report(error);
      }
      if (!stopped) await sleep(intervalMs);
    }
  };
  void run().catch(() => undefined); // only an onError that throws gets here

  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    wake?.();
  };
}
