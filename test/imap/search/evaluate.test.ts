// SEARCH semantics (RFC 3501 §6.4.4) on a small fixture mailbox: flags,
// dates by day, sizes, sets with "*", decoded header and body text, NOT/OR,
// MODSEQ; plus searchNeeds and metadata-only prematch.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { compileSearch, matches, parseDateDay, prematch, searchNeeds, type SearchInput } from '../../../src/imap/search/evaluate.ts';
import { parseSearch } from '../../../src/imap/search/parse.ts';
import { parseCommand } from '../../../src/imap/protocol/parser.ts';
import { prepareMessage } from '../../../src/mailstore/prepare.ts';
import type { SearchKey } from '../../../src/imap/search/types.ts';

const dir = path.join(import.meta.dirname, '../../mime/fixtures');

function load(name: string, seq: number, uid: number, meta: { flags: string[]; recent: boolean; date: string; modSeq: number }): SearchInput {
  const p = prepareMessage(fs.readFileSync(path.join(dir, `${name}.eml`)));
  return { seq, uid, flags: meta.flags, recent: meta.recent, internalDate: new Date(meta.date), size: p.data.length, modSeq: meta.modSeq, header: p.header, structure: p.structure, body: p.data };
}

// Date: headers: 7 Feb 1994 (-0800), 3 Apr 2025, 4 Apr 2025 (+0200), 2 Apr 2025 (+0200)
const mailbox: SearchInput[] = [
  load('simple-text', 1, 10, { flags: ['\\Seen', '\\Answered'], recent: false, date: '2025-04-01T23:30:00Z', modSeq: 5 }),
  load('forwarded', 2, 20, { flags: [], recent: true, date: '2025-04-02T00:30:00Z', modSeq: 9 }),
  load('non-ascii-headers', 3, 30, { flags: ['\\Flagged', '$Forwarded'], recent: false, date: '2025-04-03T12:00:00Z', modSeq: 12 }),
  load('mixed-base64', 4, 40, { flags: ['\\Seen', '\\Deleted'], recent: true, date: '2025-04-04T00:00:00Z', modSeq: 3 }),
];
const ctx = { maxSeq: 4, maxUid: 40 };

function keyOf(text: string): SearchKey {
  return parseSearch(parseCommand(Buffer.from(`a SEARCH ${text}`)).args, { utf8: false }).key;
}

/** A literal argument (8-bit text cannot be an atom or quoted string). */
const lit = (s: string): string => `{${Buffer.byteLength(s)}}\r\n${s}`;

/** UIDs matching `text` over the fixture mailbox. */
function search(text: string): number[] {
  const key = keyOf(text);
  return mailbox.filter((m) => matches(key, m, ctx)).map((m) => m.uid);
}

test('flags, keywords (case-insensitive), NEW/OLD/RECENT', (t) => {
  t.deepEqual(search('SEEN'), [10, 40]);
  t.deepEqual(search('UNSEEN'), [20, 30]);
  t.deepEqual(search('ANSWERED'), [10]);
  t.deepEqual(search('UNANSWERED'), [20, 30, 40]);
  t.deepEqual(search('DELETED'), [40]);
  t.deepEqual(search('FLAGGED'), [30]);
  t.deepEqual(search('UNDRAFT'), [10, 20, 30, 40]);
  t.deepEqual(search('KEYWORD $forwarded'), [30]);
  t.deepEqual(search('UNKEYWORD $Forwarded'), [10, 20, 40]);
  t.deepEqual(search('RECENT'), [20, 40]);
  t.deepEqual(search('OLD'), [10, 30]);
  t.deepEqual(search('NEW'), [20]);
  t.deepEqual(search('ALL'), [10, 20, 30, 40]);
});

test('INTERNALDATE keys compare the UTC day, time ignored', (t) => {
  t.deepEqual(search('ON 1-Apr-2025'), [10]);
  t.deepEqual(search('BEFORE 2-Apr-2025'), [10]);
  t.deepEqual(search('SINCE 2-Apr-2025'), [20, 30, 40]);
  t.deepEqual(search('SINCE 4-Apr-2025'), [40]);
  t.deepEqual(search('BEFORE 1-Apr-2025'), []);
});

test('SENT* keys use the day written in the Date: header, its zone ignored', (t) => {
  t.deepEqual(search('SENTON 7-Feb-1994'), [10]);
  t.deepEqual(search('SENTBEFORE 1-Jan-2000'), [10]);
  t.deepEqual(search('SENTSINCE 3-Apr-2025'), [20, 30]);
  t.deepEqual(search('SENTON 4-Apr-2025'), [30]); // "Fri, 4 Apr 2025 07:00:00 +0200" is 3 Apr in UTC
  t.is(parseDateDay('Mon, 7 Feb 94 21:52:25 -0800'), Date.UTC(1994, 1, 7) / 86_400_000);
  t.is(parseDateDay('garbage'), null);
});

test('LARGER / SMALLER are strict; sequence and UID sets resolve "*"', (t) => {
  const size = mailbox[0]!.size;
  t.deepEqual(search(`LARGER ${size}`).includes(10), false);
  t.deepEqual(search(`SMALLER ${size + 1}`).includes(10), true);
  t.deepEqual(search(`SMALLER ${size}`).includes(10), false);
  t.deepEqual(search('2:*'), [20, 30, 40]);
  t.deepEqual(search('*'), [40]);
  t.deepEqual(search('1,3'), [10, 30]);
  t.deepEqual(search('UID 15:30'), [20, 30]);
  t.deepEqual(search('UID *'), [40]);
  t.deepEqual(search('UID 50:*'), [40]); // "*" is the highest UID even below 50 (RFC 3501 §6.4.8)
});

