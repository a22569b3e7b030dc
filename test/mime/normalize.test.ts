// normalizeCrlf: RFC 5322 §2.1 CRLF line endings for stored messages.
import test from 'ava';
import { normalizeCrlf } from '../../src/mime/normalize.ts';

const norm = (s: string): string => Buffer.from(normalizeCrlf(Buffer.from(s, 'latin1'))).toString('latin1');

test('bare LF and bare CR become CRLF, CRLF stays', (t) => {
  t.is(norm('a\nb\r\nc\rd\r\r\ne\n\n'), 'a\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\n');
  t.is(norm('\n'), '\r\n');
  t.is(norm('\r'), '\r\n');
  t.is(norm('x\r'), 'x\r\n');
  t.is(norm('\n\r'), '\r\n\r\n');
});

test('clean input is returned as the same buffer', (t) => {
  const clean = Buffer.from('a\r\nb\r\n\r\nc');
  t.is(normalizeCrlf(clean), clean);
  const empty = new Uint8Array(0);
  t.is(normalizeCrlf(empty), empty);
  const view = Buffer.from('zz\r\nab\ncd').subarray(0, 4); // a view whose tail is unclean
  t.is(normalizeCrlf(view), view);
});

test('a clean 25 MB message takes the fast path quickly', (t) => {
  const line = Buffer.from('x'.repeat(74) + '\r\n');
  const big = Buffer.alloc(25 * 1024 * 1024);
  for (let o = 0; o + line.length <= big.length; o += line.length) line.copy(big, o);
  big.fill(0x78, big.length - (big.length % line.length)); // tail without line end
  const t0 = performance.now();
  t.is(normalizeCrlf(big), big);
  t.true(performance.now() - t0 < 1000, 'fast path under a second');
});
