// SEARCH argument parsing: every RFC 3501 §6.4.4 key, MODSEQ (RFC 7162
// §3.1.5), RETURN (RFC 4731 §3.1), CHARSET handling and malformed input.
import test from 'ava';
import { BadCharsetError, parseSearch, type SearchKey, type SearchProgram } from '../../../src/imap/search/parse.ts';
import { parseCommand } from '../../../src/imap/protocol/parser.ts';

function program(text: string, utf8 = false): SearchProgram {
  return parseSearch(parseCommand(Buffer.from(`a SEARCH ${text}`)).args, { utf8 });
}
const key = (text: string): SearchKey => program(text).key;
const day = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / 86_400_000;

test('flag keys, their UN- forms, KEYWORD/UNKEYWORD, case-insensitive', (t) => {
  t.deepEqual(key('answered'), { type: 'flag', flag: '\\answered', set: true });
  t.deepEqual(key('DELETED'), { type: 'flag', flag: '\\deleted', set: true });
  t.deepEqual(key('Draft'), { type: 'flag', flag: '\\draft', set: true });
  t.deepEqual(key('FLAGGED'), { type: 'flag', flag: '\\flagged', set: true });
  t.deepEqual(key('SEEN'), { type: 'flag', flag: '\\seen', set: true });
  t.deepEqual(key('UNANSWERED'), { type: 'flag', flag: '\\answered', set: false });
  t.deepEqual(key('UNDELETED'), { type: 'flag', flag: '\\deleted', set: false });
  t.deepEqual(key('UNDRAFT'), { type: 'flag', flag: '\\draft', set: false });
  t.deepEqual(key('UNFLAGGED'), { type: 'flag', flag: '\\flagged', set: false });
  t.deepEqual(key('unseen'), { type: 'flag', flag: '\\seen', set: false });
  t.deepEqual(key('KEYWORD $Forwarded'), { type: 'flag', flag: '$forwarded', set: true });
  t.deepEqual(key('UNKEYWORD Junk'), { type: 'flag', flag: 'junk', set: false });
});

test('ALL, NEW, OLD, RECENT', (t) => {
  t.deepEqual(key('ALL'), { type: 'all' });
  t.deepEqual(key('RECENT'), { type: 'recent', set: true });
  t.deepEqual(key('OLD'), { type: 'recent', set: false });
  t.deepEqual(key('NEW'), { type: 'and', keys: [{ type: 'recent', set: true }, { type: 'flag', flag: '\\seen', set: false }] });
});

test('string keys take atoms, quoted strings and literals', (t) => {
  t.deepEqual(key('FROM alice'), { type: 'header', field: 'from', value: 'alice' });
  t.deepEqual(key('TO "Bob B."'), { type: 'header', field: 'to', value: 'Bob B.' });
  t.deepEqual(key('CC x'), { type: 'header', field: 'cc', value: 'x' });
  t.deepEqual(key('BCC y'), { type: 'header', field: 'bcc', value: 'y' });
  t.deepEqual(key('SUBJECT {6}\r\nGrüß'), { type: 'header', field: 'subject', value: 'Grüß' });
  t.deepEqual(key('HEADER X-Mailer ""'), { type: 'header', field: 'x-mailer', value: '' });
  t.deepEqual(key('BODY lunch'), { type: 'body', value: 'lunch' });
  t.deepEqual(key('TEXT "noon?"'), { type: 'text', value: 'noon?' });
});

test('date keys, bare or quoted', (t) => {
  t.deepEqual(key('BEFORE 1-Feb-1994'), { type: 'date', field: 'internal', op: 'before', day: day(1994, 2, 1) });
  t.deepEqual(key('ON "07-feb-1994"'), { type: 'date', field: 'internal', op: 'on', day: day(1994, 2, 7) });
  t.deepEqual(key('SINCE 29-Feb-2024'), { type: 'date', field: 'internal', op: 'since', day: day(2024, 2, 29) });
  t.deepEqual(key('SENTBEFORE 1-Jan-2000'), { type: 'date', field: 'sent', op: 'before', day: day(2000, 1, 1) });
  t.deepEqual(key('SENTON 1-Jan-2000'), { type: 'date', field: 'sent', op: 'on', day: day(2000, 1, 1) });
  t.deepEqual(key('SENTSINCE 1-Jan-2000'), { type: 'date', field: 'sent', op: 'since', day: day(2000, 1, 1) });
});

