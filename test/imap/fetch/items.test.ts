// FETCH item parsing (RFC 3501 §6.4.5, RFC 7162 MODSEQ, RFC 3516 BINARY) and
// what each item needs loaded / whether it sets \Seen.
import test from 'ava';
import { fetchNeeds, parseFetchItems, type FetchItem } from '../../../src/imap/fetch/items.ts';
import { parseCommand } from '../../../src/imap/protocol/parser.ts';

/** The item argument of "a FETCH 1 <text>" as the real parser produces it. */
function items(text: string): FetchItem[] {
  const cmd = parseCommand(Buffer.from(`a FETCH 1 ${text}`));
  return parseFetchItems(cmd.args[1]);
}

function parseError(t: import('ava').ExecutionContext, text: string): string {
  const err = t.throws(() => items(text));
  t.is((err as { code?: string } | undefined)?.code, 'IMAP_PARSE', text);
  return err?.message ?? '';
}

test('RFC 3501 §6.4.5 macros expand', (t) => {
  t.deepEqual(items('ALL').map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
  t.deepEqual(items('fast').map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  t.deepEqual(items('FULL').map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
});

test('simple items, single or in a list, any case', (t) => {
  t.deepEqual(items('uid'), [{ kind: 'UID' }]);
  t.deepEqual(
    items('(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE MODSEQ RFC822 RFC822.HEADER RFC822.TEXT)').map((i) => i.kind),
    ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'],
  );
});

test('BODY[section] forms parse into SectionSpec and response names', (t) => {
  t.deepEqual(items('BODY[]'), [{ kind: 'BODY[]', peek: false, section: { path: [], text: null }, name: 'BODY[]', partial: null }]);
  t.deepEqual(items('body.peek[1.2.mime]<10.20>'), [
    { kind: 'BODY[]', peek: true, section: { path: [1, 2], text: 'MIME' }, name: 'BODY[1.2.MIME]', partial: { start: 10, length: 20 } },
  ]);
  t.deepEqual(items('BODY[text]<5>'), [{ kind: 'BODY[]', peek: false, section: { path: [], text: 'TEXT' }, name: 'BODY[TEXT]', partial: { start: 5 } }]);
  t.deepEqual(items('BODY[3]'), [{ kind: 'BODY[]', peek: false, section: { path: [3], text: null }, name: 'BODY[3]', partial: null }]);
  t.deepEqual(items('BODY[2.HEADER]')[0], { kind: 'BODY[]', peek: false, section: { path: [2], text: 'HEADER' }, name: 'BODY[2.HEADER]', partial: null });
});

test('HEADER.FIELDS echoes field names upper-cased, quoted ones kept quoted (as Dovecot)', (t) => {
  const [item] = items('(BODY.PEEK[HEADER.FIELDS (From to "X-Spam")])');
  t.deepEqual(item, {
    kind: 'BODY[]', peek: true, partial: null,
    section: { path: [], text: 'HEADER.FIELDS', fields: ['From', 'to', 'X-Spam'] },
    name: 'BODY[HEADER.FIELDS (FROM TO "X-SPAM")]',
  });
  const [not] = items('BODY[1.header.fields.not (Received)]');
  t.deepEqual(not, {
    kind: 'BODY[]', peek: false, partial: null,
    section: { path: [1], text: 'HEADER.FIELDS.NOT', fields: ['Received'] },
    name: 'BODY[1.HEADER.FIELDS.NOT (RECEIVED)]',
  });
});

test('BINARY, BINARY.PEEK and BINARY.SIZE (RFC 3516)', (t) => {
  t.deepEqual(items('(BINARY[1.2]<0.5> BINARY.PEEK[] BINARY.SIZE[2])'), [
    { kind: 'BINARY[]', peek: false, path: [1, 2], name: 'BINARY[1.2]', partial: { start: 0, length: 5 } },
    { kind: 'BINARY[]', peek: true, path: [], name: 'BINARY[]', partial: null },
    { kind: 'BINARY.SIZE', path: [2], name: 'BINARY.SIZE[2]' },
  ]);
});

test('duplicates are sent once; BODY[x] after BODY.PEEK[x] keeps its \\Seen effect', (t) => {
  t.deepEqual(items('(UID FLAGS UID)').map((i) => i.kind), ['UID', 'FLAGS']);
  const list = items('(BODY.PEEK[TEXT] BODY[TEXT])');
  t.is(list.length, 1);
  t.true(fetchNeeds(list).setsSeen);
  t.is(items('(BODY[]<0.10> BODY[]<0.20>)').length, 2);
});

test('invalid items and sections are BAD with a clear message', (t) => {
  t.regex(parseError(t, 'BODY[0]'), /part number/);
  t.regex(parseError(t, 'BODY[1.0.2]'), /part number/);
  t.regex(parseError(t, 'BODY[01]'), /part number/);
  t.regex(parseError(t, 'BODY[HEADER.FIELDS ()]'), /at least one field/);
  t.regex(parseError(t, 'BODY[HEADER.FIELDS]'), /list of field names/);
  t.regex(parseError(t, 'BODY[HEADER.FIELDS FROM]'), /list of field names/);
  t.regex(parseError(t, 'BODY[MIME]'), /MIME needs a part/);
  t.regex(parseError(t, 'BODY[1.FOO]'), /Invalid section text/);
  t.regex(parseError(t, 'BODY[TEXT (X)]'), /unexpected/);
  t.regex(parseError(t, 'BODY[1 2]'), /unexpected/);
  t.regex(parseError(t, '(FLAGS ALL)'), /macro/);
  t.regex(parseError(t, '()'), /empty/);
  t.regex(parseError(t, 'RFC822.BOGUS'), /Unknown FETCH item/);
  t.regex(parseError(t, '("UID")'), /attribute name/);
  t.regex(parseError(t, 'BINARY[1.TEXT]'), /part numbers/);
  t.regex(parseError(t, 'BINARY.SIZE[1]<0.5>'), /partial/);
  t.regex(parseError(t, 'BODY[HEADER.FIELDS ("a:b")]'), /field name/);
  t.throws(() => parseFetchItems(undefined), { code: 'IMAP_PARSE' });
});

test('fetchNeeds: header-only path for top-level HEADER / HEADER.FIELDS (Thunderbird sync)', (t) => {
  t.deepEqual(fetchNeeds(items('(UID FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject Date)])')),
    { structure: false, header: true, summary: false, body: false, setsSeen: false, modSeq: false });
  t.deepEqual(fetchNeeds(items('(BODY.PEEK[HEADER] RFC822.HEADER)')),
    { structure: false, header: true, summary: false, body: false, setsSeen: false, modSeq: false });
  t.deepEqual(fetchNeeds(items('FAST')), { structure: false, header: false, summary: false, body: false, setsSeen: false, modSeq: false });
  t.deepEqual(fetchNeeds(items('(ENVELOPE BODYSTRUCTURE MODSEQ)')), { structure: false, header: false, summary: true, body: false, setsSeen: false, modSeq: true });
  // a nested message's header needs the body and offsets
  t.deepEqual(fetchNeeds(items('BODY.PEEK[2.HEADER]')), { structure: true, header: false, summary: false, body: true, setsSeen: false, modSeq: false });
  t.deepEqual(fetchNeeds(items('BODY.PEEK[]')), { structure: false, header: false, summary: false, body: true, setsSeen: false, modSeq: false });
});

test('fetchNeeds.setsSeen per RFC 3501 §6.4.5', (t) => {
  const seen = (text: string): boolean => fetchNeeds(items(text)).setsSeen;
  t.true(seen('BODY[]'));
  t.true(seen('BODY[HEADER]'));
  t.true(seen('BODY[1]<0.10>'));
  t.true(seen('RFC822'));
  t.true(seen('RFC822.TEXT'));
  t.true(seen('BINARY[1]'));
  t.false(seen('BODY.PEEK[]'));
  t.false(seen('BINARY.PEEK[1]'));
  t.false(seen('BINARY.SIZE[1]'));
  t.false(seen('RFC822.HEADER'));
  t.false(seen('(BODY BODYSTRUCTURE ENVELOPE FLAGS)'));
});
