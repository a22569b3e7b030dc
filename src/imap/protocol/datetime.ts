// IMAP dates (RFC 3501 §9): date-time for INTERNALDATE and APPEND
// ("17-Jul-1996 02:44:25 -0700") and the bare date of SEARCH BEFORE/ON/SINCE
// ("1-Feb-1994"). Months are English abbreviations, case-insensitive on input.
import { ImapParseError } from './errors.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i]));

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** INTERNALDATE text in UTC, without the quotes: "07-Jul-1996 09:44:25 +0000". */
export function formatInternalDate(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new RangeError('formatInternalDate: invalid Date');
  const year = String(d.getUTCFullYear()).padStart(4, '0');
  return `${pad2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${year} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
}

// date-day-fixed is (SP DIGIT) / 2DIGIT; one digit alone is tolerated, clients send it.
const DATE_TIME = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const DATE = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/;

function checkedDay(day: string, month: string, year: string, text: string): { y: number; m: number; d: number } {
  const m = MONTH_INDEX.get(month.toLowerCase());
  const y = Number(year);
  const d = Number(day);
  if (m === undefined) throw new ImapParseError(`Invalid month in date: ${text.slice(0, 40)}`);
  if (d < 1 || d > daysInMonth(y, m)) throw new ImapParseError(`Invalid day in date: ${text.slice(0, 40)}`);
  return { y, m, d };
}

function daysInMonth(y: number, m: number): number {
  if (m === 1) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m]!;
}

function utcMidnight(y: number, m: number, d: number): Date {
  const date = new Date(Date.UTC(2000, m, d));
  date.setUTCFullYear(y); // Date.UTC maps years 0-99 to 1900-1999
  return date;
}

/** APPEND's date-time (without quotes) as an instant.
 * @throws {ImapParseError} on bad syntax or out-of-range fields */
export function parseDateTime(text: string): Date {
  const f = DATE_TIME.exec(text);
  if (!f) throw new ImapParseError(`Invalid date-time: ${text.slice(0, 40)}`);
  const { y, m, d } = checkedDay(f[1]!, f[2]!, f[3]!, text);
  const hh = Number(f[4]);
  const mm = Number(f[5]);
  const ss = Number(f[6]);
  const zh = Number(f[8]);
  const zm = Number(f[9]);
  // A leap second (60) is legal in RFC 5322 times; Date folds it into the next minute.
  if (hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59) throw new ImapParseError(`Invalid time in date-time: ${text.slice(0, 40)}`);
  const offsetMin = (f[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  const base = utcMidnight(y, m, d).getTime();
  return new Date(base + ((hh * 60 + mm - offsetMin) * 60 + ss) * 1000);
}

/** SEARCH's date ("1-Feb-1994") as a Date at UTC midnight of that day.
 * @throws {ImapParseError} on bad syntax or a day the month does not have */
export function parseSearchDate(text: string): Date {
  const f = DATE.exec(text);
  if (!f) throw new ImapParseError(`Invalid date: ${text.slice(0, 40)}`);
  const { y, m, d } = checkedDay(f[1]!, f[2]!, f[3]!, text);
  return utcMidnight(y, m, d);
}
