// Dates of migration sources: RFC 5322 §3.3/§4.3 Date: values and the
// asctime timestamps of mbox From lines (RFC 4155, mbox(5)).
import test from 'ava';
import { headerDate, parseFromLineDate, parseRfc5322Date } from '../../src/migrate/dates.ts';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

test('From line timestamps: asctime in UTC, with numeric or named zones, short years', (t) => {
  const cases: Array<[string, string | null]> = [
    ['From alice@example.org Thu Jan  2 10:00:00 2020', '2020-01-02T10:00:00.000Z'],
    ['From - Thu Jan 02 10:00:00 2020', '2020-01-02T10:00:00.000Z'],
    ['From a@b Fri Jan  3 11:30:15 2020 +0100', '2020-01-03T10:30:15.000Z'],
    ['From a@b Fri Jan  3 11:30:15 -0500 2020', '2020-01-03T16:30:15.000Z'],
    ['From a@b Mon Jan  6 09:15:00 PST 2020', '2020-01-06T17:15:00.000Z'],
    ['From a@b Mon Jul  6 09:15:00 CET DST 2020', '2020-07-06T07:15:00.000Z'],
    ['From a@b Sat Jan  3 01:05 99', '1999-01-03T01:05:00.000Z'],
    ['From a@b Sat Jan  3 01:05:34 05', '2005-01-03T01:05:34.000Z'],
    ['From a@b Tue Feb 29 12:00:00 2000 remote from uucp', '2000-02-29T12:00:00.000Z'],
    ['From a@b Thu Feb 30 10:00:00 2020', null],
    ['From a@b Thu Jan  2 24:00:00 2020', null],
    ['From a@b Thu Jan  2 10:00:00 2020 +9999', null],
    ['From the desk of Carol: no date at all', null],
    ['From MAILER-DAEMON', null],
    ['From Monday on, lunch is at 12:00 2020', null],
  ];
  for (const [line, expected] of cases) t.is(iso(parseFromLineDate(line)), expected, line);
});

test('Date: values: RFC 5322 forms and obsolete ones; anything else is null, not a guess', (t) => {
  const cases: Array<[string, string | null]> = [
    ['Thu, 2 Jan 2020 11:00:00 +0100', '2020-01-02T10:00:00.000Z'],
    ['Wed, 1 Jan 2020 09:00:00 +0100 (CET)', '2020-01-01T08:00:00.000Z'],
    ['2 Jan 2020 10:00 GMT', '2020-01-02T10:00:00.000Z'],
    ['Thu, 02 Jan 20 10:00:00 EST', '2020-01-02T15:00:00.000Z'],
    ['Sat, 3 Jan 96 01:05:34 -0000', '1996-01-03T01:05:34.000Z'],
    ['Fri, 21 Nov 1997 09:55:06 -0600 (comment (nested))', '1997-11-21T15:55:06.000Z'],
    ['Thu,  2 Jan 2020 10:00:00', '2020-01-02T10:00:00.000Z'],
    ['2 January 2020 10:00:00 +0000', '2020-01-02T10:00:00.000Z'],
    ['garbage 5', null],
    ['', null],
    ['Thu, 31 Apr 2020 10:00:00 +0000', null],
    ['Thu, 2 Foo 2020 10:00:00 +0000', null],
    ['Thu, 2 Jan 2020 10:00:00 +2400', null],
  ];
  for (const [value, expected] of cases) t.is(iso(parseRfc5322Date(value)), expected, value);
});

test('headerDate takes the first Date: field of the header', (t) => {
  const header = Buffer.from('Subject: x\r\nDATE: Thu, 2 Jan 2020 11:00:00\r\n +0100\r\nDate: Fri, 3 Jan 2020 11:00:00 +0100\r\n');
  t.is(iso(headerDate(header)), '2020-01-02T10:00:00.000Z');
  t.is(headerDate(Buffer.from('Subject: x\r\n')), null);
});
