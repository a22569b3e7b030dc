// FETCH responses (RFC 3501 §7.4.2) compiled to bytes and compared with what
// Dovecot 2.3 sent for the same messages and items (captured from
// dovecot-imapd with the fixtures in test/mime/fixtures, INBOX order
// simple-text, forwarded, mixed-base64). Plus UID-first, \Recent, MODSEQ and
// the header-only path.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { parseFetchItems } from '../../../src/imap/fetch/items.ts';
import { renderFetch, type FetchInput, type RenderOptions } from '../../../src/imap/fetch/render.ts';
import { compileResponse } from '../../../src/imap/protocol/compiler.ts';
import { parseCommand } from '../../../src/imap/protocol/parser.ts';
import { prepareMessage } from '../../../src/mailstore/prepare.ts';

const fixtures = path.join(import.meta.dirname, '../../mime/fixtures');

function message(name: string, extra: Partial<FetchInput> = {}): FetchInput {
  const p = prepareMessage(fs.readFileSync(path.join(fixtures, `${name}.eml`)));
  return {
    uid: 42, flags: ['\\Seen'], recent: false, internalDate: new Date(Date.UTC(2025, 3, 1, 10, 0, 0)), size: p.data.length, modSeq: 7,
    structure: p.structure, header: p.header, body: p.data, ...extra,
  };
}

/** "* seq FETCH (...)\r\n" for the items text as a client would send it. */
function fetchLine(seq: number, itemsText: string, msg: FetchInput, opts?: RenderOptions): string {
  const items = parseFetchItems(parseCommand(Buffer.from(`a FETCH ${seq} ${itemsText}`)).args[1]);
  return compileResponse({ tag: '*', values: [seq, { type: 'atom', value: 'FETCH' }, renderFetch(items, msg, opts)] }).toString('utf8');
}

test('sections, missing parts and partials match Dovecot byte for byte (simple-text)', (t) => {
  t.is(
    fetchLine(1, '(BODY.PEEK[5] BODY.PEEK[1.HEADER] BODY.PEEK[1.MIME] BODY.PEEK[]<5000> BODY.PEEK[]<0.10> BODY.PEEK[header.fields (from "To" x-nope)] BODY.PEEK[1]<2.3>)', message('simple-text')),
    '* 1 FETCH (BODY[5] {0}\r\n BODY[1.HEADER] {0}\r\n BODY[1.MIME] {232}\r\nReturn-Path: <alice@example.org>\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nFrom: Alice Example <alice@example.org>\r\nTo: bob@example.com\r\nSubject: Lunch\r\n  tomorrow?\r\nMessage-ID: <B27397-0100000@example.org>\r\nMIME-Version: 1.0\r\n\r\n BODY[]<5000> {0}\r\n BODY[]<0> {10}\r\nReturn-Pat BODY[HEADER.FIELDS (FROM "TO" X-NOPE)] {64}\r\nFrom: Alice Example <alice@example.org>\r\nTo: bob@example.com\r\n\r\n BODY[1]<2> {3}\r\n Bo)\r\n',
  );
});

test('nested message parts, RFC822.HEADER and BINARY.SIZE match Dovecot (forwarded)', (t) => {
  const msg = message('forwarded');
  t.is(
    fetchLine(2, '(BODY.PEEK[2.HEADER.FIELDS (subject)] BODY.PEEK[2.1] BODY.PEEK[3] BODY.PEEK[1.2] BODY.PEEK[2.2.1] BINARY.SIZE[1] RFC822.HEADER)', msg),
    '* 2 FETCH (BODY[2.HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: Plans\r\n\r\n BODY[2.1] {10}\r\nMeet at 5. BODY[3] {0}\r\n BODY[1.2] {0}\r\n BODY[2.2.1] {17}\r\n<p>Meet at 5.</p> BINARY.SIZE[1] 10 RFC822.HEADER {175}\r\nFrom: frank@example.com\r\nTo: grace@example.com\r\nSubject: Fwd: Plans\r\nDate: Thu, 3 Apr 2025 12:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n)\r\n',
  );
  t.is(
    fetchLine(2, '(BODY.PEEK[2.MIME] BODY.PEEK[2.TEXT]<0.20> BODY.PEEK[HEADER.FIELDS.NOT (to from date)] BODY)', msg),
    '* 2 FETCH (BODY[2.MIME] {61}\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n BODY[2.TEXT]<0> {20}\r\n--inner\r\nContent-Typ BODY[HEADER.FIELDS.NOT (TO FROM DATE)] {89}\r\nSubject: Fwd: Plans\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n BODY (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0)("message" "rfc822" NIL NIL NIL "7bit" 406 ("Wed, 2 Apr 2025 09:00:00 +0000" "Plans" (("Heidi" NIL "heidi" "example.org")) (("Heidi" NIL "heidi" "example.org")) (("Heidi" NIL "heidi" "example.org")) ((NIL NIL "frank" "example.com")) NIL NIL "<earlier@example.com>" "<inner-1@example.org>") (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 17 0) "alternative") 18) "mixed"))\r\n',
  );
});

test('BINARY decodes the transfer encoding; BODY[] partial does not (mixed-base64, as Dovecot)', (t) => {
  t.is(
    fetchLine(3, '(BINARY.PEEK[1] BINARY.SIZE[2] BODY.PEEK[2]<0.8>)', message('mixed-base64')),
    '* 3 FETCH (BINARY[1] {26}\r\nSee the attached report.\r\n BINARY.SIZE[2] 78 BODY[2]<0> {8}\r\nJVBERi0x)\r\n',
  );
  const bin = fetchLine(3, 'BINARY.PEEK[2]<0.5>', message('mixed-base64'));
  t.is(bin, '* 3 FETCH (BINARY[2]<0> {5}\r\n%PDF-)\r\n');
  t.is(fetchLine(3, 'BINARY.PEEK[9]', message('mixed-base64')), '* 3 FETCH (BINARY[9] {0}\r\n)\r\n');
});

