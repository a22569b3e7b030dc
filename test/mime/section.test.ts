// BODY[section] (RFC 3501 §6.4.5) edge cases not covered by the fixtures.
import test from 'ava';
import { parseMessage } from '../../src/mime/parse.ts';
import { extractSection } from '../../src/mime/section.ts';
import type { SectionSpec } from '../../src/mime/types.ts';

const raw = Buffer.from('Subject: s\r\nTo: a@b\r\nX-A: 1\r\nsubject: again\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\n\r\ninner');
const root = parseMessage(raw);
const get = (spec: SectionSpec): string | null => {
  const b = extractSection(raw, root, spec);
  return b === null ? null : Buffer.from(b).toString();
};

test('HEADER.FIELDS keeps message order and repeated fields, matches names case-insensitively', (t) => {
  t.is(get({ path: [], text: 'HEADER.FIELDS', fields: ['SUBJECT', 'x-a'] }), 'Subject: s\r\nX-A: 1\r\nsubject: again\r\n\r\n');
  t.is(get({ path: [], text: 'HEADER.FIELDS.NOT', fields: ['subject', 'content-type'] }), 'To: a@b\r\nX-A: 1\r\n\r\n');
});

test('a message whose body is message/rfc822: BODY[1] is the encapsulated message, BODY[1.1] its body', (t) => {
  t.is(get({ path: [1], text: null }), 'From: x@y\r\n\r\ninner');
  t.is(get({ path: [1], text: 'HEADER' }), 'From: x@y\r\n\r\n');
  t.is(get({ path: [1, 1], text: null }), 'inner');
  t.is(get({ path: [1], text: 'MIME' }), Buffer.from(raw.subarray(0, raw.indexOf('\r\n\r\n') + 4)).toString());
  t.is(get({ path: [1, 1], text: 'HEADER' }), null);
  t.is(get({ path: [1, 2], text: null }), null);
  t.is(get({ path: [2], text: null }), null);
  t.is(get({ path: [0], text: null }), null);
  t.is(get({ path: [], text: 'MIME' }), null);
});

test('a header that ends the message without CRLF still yields CRLF-terminated fields', (t) => {
  const r = Buffer.from('From: a@b\r\nSubject: last');
  const n = parseMessage(r);
  t.is(Buffer.from(extractSection(r, n, { path: [], text: 'HEADER.FIELDS', fields: ['subject'] })!).toString(), 'Subject: last\r\n\r\n');
  t.is(extractSection(r, n, { path: [1], text: null })?.length, 0);
});
