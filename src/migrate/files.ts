// File helpers shared by the migration readers: reading one message file with
// a size bound, CRLF normalisation (RFC 5322 §2.1) that does not keep slack
// memory, the size-option check, and the skip-or-throw rule of `onSkip`.
import fs from 'node:fs/promises';
import { ValidationError } from '../errors/index.ts';
import { normalizeCrlf } from '../mime/normalize.ts';
import { fsError, MigrateError } from './errors.ts';
import { DEFAULT_MAX_MESSAGE_SIZE, type SourceOptions } from './types.ts';

/** The maxMessageSize option, checked.
 * @throws {ValidationError} (field "maxMessageSize") unless a positive safe integer */
export function maxMessageSize(options: SourceOptions): number {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isSafeInteger(max) || max < 1) throw new ValidationError('maxMessageSize', 'must be a positive integer');
  return max;
}

/** Hands a per-message error to `onSkip`, or throws it when there is none.
 * @throws {MigrateError} `error`, when options.onSkip is not set */
export function skipOrThrow(error: MigrateError, options: SourceOptions): void {
  if (options.onSkip === undefined) throw error;
  options.onSkip(error);
}

/** Every line ending made CRLF. normalizeCrlf may return a view into a buffer
 *  twice the size; a message kept by the importer should not pin that slack. */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  const out = normalizeCrlf(bytes);
  return out.byteLength < out.buffer.byteLength * 0.75 ? out.slice() : out;
}

export interface MessageFile {
  /** CRLF-normalised bytes */
  raw: Uint8Array;
  mtime: Date;
}

/**
 * Reads one message file whole (a message is the unit the importer handles),
 * refusing it before reading when it is larger than `max`.
 * @throws {MigrateError} MIGRATE_NOT_FOUND, MIGRATE_UNREADABLE (also for a
 *   directory), MIGRATE_TOO_LARGE (before or after CRLF normalisation)
 */
export async function readMessageFile(file: string, max: number): Promise<MessageFile> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw fsError(err, file);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new MigrateError('MIGRATE_UNREADABLE', file, null, `${file}: not a regular file`);
    if (stat.size > max) throw tooLarge(file, null, stat.size, max);
    // Read what stat announced, no more: a file that grows meanwhile is cut, not overrun.
    const bytes = Buffer.allocUnsafe(stat.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const raw = toCrlf(bytes.subarray(0, filled));
    if (raw.byteLength > max) throw tooLarge(file, null, raw.byteLength, max);
    return { raw, mtime: stat.mtime };
  } catch (err) {
    throw fsError(err, file);
  } finally {
    await handle.close();
  }
}

/** MIGRATE_TOO_LARGE for a message of (at least) `size` bytes. */
export function tooLarge(file: string, offset: number | null, size: number, max: number): MigrateError {
  const where = offset === null ? file : `${file} at byte ${offset}`;
  return new MigrateError('MIGRATE_TOO_LARGE', file, offset, `${where}: message of ${size} bytes or more exceeds the limit of ${max}`);
}
