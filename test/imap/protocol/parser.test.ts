// parseCommand on real client commands (Thunderbird, Outlook, imapflow),
// RFC 3501 §9 token forms, malformed input and a random-bytes fuzz.
import test from 'ava';
import { ImapParseError } from '../../../src/imap/protocol/errors.ts';
import { parseCommand } from '../../../src/imap/protocol/parser.ts';
import type { Token } from '../../../src/imap/protocol/types.ts';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const parse = (s: string) => parseCommand(enc(s));

// Compact view of tokens for readable expectations: atoms as text, strings as
// {s} / {lit}, lists as arrays, sections as {atom, section, partial}.
type View = string | { s: string } | { lit: string } | View[] | { atom: string; section: View[]; partial?: { start: number; length?: number } };
function view(t: Token): View {
  if (t.type === 'list') return t.items.map(view);
  if (t.type === 'string') return t.literal ? { lit: Buffer.from(t.value).toString('latin1') } : { s: Buffer.from(t.value).toString('latin1') };
  if (t.section === undefined) return t.value;
  return t.partial ? { atom: t.value, section: t.section.map(view), partial: t.partial } : { atom: t.value, section: t.section.map(view) };
}
const args = (s: string): View[] => parse(s).args.map(view);

test('Thunderbird UID FETCH with HEADER.FIELDS', (t) => {
  const cmd = parse(
    'A1 UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])',
  );
  t.is(cmd.tag, 'A1');
  t.is(cmd.name, 'UID FETCH');
  t.deepEqual(cmd.args.map(view), [
    '1:*',
    [
      'UID',
      'RFC822.SIZE',
      'FLAGS',
      {
        atom: 'BODY.PEEK',
        section: [
          'HEADER.FIELDS',
          ['From', 'To', 'Cc', 'Bcc', 'Subject', 'Date', 'Message-ID', 'Priority', 'X-Priority', 'References', 'Newsgroups', 'In-Reply-To', 'Content-Type', 'Reply-To'],
        ],
      },
    ],
  ]);
});

test('FETCH sections, partials, BINARY and RFC822.HEADER', (t) => {
  t.deepEqual(args('a fetch 1 (BODY[] BODY.PEEK[1.2.MIME]<0.100> BINARY[1] binary.peek[2]<5> BODY[HEADER.FIELDS.NOT ("X-Spam")] RFC822.HEADER)'), [
    '1',
    [
      { atom: 'BODY', section: [] },
      { atom: 'BODY.PEEK', section: ['1.2.MIME'], partial: { start: 0, length: 100 } },
      { atom: 'BINARY', section: ['1'] },
      { atom: 'binary.peek', section: ['2'], partial: { start: 5 } },
      { atom: 'BODY', section: ['HEADER.FIELDS.NOT', [{ s: 'X-Spam' }]] },
      'RFC822.HEADER',
    ],
  ]);
  t.is(parse('a fetch 1 body[]').name, 'FETCH');
  // A bare BODY and a single attribute without parentheses
  t.deepEqual(args('a FETCH 2:4 BODY'), ['2:4', 'BODY']);
});

test('"[" opens a section only after BODY/BINARY; elsewhere it is an atom character', (t) => {
  t.deepEqual(args('a SELECT foo[bar]'), ['foo[bar]']);
  t.deepEqual(args('a LIST "" [Gmail]/*'), [{ s: '' }, '[Gmail]/*']);
});

test('APPEND with flags, date-time and a non-sync literal (imapflow)', (t) => {
  const cmd = parse('a APPEND "Sent" (\\Seen) "25-Nov-2026 10:00:00 +0100" {5+}\r\nhello');
  t.is(cmd.name, 'APPEND');
  t.deepEqual(cmd.args.map(view), [{ s: 'Sent' }, ['\\Seen'], { s: '25-Nov-2026 10:00:00 +0100' }, { lit: 'hello' }]);
});

test('SEARCH CHARSET with a sync literal', (t) => {
  t.deepEqual(args('A SEARCH CHARSET UTF-8 SUBJECT {4}\r\ntest'), ['CHARSET', 'UTF-8', 'SUBJECT', { lit: 'test' }]);
  // literal8 and bytes that are not text
  const cmd = parse('A APPEND INBOX ~{3}\r\n\x00\r\n');
  t.deepEqual([...(cmd.args[1] as { value: Uint8Array }).value], [0, 13, 10]);
  t.true((cmd.args[1] as { literal: boolean }).literal);
  // a literal followed by more arguments
  t.deepEqual(args('a LOGIN {4}\r\nuser {4}\r\npass'), [{ lit: 'user' }, { lit: 'pass' }]);
});

test('SELECT with CONDSTORE and QRESYNC parameters', (t) => {
  t.deepEqual(args('a SELECT INBOX (CONDSTORE)'), ['INBOX', ['CONDSTORE']]);
  t.deepEqual(args('a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))'), [
    'INBOX',
    ['QRESYNC', ['67890007', '20050715194045000', '41,43:211,214:541']],
  ]);
});

