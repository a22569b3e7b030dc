// SEARCH text (RFC 3501 §6.4.4): encoded-words and decoded text parts.
import test from 'ava';
import { parseMessage } from '../../src/mime/parse.ts';
import { bodyText, decodeHeaderValue } from '../../src/mime/text.ts';

test('decodeHeaderValue: RFC 2047 words in several charsets; plain and broken values pass through', (t) => {
  t.is(decodeHeaderValue('=?ISO-8859-1?Q?Gr=FC=DFe?= und =?UTF-8?B?4pyTIGRvbmU=?='), 'Grüße und ✓ done');
  t.is(decodeHeaderValue('=?utf-8?q?a?= =?utf-8?q?b?='), 'ab');
  t.is(decodeHeaderValue('plain = text'), 'plain = text');
  t.is(typeof decodeHeaderValue('=?bogus-charset?X?zz?='), 'string');
});

test('bodyText undoes base64, quoted-printable and charsets, skips non-text parts', (t) => {
  const raw = Buffer.from([
    'Content-Type: multipart/mixed; boundary=b', '', '--b',
    'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'Gr=FC=DFe, so=\r\nft', '--b',
    'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', Buffer.from('héllo wörld').toString('base64'), '--b',
    'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', 'c2VjcmV0', '--b',
    'Content-Type: text/plain; charset=no-such-charset', 'Content-Transfer-Encoding: base64', '', '!!!bad base64 ???', '--b',
    'Content-Type: text/plain; charset="windows-1252"', '', '\x93quoted\x94', '--b--', '',
  ].join('\r\n'), 'latin1');
  const text = bodyText(raw, parseMessage(raw));
  t.is(text.split('\n')[0], 'Grüße, soft');
  t.true(text.includes('héllo wörld'));
  t.false(text.includes('secret'));
  t.true(text.includes('\u201cquoted\u201d'));
});