test('sizes, sequence sets, UID sets, MODSEQ with and without entry name', (t) => {
  t.deepEqual(key('LARGER 1000'), { type: 'size', op: 'larger', size: 1000 });
  t.deepEqual(key('SMALLER 5'), { type: 'size', op: 'smaller', size: 5 });
  t.deepEqual(key('1:3,7,9:*'), { type: 'seq', ranges: [{ start: 1, end: 3 }, { start: 7, end: 7 }, { start: 9, end: '*' }] });
  t.deepEqual(key('*'), { type: 'seq', ranges: [{ start: '*', end: '*' }] });
  t.deepEqual(key('UID 5:*'), { type: 'uid', ranges: [{ start: 5, end: '*' }] });
  t.deepEqual(key('MODSEQ 620162338'), { type: 'modseq', modSeq: 620162338 });
  t.deepEqual(key('MODSEQ "/flags/\\\\draft" all 620162338'), { type: 'modseq', modSeq: 620162338 });
});

test('NOT, OR, lists and the implicit top-level AND nest', (t) => {
  t.deepEqual(key('NOT SEEN'), { type: 'not', key: { type: 'flag', flag: '\\seen', set: true } });
  t.deepEqual(key('OR FROM a (TO b SMALLER 10)'), {
    type: 'or',
    a: { type: 'header', field: 'from', value: 'a' },
    b: { type: 'and', keys: [{ type: 'header', field: 'to', value: 'b' }, { type: 'size', op: 'smaller', size: 10 }] },
  });
  t.deepEqual(key('OR OR SEEN DRAFT NOT (DELETED)'), {
    type: 'or',
    a: { type: 'or', a: { type: 'flag', flag: '\\seen', set: true }, b: { type: 'flag', flag: '\\draft', set: true } },
    b: { type: 'not', key: { type: 'flag', flag: '\\deleted', set: true } },
  });
  t.deepEqual(key('1:5 UNSEEN'), { type: 'and', keys: [{ type: 'seq', ranges: [{ start: 1, end: 5 }] }, { type: 'flag', flag: '\\seen', set: false }] });
  t.deepEqual(key('((ALL))'), { type: 'all' });
});

test('CHARSET: UTF-8 and US-ASCII in any case; anything else is BadCharsetError', (t) => {
  t.is(program('CHARSET utf-8 ALL').charset, 'UTF-8');
  t.is(program('CHARSET "us-ascii" ALL').charset, 'US-ASCII');
  t.is(program('ALL').charset, null);
  t.is(program('CHARSET UTF-8 ALL', true).charset, 'UTF-8');
  const err = t.throws(() => program('CHARSET ISO-8859-1 FROM x'));
  t.true(err instanceof BadCharsetError);
  t.is((err as BadCharsetError).code, 'BAD_CHARSET');
});

test('RETURN options (RFC 4731): before CHARSET; RETURN () means ALL', (t) => {
  t.deepEqual(program('RETURN (MIN MAX COUNT) UNSEEN').returnOpts, { min: true, max: true, count: true, all: false });
  t.deepEqual(program('RETURN () ALL').returnOpts, { min: false, max: false, count: false, all: true });
  const p = program('RETURN (count ALL) CHARSET UTF-8 SEEN');
  t.deepEqual(p, { charset: 'UTF-8', key: { type: 'flag', flag: '\\seen', set: true }, returnOpts: { min: false, max: false, count: true, all: true } });
  t.false('returnOpts' in program('SEEN'));
});

test('malformed SEARCH is a parse error (answered BAD)', (t) => {
  for (const bad of [
    '', 'FOO', 'FROM', 'OR SEEN', 'NOT', 'BEFORE 31-Feb-2024', 'BEFORE yesterday', 'LARGER x', 'LARGER -1', 'SMALLER',
    'UID', 'UID abc', '0:5', '1:', '()', 'HEADER', 'HEADER X', 'HEADER "a b" x', 'KEYWORD', 'KEYWORD (a)', 'MODSEQ', 'MODSEQ x',
    'MODSEQ "/flags/x" bogus 5', 'RETURN ALL', 'RETURN (SAVE) ALL', 'RETURN (MIN)', 'CHARSET', 'CHARSET UTF-8', '$', '"SEEN"', 'FROM (a)',
  ]) {
    t.throws(() => program(bad), { code: 'IMAP_PARSE' }, bad);
  }
});
