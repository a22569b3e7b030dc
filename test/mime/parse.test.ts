// parseMessage: RFC 2046 §5.1.1 boundary rules, defaults (RFC 2045 §5.2,
// RFC 2046 §5.1.5), nesting limits, robustness and speed.
import test from 'ava';
import { parseMessage, MAX_DEPTH } from '../../src/mime/parse.ts';
import { extractSection } from '../../src/mime/section.ts';
import type { MimeNode } from '../../src/mime/types.ts';

const msg = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'));
const body = (raw: Buffer, node: MimeNode): string => raw.subarray(node.bodyStart, node.end).toString();

test('boundary lines: transport padding, CRLF belongs to the delimiter, lookalikes ignored', (t) => {
  const raw = msg('Content-Type: multipart/mixed; boundary=ab\n\n--ab \t\n\nA\n--abc\n--ab-x\n\n--ab\n\nB\n\n--ab--  \nepilogue\n');
  const root = parseMessage(raw);
  t.is(root.parts?.length, 2);
  t.is(body(raw, root.parts![0]!), 'A\r\n--abc\r\n--ab-x\r\n');
  t.is(body(raw, root.parts![1]!), 'B\r\n');
  t.is(root.end, raw.length); // the multipart body keeps preamble and epilogue
});

test('an empty part between adjacent delimiters, and the first delimiter at body start', (t) => {
  const raw = msg('Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nX\n--b--');
  const root = parseMessage(raw);
  t.is(root.parts?.length, 2);
  t.is(root.parts![0]!.size, 0);
  t.is(body(raw, root.parts![1]!), 'X');
});

test('an inner multipart without its close delimiter ends at the outer delimiter', (t) => {
  const raw = msg('Content-Type: multipart/mixed; boundary=out\n\n--out\nContent-Type: multipart/alternative; boundary=in\n\n--in\n\ninner\n--out\n\nsecond\n--out--\n');
  const root = parseMessage(raw);
  t.is(root.parts?.length, 2);
  t.is(body(raw, root.parts![0]!.parts![0]!), 'inner');
  t.is(body(raw, root.parts![1]!), 'second');
});

test('defaults: no Content-Type, digest children, CTE comments, message/global', (t) => {
  const plain = parseMessage(msg('Subject: x\n\nhi\n'));
  t.like(plain, { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']], encoding: '7BIT', lines: 1, size: 4 });
  const g = parseMessage(msg('Content-Type: message/global\nContent-Transfer-Encoding: 8bit (raw)\n\nSubject: inner\n\nbody\n'));
  t.is(g.encoding, '8bit');
  t.is(g.message?.envelope?.subject, 'inner');
  t.is(g.lines, 3);
  const digest = parseMessage(msg('Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: s\n\nb\n--d--\n'));
  t.like(digest.parts![0]!, { type: 'message', subtype: 'rfc822', params: [] });
  t.is(digest.parts![0]!.message?.envelope?.subject, 's');
});

test('a multipart without boundary parameter gets one empty text/plain part', (t) => {
  const root = parseMessage(msg('Content-Type: multipart/mixed\n\nno parts here\n'));
  t.is(root.parts?.length, 1);
  t.like(root.parts![0]!, { type: 'text', subtype: 'plain', size: 0, lines: 0 });
});

test('nesting deeper than MAX_DEPTH becomes a leaf instead of recursing', (t) => {
  let s = 'Subject: leaf\r\n\r\nend\r\n';
  for (let i = 0; i < MAX_DEPTH + 10; i++) s = `Content-Type: message/rfc822\r\n\r\n${s}`;
  const root = parseMessage(Buffer.from(s));
  let depth = 0;
  let node: MimeNode | undefined = root;
  while (node?.message) { node = node.message; depth++; }
  t.is(depth, MAX_DEPTH);
  t.like(node, { type: 'message', subtype: 'rfc822' });
  t.is(node?.message, undefined);
});

test('empty, header-only and binary garbage input never throw', (t) => {
  t.like(parseMessage(new Uint8Array(0)), { start: 0, bodyStart: 0, end: 0, size: 0 });
  t.like(parseMessage(Buffer.from('\r\n')), { bodyStart: 2, end: 2 });
  t.like(parseMessage(Buffer.from('\r\n\r\nx')), { bodyStart: 2, size: 3 });
  let seed = 42;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  const pieces = ['\r\n', '--b', '--b--', 'Content-Type: multipart/mixed; boundary=b\r\n', 'Content-Type: message/rfc822\r\n',
    'Content-Type: multipart/digest; boundary="b"\r\n', ': ', 'From: <a@', ' x', '"', '(', '\xff', '=?utf-8?b?', ';;'];
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = rnd() % 40;
    for (let j = 0; j < n; j++) s += pieces[rnd() % pieces.length];
    const raw = Buffer.from(s, 'latin1');
    const root = parseMessage(raw);
    t.true(root.end === raw.length && root.size === root.end - root.bodyStart);
    extractSection(raw, root, { path: [1, 1], text: 'HEADER' });
  }
});

// Speed is the benchmark's business (npm run bench); this checks that parsing
// the same message many times gives the same tree every time (no state leaks).
test('10,000 parses of a typical message give the same tree each time', (t) => {
  const typical = msg(`From: "Sender Name" <sender@example.com>
To: a@example.com, "B, Person" <b@example.com>
Cc: Team: c@example.com, d@example.com;
Subject: =?utf-8?q?Quarterly_numbers?=
Date: Mon, 1 Jan 2024 10:00:00 +0000
Message-ID: <123@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

${'Some text line here.\n'.repeat(30)}--alt
Content-Type: text/html; charset=utf-8

${'<p>Some text line here.</p>\n'.repeat(30)}--alt--
--outer
Content-Type: application/pdf; name="a.pdf"
Content-Disposition: attachment; filename*=utf-8''a%20b.pdf
Content-Transfer-Encoding: base64

${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n'.repeat(200)}--outer--
`);
  const t0 = performance.now();
  let parts = 0;
  for (let i = 0; i < 10_000; i++) parts += parseMessage(typical).parts!.length;
  const ms = performance.now() - t0;
  t.is(parts, 20_000);
  t.log(`10,000 messages of ${typical.length} bytes: ${ms.toFixed(0)} ms`);
});
