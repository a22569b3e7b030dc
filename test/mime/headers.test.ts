// Header fields (RFC 5322 §2.2) and MIME parameters (RFC 2045 §5.1, RFC 2231).
import test from 'ava';
import { splitHeader, parseHeaderParams } from '../../src/mime/headers.ts';

test('splitHeader: fields in order, folded values unfolded, raw bytes kept', (t) => {
  const h = Buffer.from('Subject: a\r\n  b\r\nX-Empty:\r\nTo : x@y\r\nno colon line\r\n\r\nbody: not a header\r\n');
  const f = splitHeader(h);
  t.deepEqual(f.map((x) => [x.name, x.lowerName, x.value]), [
    ['Subject', 'subject', 'a b'], ['X-Empty', 'x-empty', ''], ['To', 'to', 'x@y'], ['', '', ''],
  ]);
  t.is(Buffer.from(f[0]!.raw).toString(), 'Subject: a\r\n  b\r\n');
  t.is(Buffer.from(f[2]!.raw).toString(), 'To : x@y\r\n');
});

test('splitHeader: UTF-8 kept, invalid UTF-8 read as Latin-1, last field without CRLF', (t) => {
  const f = splitHeader(Buffer.concat([Buffer.from('A: Zoë\r\nB: '), Buffer.from([0xe4, 0x21]), Buffer.from('\r\nC: end')]));
  t.deepEqual(f.map((x) => x.value), ['Zoë', 'ä!', 'end']);
  t.is(f[2]!.raw.length, 6);
});

test('parseHeaderParams: quoted values, escapes, comments, case of names', (t) => {
  t.deepEqual(parseHeaderParams('text/plain; CHARSET="utf-8"; format=flowed (a comment)'), {
    value: 'text/plain', params: [['charset', 'utf-8'], ['format', 'flowed']],
  });
  t.deepEqual(parseHeaderParams('attachment; filename="a \\"q\\"; b.txt"').params, [['filename', 'a "q"; b.txt']]);
  t.deepEqual(parseHeaderParams('multipart/mixed; boundary="x"; boundary="y"').params, [['boundary', 'x']]);
  t.deepEqual(parseHeaderParams('inline; junk; a=').params, [['a', '']]);
  t.deepEqual(parseHeaderParams(''), { value: '', params: [] });
});

test('parseHeaderParams: RFC 2231 continuations, charsets and languages', (t) => {
  t.deepEqual(parseHeaderParams("attachment; filename*0*=utf-8''%E2%82%AC%20; filename*1=\"rates.txt\"").params,
    [['filename', '€ rates.txt']]);
  // out-of-order sections are joined in section order (RFC 2231 §3)
  t.deepEqual(parseHeaderParams('a/b; title*1=" world"; title*0="hello"').params, [['title', 'hello world']]);
  t.deepEqual(parseHeaderParams("a/b; title*=iso-8859-1'de'Gr%FC%DFe").params, [['title', 'Grüße']]);
  t.deepEqual(parseHeaderParams("a/b; title*=x-unknown''abc%21").params, [['title', 'abc!']]);
  // the RFC 2231 form wins over a plain fallback of the same name
  t.deepEqual(parseHeaderParams("a/b; name=\"fallback\"; name*=utf-8''%C3%A9").params, [['name', 'é']]);
});
