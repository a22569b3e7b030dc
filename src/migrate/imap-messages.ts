// Message-level helpers of the IMAP reader (imap-source.ts), kept free of
// imapflow: the download plan (UID FETCH chunks bounded by count and bytes,
// RFC 3501 §6.4.8), UID sets in sequence-set syntax (RFC 3501 §9), and the
// flags a FETCH reports made into a SourceMessage's flags (RFC 3501 §2.3.2).
import { normalizeFlags, SYSTEM_FLAGS } from '../mailstore/flags.ts';
import { isKeyword } from './flags.ts';

/** A message still to download: its UID and RFC822.SIZE. */
export interface Wanted {
  uid: number;
  size: number;
}

/**
 * Cuts `wanted` (in UID order) into chunks of at most `maxCount` messages and
 * `maxBytes` bytes; a message larger than `maxBytes` makes a chunk of its own.
 * So a chunk held in memory is at most max(maxBytes, the largest message).
 */
export function planChunks(wanted: readonly Wanted[], maxCount: number, maxBytes: number): Wanted[][] {
  const chunks: Wanted[][] = [];
  let chunk: Wanted[] = [];
  let bytes = 0;
  for (const w of wanted) {
    if (chunk.length > 0 && (chunk.length >= maxCount || bytes + w.size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(w);
    bytes += w.size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Ascending UIDs as a sequence set: [1,2,3,7,9,10] -> "1:3,7,9:10". */
export function uidSet(uids: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < uids.length) {
    const start = uids[i]!;
    let end = start;
    while (i + 1 < uids.length && uids[i + 1] === end + 1) end = uids[++i]!;
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}

const SYSTEM = new Map<string, string>(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/**
 * The flags of a FETCH FLAGS answer as a SourceMessage keeps them: the five
 * system flags canonical, keywords that are atoms; \Recent (session state),
 * other "\" flags and keywords that are not atoms are dropped.
 */
export function sourceFlags(flags: Iterable<string> | undefined): string[] {
  const out: string[] = [];
  for (const flag of flags ?? []) {
    if (flag.startsWith('\\')) {
      const system = SYSTEM.get(flag.toLowerCase());
      if (system !== undefined) out.push(system);
    } else if (isKeyword(flag)) {
      out.push(flag);
    }
  }
  return normalizeFlags(out);
}