test('header keys: case-insensitive substrings of decoded values, names and addresses', (t) => {
  t.deepEqual(search('FROM alice'), [10]);
  t.deepEqual(search('FROM "ALICE EXAMPLE"'), [10]);
  t.deepEqual(search('FROM example.org'), [10]);
  t.deepEqual(search('TO erin@example.com'), [40]);
  t.deepEqual(search(`FROM ${lit('Jörg')}`), [30]); // an encoded-word display name
  t.deepEqual(search(`SUBJECT ${lit('grüße')}`), [30]); // ISO-8859-1 encoded-word
  t.deepEqual(search(`SUBJECT ${lit('✓ done')}`), [30]);
  t.deepEqual(search('SUBJECT plans'), [20]); // outer subject only, not the forwarded message's
  t.deepEqual(search('CC anyone'), []);
  t.deepEqual(search('HEADER Message-ID "<mixed-1@"'), [40]);
  t.deepEqual(search('HEADER content-transfer-encoding ""'), [30]); // empty string: field present
  t.deepEqual(search('HEADER X-Missing ""'), []);
});

test('BODY searches decoded text parts; TEXT covers header and body', (t) => {
  t.deepEqual(search('BODY "lunch at noon"'), [10]);
  t.deepEqual(search(`BODY ${lit('münchen')}`), [30]);
  t.deepEqual(search('BODY "meet at 5"'), [20]); // inside the forwarded message
  t.deepEqual(search('BODY JVBERi0x'), []); // a base64 attachment is not text
  t.deepEqual(search('BODY alice'), []);
  t.deepEqual(search('TEXT alice'), [10]);
  t.deepEqual(search('TEXT "lunch at noon"'), [10]);
  t.deepEqual(search('TEXT "subject: report"'), [40]);
});

test('NOT, OR, lists and MODSEQ combine', (t) => {
  t.deepEqual(search('NOT SEEN'), [20, 30]);
  t.deepEqual(search('OR FLAGGED DELETED'), [30, 40]);
  t.deepEqual(search('OR (SEEN ANSWERED) (UNSEEN FROM heidi)'), [10]);
  t.deepEqual(search('NOT (OR SEEN RECENT)'), [30]);
  t.deepEqual(search('UNSEEN SINCE 3-Apr-2025'), [30]);
  t.deepEqual(search('MODSEQ 9'), [20, 30]);
  t.deepEqual(search('MODSEQ "/flags/\\\\seen" all 10 FLAGGED'), [30]);
});

test('searchNeeds loads only what the keys read', (t) => {
  t.deepEqual(searchNeeds(keyOf('UNSEEN SINCE 1-Jan-2020 UID 1:* LARGER 5 MODSEQ 1 NOT RECENT')), { header: false, structure: false, body: false });
  t.deepEqual(searchNeeds(keyOf('OR FROM a SENTON 1-Jan-2020')), { header: true, structure: false, body: false });
  t.deepEqual(searchNeeds(keyOf('NOT BODY x')), { header: false, structure: true, body: true });
  t.deepEqual(searchNeeds(keyOf('TEXT x')), { header: true, structure: true, body: true });
});

test('metadata-only messages: flags search works, prematch defers text keys', (t) => {
  const bare = mailbox.map(({ header: _h, structure: _s, body: _b, ...meta }) => meta);
  const unseenFrom = keyOf('UNSEEN FROM joerg');
  // seen messages fail on metadata alone; unseen ones need their header
  t.deepEqual(bare.map((m) => prematch(unseenFrom, m, ctx)), [false, null, null, false]);
  t.deepEqual(bare.map((m) => prematch(keyOf('OR SEEN BODY x'), m, ctx)), [true, null, null, true]);
  t.deepEqual(bare.filter((m) => matches(keyOf('FLAGGED'), m, ctx)).map((m) => m.uid), [30]);
  // a caller that ignores searchNeeds gets an error, not a silent "no match"
  t.throws(() => matches(unseenFrom, bare[1]!, ctx), { message: /not loaded/ });
  // header alone serves header keys, body + structure alone serve them too
  const { body: _b, structure: _s, ...headerOnly } = mailbox[2]!;
  t.true(matches(unseenFrom, headerOnly, ctx));
  const { header: _h, ...noHeader } = mailbox[2]!;
  t.true(matches(unseenFrom, noHeader, ctx));
});

test('compileSearch resolves "*" against the context it was compiled for', (t) => {
  const key = keyOf('*');
  t.true(compileSearch(key, { maxSeq: 4, maxUid: 40 }).matches(mailbox[3]!));
  t.false(compileSearch(key, { maxSeq: 5, maxUid: 50 }).matches(mailbox[3]!));
  // matches() caches per key but notices a changed context
  t.true(matches(key, mailbox[3]!, { maxSeq: 4, maxUid: 40 }));
  t.false(matches(key, mailbox[3]!, { maxSeq: 5, maxUid: 50 }));
});
