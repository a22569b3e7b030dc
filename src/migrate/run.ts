// Runs an import: reads each source folder (migrate/ readers, or the IMAP
// source), leaves out what the target has imported already, and hands the
// rest to the target in batches (bounded by count and bytes, so memory stays
// flat whatever the mailbox's size), reading the next batch while the last
// one is sealed. The target is the process that owns the data directory
// (import-node.ts): the running gateway over the control socket, or this
// process. Batches keep the source's order within a folder, so UIDs do too.
import type { FolderTarget, ImportItem, ImportOutcome } from '../pipeline/import.ts';
import type { SourceMessage } from './types.ts';

/** Where an import goes; bound to one account. */
export interface ImportTarget {
  /** the Sealpost folder for this source folder (found or created) */
  folder(target: FolderTarget): Promise<string>;
  known(sources: readonly string[]): Promise<Set<string>>;
  importBatch(items: readonly ImportItem[]): Promise<ImportOutcome[]>;
}

/** One source folder: where it goes and its messages. */
export interface FolderSource {
  target: FolderTarget;
  messages: AsyncIterable<SourceMessage>;
  /** how many messages it holds, when the source knows (for the ETA) */
  count?: number | null;
}

export interface ImportProgress {
  /** the Sealpost folder being filled */
  folder: string;
  imported: number;
  /** already imported before (a re-run) */
  known: number;
  /** bytes of messages imported */
  bytes: number;
  /** messages the sources announced, null when unknown */
  total: number | null;
  startedAt: number;
}

export interface ImportSummary extends ImportProgress {
  folders: string[];
  elapsedMs: number;
}

export interface RunImportOptions {
  onProgress?: (progress: ImportProgress) => void;
  /** messages per batch (default 256: fewer, larger commits; measured best on 2 cores) */
  batchMessages?: number;
  /** bytes per batch (default 16 MiB; a larger message goes alone) */
  batchBytes?: number;
  /** batches sent before the first is answered (default 2; 1 for a target that must see them one by one) */
  parallel?: number;
  /** stops between batches (Ctrl-C): what was committed stays, a re-run finishes */
  signal?: AbortSignal;
  /** total messages across every folder, when known before reading */
  total?: number | null;
  now?: () => number;
}

export async function runImport(target: ImportTarget, folders: Iterable<FolderSource> | AsyncIterable<FolderSource>, options: RunImportOptions = {}): Promise<ImportSummary> {
  const now = options.now ?? Date.now;
  const maxCount = options.batchMessages ?? 256;
  const maxBytes = options.batchBytes ?? 16 * 1024 * 1024;
  const progress: ImportProgress = { folder: '', imported: 0, known: 0, bytes: 0, total: options.total ?? null, startedAt: now() };
  const done: string[] = [];
  const report = (): void => options.onProgress?.({ ...progress });

  // Up to `parallel` batches in flight: the target seals them concurrently and
  // commits them in the order they were sent (pipeline/import.ts).
  const parallel = Math.max(1, options.parallel ?? 2);
  const inFlight: Array<Promise<void>> = [];
  const send = async (items: ImportItem[]): Promise<void> => {
    if (items.length === 0) return;
    const known = await target.known(items.map((i) => i.source));
    const fresh = items.filter((i) => !known.has(i.source));
    progress.known += items.length - fresh.length;
    if (fresh.length === 0) {
      report();
      return;
    }
    const batch = target.importBatch(fresh).then((outcomes) => {
      outcomes.forEach((o, i) => {
        if (o === 'imported') {
          progress.imported++;
          progress.bytes += (fresh[i] as ImportItem).raw.byteLength;
        } else progress.known++;
      });
      report();
    });
    // Failures surface when awaited below, not as an unhandled rejection while reading.
    batch.catch(() => undefined);
    inFlight.push(batch);
    // Back-pressure: read on only while fewer than `parallel` batches wait.
    while (inFlight.length >= parallel) await inFlight.shift();
  };

  for await (const source of folders) {
    if (options.signal?.aborted) break;
    const folder = await target.folder(source.target);
    progress.folder = folder;
    done.push(folder);
    report();
    let batch: ImportItem[] = [];
    let batchSize = 0;
    for await (const message of source.messages) {
      if (batch.length > 0 && (batch.length >= maxCount || batchSize + message.size > maxBytes)) {
        await send(batch);
        batch = [];
        batchSize = 0;
        if (options.signal?.aborted) break;
      }
      batch.push({ folder, raw: message.raw, flags: message.flags, internalDate: message.internalDate, source: message.sourceId });
      batchSize += message.size;
    }
    if (!options.signal?.aborted) await send(batch);
  }
  while (inFlight.length > 0) await inFlight.shift();
  return { ...progress, folders: done, elapsedMs: now() - progress.startedAt };
}