test('STORE, LIST RETURN, UID variants, search keys', (t) => {
  const store = parse('a STORE 1:3 +FLAGS.SILENT (\\Deleted)');
  t.deepEqual(store.args.map(view), ['1:3', '+FLAGS.SILENT', ['\\Deleted']]);
  t.deepEqual(args('a LIST "" "*" RETURN (SPECIAL-USE)'), [{ s: '' }, { s: '*' }, 'RETURN', ['SPECIAL-USE']]);
  t.deepEqual(args('a LIST "" %'), [{ s: '' }, '%']);
  for (const n of ['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'EXPUNGE']) {
    t.is(parse(`t uid ${n.toLowerCase()} 1`).name, `UID ${n}`);
  }
  t.deepEqual(args('a UID SEARCH $ NOT DELETED'), ['$', 'NOT', 'DELETED']);
  t.deepEqual(args('a UID STORE 1:* (UNCHANGEDSINCE 12345) +FLAGS ($Forwarded)'), ['1:*', ['UNCHANGEDSINCE', '12345'], '+FLAGS', ['$Forwarded']]);
  const noop = parse('abc.1 noop');
  t.deepEqual(noop, { tag: 'abc.1', name: 'NOOP', args: [] });
});

test('quoted strings: escapes, empty, UTF-8 bytes', (t) => {
  t.deepEqual(args('a LOGIN "us\\"er" "p\\\\w"'), [{ s: 'us"er' }, { s: 'p\\w' }]);
  t.deepEqual(args('a LOGIN "" ""'), [{ s: '' }, { s: '' }]);
  const cmd = parseCommand(Buffer.from('a SELECT "Entwürfe"'));
  t.is(Buffer.from((cmd.args[0] as { value: Uint8Array }).value).toString('utf8'), 'Entwürfe');
});

test('nested lists, empty lists and tolerated extra spaces', (t) => {
  t.deepEqual(args('a X (() (a (b (c))) NIL)'), [[[], ['a', ['b', ['c']]], 'NIL']]);
  t.deepEqual(args('a NOOP '), []);
  t.deepEqual(args('a X  1   2'), ['1', '2']);
});

function parseError(t: import('ava').ExecutionContext, input: string, tag: string | null): ImapParseError {
  const err = t.throws(() => parse(input), { instanceOf: ImapParseError });
  t.is(err!.code, 'IMAP_PARSE');
  t.is(err!.tag, tag, input);
  t.false(/[\r\n]/.test(err!.message));
  return err!;
}

test('malformed commands throw ImapParseError with the tag', (t) => {
  parseError(t, 'a1 LOGIN "user pass', 'a1'); // unterminated quote
  parseError(t, 'a1 FETCH 1 (FLAGS (UID)', 'a1'); // unbalanced
  parseError(t, 'a1 FETCH 1 FLAGS)', 'a1');
  parseError(t, 'a1 LOGIN {abc}\r\nxyz', 'a1');
  parseError(t, 'a1 LOGIN {10}\r\nshort', 'a1');
  parseError(t, 'a1 LOGIN {3} abc', 'a1');
  parseError(t, 'a1 LOGIN "a\\x"', 'a1'); // only \" and \\ may be escaped
  parseError(t, 'a1 FETCH 1 BODY[HEADER', 'a1');
  parseError(t, 'a1 FETCH 1 BODY[]<0.>', 'a1');
  parseError(t, 'a1 FETCH 1 BODY[]<0.0>', 'a1'); // length is nz-number
  parseError(t, 'a1 FETCH 1 (FLAGS)(UID)', 'a1');
  parseError(t, 'a1 LOGIN "a"b', 'a1');
  parseError(t, 'a1 UID', 'a1');
  parseError(t, 'a1', 'a1');
  parseError(t, 'a1 N(OOP', 'a1');
  parseError(t, 'a1 X \x01', 'a1');
  parseError(t, 'a1 X ' + '('.repeat(200) + ')'.repeat(200), 'a1');
  parseError(t, '', null);
  parseError(t, 'a+b NOOP', null);
  parseError(t, '* NOOP', null);
});

test('fuzz: random bytes never throw anything but ImapParseError and never hang', (t) => {
  // Deterministic PRNG so a failure can be replayed.
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const alphabet = enc('a1 ()[]<>{}~+"\\*%.:,0123456789\r\nBODY.PEEK UID BINARY HEADER.FIELDS \x00\xff');
  const seeds = [
    'a1 UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (From)]<0.100>)',
    'a APPEND "Sent" (\\Seen) {5+}\r\nhello',
    'a SELECT INBOX (QRESYNC (1 2 3:4))',
  ].map(enc);
  const started = Date.now();
  let ok = 0;
  for (let i = 0; i < 20000; i++) {
    let input: Uint8Array;
    if (i % 2 === 0) {
      input = new Uint8Array(rnd(80));
      for (let k = 0; k < input.length; k++) input[k] = i % 4 === 0 ? rnd(256) : alphabet[rnd(alphabet.length)]!;
    } else {
      // Mutate a real command.
      input = seeds[rnd(seeds.length)]!.slice();
      for (let k = rnd(4); k >= 0; k--) input[rnd(input.length)] = alphabet[rnd(alphabet.length)]!;
      if (rnd(3) === 0) input = input.subarray(0, rnd(input.length + 1));
    }
    try {
      parseCommand(input);
      ok++;
    } catch (err) {
      // A cause means the parser's safety net caught an internal bug.
      if (!(err instanceof ImapParseError) || err.cause !== undefined) {
        t.fail(`threw ${String(err)} on ${JSON.stringify(Buffer.from(input).toString('latin1'))}`);
        return;
      }
    }
  }
  t.true(ok > 0);
  t.true(Date.now() - started < 10000);
});

test('a large literal is taken without copying per byte', (t) => {
  const body = Buffer.alloc(5 * 1024 * 1024, 0x61);
  const frame = Buffer.concat([enc(`a APPEND INBOX {${body.length}}\r\n`), body]);
  const cmd = parseCommand(frame);
  t.is((cmd.args[1] as { value: Uint8Array }).value.length, body.length);
});