test('UID always comes first; FLAGS carries \\Recent; INTERNALDATE, RFC822.SIZE, MODSEQ', (t) => {
  const msg = message('simple-text', { recent: true, flags: ['\\Seen', '$Forwarded'] });
  t.is(
    fetchLine(4, '(FLAGS INTERNALDATE RFC822.SIZE MODSEQ UID)', msg),
    `* 4 FETCH (UID 42 FLAGS (\\Seen $Forwarded \\Recent) INTERNALDATE "01-Apr-2025 10:00:00 +0000" RFC822.SIZE ${msg.size} MODSEQ (7))\r\n`,
  );
  // UID FETCH adds UID; an implicit \Seen adds FLAGS; CONDSTORE adds MODSEQ
  t.is(fetchLine(4, 'RFC822.SIZE', msg, { uid: true, flags: true, modSeq: true }),
    `* 4 FETCH (UID 42 RFC822.SIZE ${msg.size} FLAGS (\\Seen $Forwarded \\Recent) MODSEQ (7))\r\n`);
  t.is(fetchLine(4, '(UID FLAGS)', msg, { uid: true, flags: true }), '* 4 FETCH (UID 42 FLAGS (\\Seen $Forwarded \\Recent))\r\n');
});

test('RFC822, RFC822.TEXT and BODY[TEXT] name their data as RFC 3501 §7.4.2 says', (t) => {
  const msg = message('simple-text');
  const body = Buffer.from(msg.body!).toString('utf8');
  const text = 'Hi Bob,\r\n\r\nLunch at noon?\r\n';
  t.is(fetchLine(1, '(RFC822.TEXT BODY[TEXT])', msg), `* 1 FETCH (RFC822.TEXT {27}\r\n${text} BODY[TEXT] {27}\r\n${text})\r\n`);
  t.is(fetchLine(1, 'RFC822', msg), `* 1 FETCH (RFC822 {${msg.body!.length}}\r\n${body})\r\n`);
  t.is(fetchLine(1, 'BODY[]<20.10>', msg), `* 1 FETCH (BODY[]<20> {10}\r\n${body.slice(20, 30)})\r\n`);
  // a partial running past the end is cut at the end
  t.is(fetchLine(1, 'BODY[TEXT]<20.100>', msg), `* 1 FETCH (BODY[TEXT]<20> {7}\r\n${text.slice(20)})\r\n`);
});

test('top-level HEADER / HEADER.FIELDS are served from the cached header alone', (t) => {
  const full = message('forwarded');
  const headerOnly: FetchInput = { uid: 1, flags: [], recent: false, internalDate: new Date(0), size: 1, modSeq: 1, header: full.header! };
  for (const items of ['BODY.PEEK[HEADER]', 'BODY.PEEK[HEADER.FIELDS (From Subject X-None)]', 'BODY.PEEK[HEADER.FIELDS.NOT (From)]', 'RFC822.HEADER']) {
    t.is(fetchLine(1, items, headerOnly), fetchLine(1, items, { ...full, uid: 1, flags: [], size: 1, modSeq: 1, internalDate: new Date(0) }), items);
  }
  // without a cached header, body + structure do
  const { header: _unused, ...noHeader } = full;
  t.is(fetchLine(1, 'BODY.PEEK[HEADER.FIELDS (Subject)]', noHeader), '* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {23}\r\nSubject: Fwd: Plans\r\n\r\n)\r\n');
});

test('a caller that did not load what fetchNeeds asked for gets an error, not wrong data', (t) => {
  const bare: FetchInput = { uid: 1, flags: [], recent: false, internalDate: new Date(0), size: 1, modSeq: 1 };
  for (const items of ['ENVELOPE', 'BODYSTRUCTURE', 'BODY[]', 'BODY[HEADER]', 'RFC822.TEXT', 'BINARY[1]']) {
    t.throws(() => fetchLine(1, items, bare), { message: /renderFetch/ }, items);
  }
});

test('BINARY of an undecodable transfer encoding is UNKNOWN_CTE (RFC 3516 §4.2)', (t) => {
  const raw = Buffer.from('Subject: x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n');
  const p = prepareMessage(raw);
  const msg: FetchInput = { uid: 1, flags: [], recent: false, internalDate: new Date(0), size: p.data.length, modSeq: 1, structure: p.structure, body: p.data };
  t.throws(() => fetchLine(1, 'BINARY.PEEK[1]', msg), { code: 'UNKNOWN_CTE' });
  t.notThrows(() => fetchLine(1, 'BODY.PEEK[1]', msg));
});

test('a decoded part holding NUL goes out as literal8 (RFC 3516 §4.2)', (t) => {
  const raw = Buffer.from('Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n');
  const p = prepareMessage(raw);
  const msg: FetchInput = { uid: 1, flags: [], recent: false, internalDate: new Date(0), size: p.data.length, modSeq: 1, structure: p.structure, body: p.data };
  t.is(fetchLine(1, 'BINARY.PEEK[1]', msg), '* 1 FETCH (BINARY[1] ~{3}\r\n\x00\x01\x02)\r\n');
});
