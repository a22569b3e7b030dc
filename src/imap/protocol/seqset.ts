// Sequence sets (RFC 3501 §9 sequence-set, §6.4.8 for UIDs): parsing
// "1:3,7,9:*", selecting from a mailbox's sorted numbers, and compressing a
// sorted list back to ranges for COPYUID (RFC 4315) and VANISHED (RFC 7162).
// The "$" of RFC 5182 is resolved by the caller before it gets here.
import { ImapParseError } from './errors.ts';

export type SeqRange = { start: number | '*'; end: number | '*' };

/** nz-number (RFC 3501 §9) is a 32-bit unsigned value without leading zeros. */
const MAX_NUMBER = 0xffffffff;
const NZ_NUMBER = /^[1-9]\d{0,9}$/;

function seqNumber(text: string, whole: string): number | '*' {
  if (text === '*') return '*';
  if (!NZ_NUMBER.test(text)) throw new ImapParseError(`Invalid sequence set: ${whole.slice(0, 60)}`);
  const n = Number(text);
  if (n > MAX_NUMBER) throw new ImapParseError(`Sequence number out of range: ${text}`);
  return n;
}

/** "1:3,7,*:4" -> ranges as written (not normalised, not merged).
 * @throws {ImapParseError} on empty parts, 0, leading zeros, numbers over 2^32-1 or stray characters */
export function parseSequenceSet(text: string): SeqRange[] {
  if (text.length === 0) throw new ImapParseError('Empty sequence set');
  const out: SeqRange[] = [];
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    if (colon === -1) {
      const n = seqNumber(part, text);
      out.push({ start: n, end: n });
    } else {
      out.push({ start: seqNumber(part.slice(0, colon), text), end: seqNumber(part.slice(colon + 1), text) });
    }
  }
  return out;
}

/** Ranges as ascending, non-overlapping [low, high] pairs, with "*" replaced by `star`. */
export function normaliseRanges(ranges: readonly SeqRange[], star: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = ranges.map((r) => {
    const a = r.start === '*' ? star : r.start;
    const b = r.end === '*' ? star : r.end;
    return a <= b ? [a, b] : [b, a];
  });
  pairs.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const p of pairs) {
    const last = merged[merged.length - 1];
    if (last && p[0] <= last[1] + 1) last[1] = Math.max(last[1], p[1]);
    else merged.push([p[0], p[1]]);
  }
  return merged;
}

/**
 * The members of `sorted` (ascending: sequence numbers 1..N or a mailbox's
 * UIDs) that the set names, ascending and without duplicates. `star` is what
 * "*" stands for: N, or the highest UID (so "10:*" names the last message
 * even when its UID is below 10, RFC 3501 §6.4.8). Cost: O(r log r + r log n + k).
 */
export function resolveSequenceSet(ranges: readonly SeqRange[], sorted: readonly number[], star: number): number[] {
  const out: number[] = [];
  for (const [lo, hi] of normaliseRanges(ranges, star)) {
    for (let i = lowerBound(sorted, lo); i < sorted.length && sorted[i]! <= hi; i++) out.push(sorted[i]!);
  }
  return out;
}

/** A membership test for one number, for callers that walk messages themselves. */
export function sequenceSetMatcher(ranges: readonly SeqRange[], star: number): (n: number) => boolean {
  const merged = normaliseRanges(ranges, star);
  return (n) => {
    let lo = 0;
    let hi = merged.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (merged[mid]![1] < n) lo = mid + 1;
      else hi = mid;
    }
    const r = merged[lo];
    return r !== undefined && r[0] <= n;
  };
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** [1,2,3,7,9,10] -> "1:3,7,9:10". Unsorted input is sorted first; duplicates collapse. */
export function formatSequenceSet(numbers: readonly number[]): string {
  let sorted = numbers;
  for (let i = 1; i < numbers.length; i++) {
    if (numbers[i]! < numbers[i - 1]!) {
      sorted = [...numbers].sort((a, b) => a - b);
      break;
    }
  }
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    i++;
    while (i < sorted.length && sorted[i]! <= end + 1) {
      end = Math.max(end, sorted[i]!);
      i++;
    }
    parts.push(start === end ? String(start) : `${start}:${end}`);
  }
  return parts.join(',');
}
