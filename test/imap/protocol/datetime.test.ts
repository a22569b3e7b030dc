// IMAP date-time and date (RFC 3501 §9): formatting INTERNALDATE, parsing APPEND and SEARCH dates.
import test from 'ava';
import { formatInternalDate, parseDateTime, parseSearchDate } from '../../../src/imap/protocol/datetime.ts';
import { ImapParseError } from '../../../src/imap/protocol/errors.ts';

test('formats INTERNALDATE in UTC', (t) => {
  t.is(formatInternalDate(new Date('1996-07-17T09:44:25Z')), '17-Jul-1996 09:44:25 +0000');
  t.is(formatInternalDate(new Date('2026-01-02T03:04:05.678Z')), '02-Jan-2026 03:04:05 +0000');
  t.throws(() => formatInternalDate(new Date(NaN)));
});

test('parses date-time with zones, day-fixed forms and any month case', (t) => {
  t.is(parseDateTime('17-Jul-1996 02:44:25 -0700').toISOString(), '1996-07-17T09:44:25.000Z');
  t.is(parseDateTime('25-Nov-2026 10:00:00 +0100').toISOString(), '2026-11-25T09:00:00.000Z');
  t.is(parseDateTime(' 1-jan-2000 00:00:00 +0000').toISOString(), '2000-01-01T00:00:00.000Z');
  t.is(parseDateTime('1-JAN-2000 00:30:00 +0130').toISOString(), '1999-12-31T23:00:00.000Z');
  t.is(parseDateTime('29-Feb-2024 12:00:00 +0000').toISOString(), '2024-02-29T12:00:00.000Z');
  const d = new Date('2030-05-06T07:08:09Z');
  t.is(parseDateTime(formatInternalDate(d)).getTime(), d.getTime());
});

test('rejects bad date-times', (t) => {
  for (const bad of [
    '',
    '17-Jul-1996',
    '17-Jul-1996 02:44:25',
    '17-Foo-1996 02:44:25 +0000',
    '32-Jul-1996 02:44:25 +0000',
    '29-Feb-2023 02:44:25 +0000',
    '17-Jul-96 02:44:25 +0000',
    '17-Jul-1996 24:00:00 +0000',
    '17-Jul-1996 02:60:00 +0000',
    '17-Jul-1996 02:44:25 +0060',
    '17-Jul-1996 2:44:25 +0000',
    '"17-Jul-1996 02:44:25 +0000"',
    '17-Jul-1996 02:44:25 GMT',
  ]) {
    t.throws(() => parseDateTime(bad), { instanceOf: ImapParseError }, bad);
  }
});

test('parses SEARCH dates to UTC midnight', (t) => {
  t.is(parseSearchDate('1-Feb-1994').toISOString(), '1994-02-01T00:00:00.000Z');
  t.is(parseSearchDate('01-feb-1994').toISOString(), '1994-02-01T00:00:00.000Z');
  t.is(parseSearchDate('31-DEC-2026').toISOString(), '2026-12-31T00:00:00.000Z');
  t.is(parseSearchDate('1-Jan-0050').getUTCFullYear(), 50);
  for (const bad of ['', '1-Feb', '0-Feb-1994', '30-Feb-2000', '1-Feb-1994 ', '123-Feb-1994', '1 Feb 1994', '1-Fev-1994']) {
    t.throws(() => parseSearchDate(bad), { instanceOf: ImapParseError }, bad);
  }
});
