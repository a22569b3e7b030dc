// Dates a migration source gives a message: the RFC 5322 §3.3 date-time of a
// Date: header (with the §4.3 obsolete forms: two-digit years, named zones,
// comments) and the asctime(3) timestamp of an mbox "From " line (RFC 4155;
// mbox(5): "weekday month day time [timezone] year", UTC when no zone).
// Unlike Date.parse, nothing here guesses: text that is not a date is null.
import { splitHeader } from '../mime/headers.ts';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// Named zones in minutes east of UTC: RFC 5322 §4.3 plus the European ones
// mbox writers put in From lines. Military letters and unknown names count as
// UTC, as §4.3 says of the former.
const ZONES: Readonly<Record<string, number>> = {
  ut: 0, utc: 0, gmt: 0, z: 0,
  est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
  wet: 0, west: 60, bst: 60, cet: 60, cest: 120, met: 60, mest: 120, eet: 120, eest: 180, jst: 540,
};

function daysInMonth(y: number, m: number): number {
  if (m === 1) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m]!;
}

/** Minutes east of UTC for "+0100", "-0000", "CET", "CET DST"; null for a bad numeric zone. */
function zoneMinutes(zone: string | undefined): number | null {
  if (zone === undefined) return 0;
  const numeric = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  if (numeric) {
    const h = Number(numeric[2]);
    const m = Number(numeric[3]);
    if (h > 23 || m > 59) return null;
    return (numeric[1] === '-' ? -1 : 1) * (h * 60 + m);
  }
  const [name = '', dst] = zone.toLowerCase().split(/\s+/);
  return (ZONES[name] ?? 0) + (dst === 'dst' ? 60 : 0);
}

function fullYear(text: string, twoDigitPivot: number): number {
  const y = Number(text);
  if (text.length === 2) return y < twoDigitPivot ? 2000 + y : 1900 + y;
  if (text.length === 3) return 1900 + y; // RFC 5322 §4.3
  return y;
}

function instant(y: number, monthName: string, d: number, hh: number, mm: number, ss: number, offset: number | null): Date | null {
  const m = MONTHS.indexOf(monthName.slice(0, 3).toLowerCase());
  if (m < 0 || offset === null || d < 1 || d > daysInMonth(y, m) || hh > 23 || mm > 59 || ss > 60) return null;
  const date = new Date(Date.UTC(2000, m, d, hh, mm, Math.min(ss, 59)));
  date.setUTCFullYear(y); // Date.UTC maps years 0-99 to 1900-1999
  return new Date(date.getTime() - offset * 60_000);
}

function stripComments(s: string): string {
  let out = s;
  // Innermost comments first, so nested ones go too.
  for (let before = ''; before !== out;) {
    before = out;
    out = out.replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
  }
  return out;
}

const RFC5322 = /^(?:[a-z]{3,9}\s*,?\s*)?(\d{1,2})\s+([a-z]{3,9})\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?(?:\s+([+-]\d{4}|[a-z]{1,5}))?$/i;

/** A Date: header's value as an instant, or null when it is not an RFC 5322
 *  date-time. A missing zone counts as UTC. */
export function parseRfc5322Date(value: string): Date | null {
  const f = RFC5322.exec(stripComments(value).trim());
  if (!f) return null;
  return instant(fullYear(f[3]!, 50), f[2]!, Number(f[1]), Number(f[4]), Number(f[5]), Number(f[6] ?? 0), zoneMinutes(f[7]));
}

const ASCTIME = /(?:^|\s)(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+([a-z]{3})[a-z]*\s+(\d{1,2})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s+(?:([+-]\d{4}|[a-z]{1,5}(?:\s+dst)?)\s+)?(\d{4}|\d{2})(?:\s+([+-]\d{4}))?(?=\s|$)/i;

/** The timestamp of an mbox "From " line ("From a@b Thu Jan  2 10:00:00 2020"),
 *  or null when the line holds none. Without a zone the time is UTC (RFC 4155). */
export function parseFromLineDate(line: string): Date | null {
  const f = ASCTIME.exec(line);
  if (!f) return null;
  // mbox(5): two-digit years from 70 are 19xx, below 70 are 20xx.
  return instant(fullYear(f[7]!, 70), f[1]!, Number(f[2]), Number(f[3]), Number(f[4]), Number(f[5] ?? 0), zoneMinutes(f[8] ?? f[6]));
}

/** The instant of the first Date: field of a header block, or null. */
export function headerDate(header: Uint8Array): Date | null {
  for (const field of splitHeader(header)) {
    if (field.lowerName === 'date') return parseRfc5322Date(field.value);
  }
  return null;
}
