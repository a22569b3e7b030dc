// compileResponse: byte-exact output for RFC 3501 §4 data formats and §7 responses.
import test from 'ava';
import { atom, compileResponse, continuationRequest, literal, raw, str, tagged, untagged } from '../../../src/imap/protocol/compiler.ts';
import type { ResponseValue } from '../../../src/imap/protocol/types.ts';

const wire = (tag: string, ...values: ResponseValue[]): string => compileResponse({ tag, values }).toString('latin1');

test('tagged status responses with and without a response code', (t) => {
  t.is(compileResponse(tagged('a1', 'OK', 'SELECT completed', 'READ-WRITE')).toString(), 'a1 OK [READ-WRITE] SELECT completed\r\n');
  t.is(compileResponse(tagged('a1', 'NO', 'Nope', '[TRYCREATE]')).toString(), 'a1 NO [TRYCREATE] Nope\r\n');
  t.is(compileResponse(tagged('a2', 'BAD', 'line1\r\nline2')).toString(), 'a2 BAD line1 line2\r\n');
  t.is(compileResponse(untagged(atom('OK'), raw('[UIDNEXT 5] Predicted next UID'))).toString(), '* OK [UIDNEXT 5] Predicted next UID\r\n');
  t.is(compileResponse(continuationRequest('Ready for literal data')).toString(), '+ Ready for literal data\r\n');
  t.is(wire('+'), '+ \r\n');
});

test('numbers, bigints, NIL, atoms and nested lists', (t) => {
  t.is(wire('*', 3, atom('EXISTS')), '* 3 EXISTS\r\n');
  t.is(wire('*', atom('FLAGS'), [atom('\\Answered'), atom('\\Seen')]), '* FLAGS (\\Answered \\Seen)\r\n');
  t.is(wire('*', 1, atom('FETCH'), [atom('MODSEQ'), [12345678901234567890n], atom('X'), null, []]), '* 1 FETCH (MODSEQ (12345678901234567890) X NIL ())\r\n');
});

test('strings are quoted with escapes when safe', (t) => {
  t.is(wire('*', str('a "b" \\c')), '* "a \\"b\\" \\\\c"\r\n');
  t.is(wire('*', str('')), '* ""\r\n');
  t.is(wire('*', str(Buffer.from('ab"'))), '* "ab\\""\r\n');
  t.is(wire('*', str('x'.repeat(1024))), `* "${'x'.repeat(1024)}"\r\n`);
});

test('strings go as literals when not quotable or too long', (t) => {
  t.is(wire('*', str('a\r\nb')), '* {4}\r\na\r\nb\r\n');
  t.is(compileResponse({ tag: '*', values: [str('台北')] }).toString('utf8'), '* {6}\r\n台北\r\n');
  t.is(wire('*', str(Uint8Array.of(0x61, 0xff))), '* {2}\r\na\xff\r\n');
  t.is(wire('*', str(Uint8Array.of(0x61, 0x00))), '* {2}\r\na\x00\r\n');
  t.is(wire('*', str('x'.repeat(1025))), `* {1025}\r\n${'x'.repeat(1025)}\r\n`);
  t.is(wire('*', literal(Buffer.from('hi'))), '* {2}\r\nhi\r\n');
  t.is(wire('*', literal(new Uint8Array(0))), '* {0}\r\n\r\n');
});

test('raw values are verbatim, bytes included', (t) => {
  t.is(wire('*', 1, atom('FETCH'), [atom('BODYSTRUCTURE'), raw('("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1)')]), '* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1))\r\n');
  t.is(wire('*', raw(Uint8Array.of(0x41, 0x42))), '* AB\r\n');
});

test('a FETCH response with literal bytes in the middle', (t) => {
  const body = Buffer.from('Subject: x\r\n\r\nhello');
  const out = compileResponse({
    tag: '*',
    values: [7, atom('FETCH'), [atom('UID'), 42, atom('BODY[]'), literal(body), atom('FLAGS'), [atom('\\Seen')]]],
  });
  t.true(out.equals(Buffer.concat([Buffer.from(`* 7 FETCH (UID 42 BODY[] {${body.length}}\r\n`), body, Buffer.from(' FLAGS (\\Seen))\r\n')])));
});

test('10,000 FETCH responses with ENVELOPE-like values compile quickly', (t) => {
  // Measured 45-50 ms on the 2-core dev machine; the bound only catches pathologies.
  const started = performance.now();
  let bytes = 0;
  for (let i = 1; i <= 10000; i++) {
    const addr = [str('Alice Example'), null, str('alice'), str('example.org')];
    const envelope = [str('Tue, 1 Jul 2026 10:00:00 +0000'), str(`Subject number ${i} with "quotes"`), [addr], [addr], [addr], [addr], null, null, null, str(`<id${i}@example.org>`)];
    const bodystructure = [str('TEXT'), str('PLAIN'), [str('CHARSET'), str('UTF-8')], null, null, str('7BIT'), 1234, 20];
    bytes += compileResponse({ tag: '*', values: [i, atom('FETCH'), [atom('UID'), i, atom('FLAGS'), [atom('\\Seen')], atom('ENVELOPE'), envelope, atom('BODYSTRUCTURE'), bodystructure]] }).length;
  }
  const ms = performance.now() - started;
  t.true(bytes > 10000 * 300);
  t.true(ms < 3000, `took ${ms} ms`);
});
