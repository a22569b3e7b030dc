// Sequence sets: RFC 3501 §9 syntax, §6.4.8 "*" semantics, compression for COPYUID/VANISHED.
import test from 'ava';
import { ImapParseError } from '../../../src/imap/protocol/errors.ts';
import { formatSequenceSet, parseSequenceSet, resolveSequenceSet, sequenceSetMatcher } from '../../../src/imap/protocol/seqset.ts';

test('parses numbers, ranges, stars and reversed ranges', (t) => {
  t.deepEqual(parseSequenceSet('1'), [{ start: 1, end: 1 }]);
  t.deepEqual(parseSequenceSet('1:*,5,*:4,9:2,*'), [
    { start: 1, end: '*' },
    { start: 5, end: 5 },
    { start: '*', end: 4 },
    { start: 9, end: 2 },
    { start: '*', end: '*' },
  ]);
  t.deepEqual(parseSequenceSet('4294967295'), [{ start: 4294967295, end: 4294967295 }]);
});

test('rejects bad syntax', (t) => {
  for (const bad of ['', '0', '1:0', '01', '1,', ',1', '1::2', '1:2:3', 'a', '1 2', '$', '-1', '4294967296', '1.5', '**']) {
    t.throws(() => parseSequenceSet(bad), { instanceOf: ImapParseError }, bad);
  }
});

test('resolves against sequence numbers', (t) => {
  const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  t.deepEqual(resolveSequenceSet(parseSequenceSet('1:3,7,9:*'), seq, 10), [1, 2, 3, 7, 9, 10]);
  t.deepEqual(resolveSequenceSet(parseSequenceSet('5:2,3:6,*:9'), seq, 10), [2, 3, 4, 5, 6, 9, 10]);
  t.deepEqual(resolveSequenceSet(parseSequenceSet('*'), seq, 10), [10]);
  t.deepEqual(resolveSequenceSet(parseSequenceSet('20:30'), seq, 10), []);
});

test('resolves against sparse UIDs; "*" is the highest UID even below the range start', (t) => {
  const uids = [3, 8, 15, 16, 40, 1000];
  t.deepEqual(resolveSequenceSet(parseSequenceSet('1:10'), uids, 1000), [3, 8]);
  t.deepEqual(resolveSequenceSet(parseSequenceSet('16:*'), uids, 1000), [16, 40, 1000]);
  t.deepEqual(resolveSequenceSet(parseSequenceSet('2000:*'), uids, 1000), [1000]);
  t.deepEqual(resolveSequenceSet(parseSequenceSet('4:7,41:999'), uids, 1000), []);
  t.deepEqual(resolveSequenceSet(parseSequenceSet('1:*'), [], 0), []);
});

test('resolves a huge range over a big mailbox quickly', (t) => {
  const uids = Array.from({ length: 200000 }, (_, i) => i * 2 + 1);
  const started = performance.now();
  const picked = resolveSequenceSet(parseSequenceSet('1:4294967295,5,7'), uids, uids.at(-1)!);
  t.is(picked.length, uids.length);
  t.true(performance.now() - started < 1000);
});

test('matcher agrees with resolve', (t) => {
  const ranges = parseSequenceSet('2:4,9,*:20,6:6');
  const match = sequenceSetMatcher(ranges, 25);
  const all = Array.from({ length: 30 }, (_, i) => i + 1);
  t.deepEqual(all.filter(match), resolveSequenceSet(ranges, all, 25));
});

test('formats sorted numbers as compact ranges', (t) => {
  t.is(formatSequenceSet([1, 2, 3, 7, 9, 10]), '1:3,7,9:10');
  t.is(formatSequenceSet([5]), '5');
  t.is(formatSequenceSet([]), '');
  t.is(formatSequenceSet([10, 9, 1, 2, 2, 3]), '1:3,9:10');
  const round = formatSequenceSet([4, 5, 6, 100]);
  t.deepEqual(resolveSequenceSet(parseSequenceSet(round), [1, 4, 5, 6, 7, 100], 100), [4, 5, 6, 100]);
});
