// CommandFramer: RFC 3501 §4.3 literals, RFC 7888 LITERAL+ refusal rules,
// line limits and recovery, arbitrary chunk boundaries.
import test from 'ava';
import { CommandFramer, type FramerError, type FramerOptions, type LiteralInfo } from '../../../src/imap/protocol/framer.ts';

type Event = { frame: string } | { continuation: true } | { error: FramerError };

function harness(opts: Partial<FramerOptions> = {}): { framer: CommandFramer; events: Event[]; frames: Uint8Array[]; literals: LiteralInfo[] } {
  const events: Event[] = [];
  const frames: Uint8Array[] = [];
  const literals: LiteralInfo[] = [];
  const user = opts.onLiteral;
  const framer = new CommandFramer(
    {
      maxLineLength: opts.maxLineLength ?? 1000,
      maxLiteralSize: opts.maxLiteralSize ?? 1000,
      onLiteral: (info) => {
        literals.push({ ...info, commandSoFar: info.commandSoFar.slice() });
        return user ? user(info) : null;
      },
    },
    {
      frame: (bytes) => {
        frames.push(bytes);
        events.push({ frame: Buffer.from(bytes).toString('latin1') });
      },
      continuation: () => events.push({ continuation: true }),
      error: (e) => events.push({ error: e }),
    },
  );
  return { framer, events, frames, literals };
}

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');

function feedBytewise(framer: CommandFramer, s: string): void {
  const b = enc(s);
  for (let i = 0; i < b.length; i++) framer.push(b.subarray(i, i + 1));
}

const STREAM =
  'a1 NOOP\r\n' +
  'a2 LOGIN {4}\r\nuser {6+}\r\npa\r\nss\r\n' +
  'a3 APPEND INBOX (\\Seen) ~{3}\r\n\x00\x01\x02\r\n' +
  'a4 SELECT INBOX\n' + // bare LF
  '\r\n' + // blank line: ignored
  'a5 LOGOUT\r\n';

const EXPECTED: Event[] = [
  { frame: 'a1 NOOP' },
  { continuation: true },
  { frame: 'a2 LOGIN {4}\r\nuser {6+}\r\npa\r\nss' },
  { continuation: true },
  { frame: 'a3 APPEND INBOX (\\Seen) ~{3}\r\n\x00\x01\x02' },
  { frame: 'a4 SELECT INBOX' },
  { frame: 'a5 LOGOUT' },
];

test('frames a pipelined stream fed in one chunk', (t) => {
  const h = harness();
  h.framer.push(enc(STREAM));
  t.deepEqual(h.events, EXPECTED);
});

test('frames the same stream fed byte by byte', (t) => {
  const h = harness();
  feedBytewise(h.framer, STREAM);
  t.deepEqual(h.events, EXPECTED);
});

test('frames the same stream at every two-chunk split', (t) => {
  const all = enc(STREAM);
  for (let cut = 0; cut <= all.length; cut++) {
    const h = harness();
    h.framer.push(all.slice(0, cut));
    h.framer.push(all.slice(cut));
    t.deepEqual(h.events, EXPECTED, `split at ${cut}`);
  }
});

test('a chunk buffer reused by the caller does not corrupt frames', (t) => {
  const h = harness();
  const scratch = new Uint8Array(4);
  const data = enc('a1 LOGIN {3}\r\nabc def\r\n');
  for (let i = 0; i < data.length; i += 4) {
    const n = Math.min(4, data.length - i);
    scratch.set(data.subarray(i, i + n));
    h.framer.push(scratch.subarray(0, n));
  }
  t.deepEqual(h.events.at(-1), { frame: 'a1 LOGIN {3}\r\nabc def' });
});

test('onLiteral sees tag, size, sync flag and the command so far', (t) => {
  const h = harness();
  h.framer.push(enc('x7 APPEND Sent {5+}\r\nhello {2}\r\nhi\r\n'));
  t.is(h.literals.length, 2);
  t.like(h.literals[0], { tag: 'x7', size: 5, sync: false });
  t.is(Buffer.from(h.literals[0]!.commandSoFar).toString(), 'x7 APPEND Sent {5+}');
  t.like(h.literals[1], { tag: 'x7', size: 2, sync: true });
  t.is(Buffer.from(h.literals[1]!.commandSoFar).toString(), 'x7 APPEND Sent {5+}\r\nhello {2}');
  t.deepEqual(h.events, [{ continuation: true }, { frame: 'x7 APPEND Sent {5+}\r\nhello {2}\r\nhi' }]);
});

test('a too-big sync literal is refused without continuation; the next command is read', (t) => {
  const h = harness({ maxLiteralSize: 10 });
  // The client gets NO and never sends the literal; its next command follows.
  feedBytewise(h.framer, 'a1 APPEND INBOX {11}\r\na2 NOOP\r\n');
  t.deepEqual(h.events, [
    { error: { tag: 'a1', kind: 'literal-too-big', reason: 'Literal too big (max 10 octets)', sync: true } },
    { frame: 'a2 NOOP' },
  ]);
});

test('a refused sync literal (onLiteral) reports literal-refused', (t) => {
  const h = harness({ onLiteral: (i) => (i.size > 3 ? 'no thanks' : null) });
  h.framer.push(enc('a1 LOGIN {4}\r\na2 LOGIN {3}\r\nabc {1}\r\nx\r\n'));
  t.deepEqual(h.events, [
    { error: { tag: 'a1', kind: 'literal-refused', reason: 'no thanks', sync: true } },
    { continuation: true },
    { continuation: true },
    { frame: 'a2 LOGIN {3}\r\nabc {1}\r\nx' },
  ]);
});

test('a too-big non-sync literal is read and discarded with the rest of its command (RFC 7888 §4)', (t) => {
  const h = harness({ maxLiteralSize: 4 });
  // The discarded part contains something that looks like a command and a second literal.
  const stream = 'a1 APPEND INBOX {9+}\r\na9 NOOP\r\n {3+}\r\nxyz)\r\na2 NOOP\r\n';
  feedBytewise(h.framer, stream);
  t.deepEqual(h.events, [
    { error: { tag: 'a1', kind: 'literal-too-big', reason: 'Literal too big (max 4 octets)', sync: false } },
    { frame: 'a2 NOOP' },
  ]);
  const h2 = harness({ maxLiteralSize: 4 });
  h2.framer.push(enc(stream));
  t.deepEqual(h2.events, h.events);
});

test('literal sizes add up per command', (t) => {
  const h = harness({ maxLiteralSize: 5 });
  h.framer.push(enc('a1 X {3+}\r\nabc {3+}\r\ndef\r\na2 NOOP\r\n'));
  t.is(h.events.length, 2);
  t.like(h.events[0], { error: { kind: 'literal-too-big', sync: false } });
  t.deepEqual(h.events[1], { frame: 'a2 NOOP' });
});

test('a line too long is reported once, skipped to its end, and framing recovers', (t) => {
  const h = harness({ maxLineLength: 20 });
  feedBytewise(h.framer, `a1 SEARCH ${'x'.repeat(100)}\r\na2 NOOP\r\n`);
  t.deepEqual(h.events, [
    { error: { tag: 'a1', kind: 'line-too-long', reason: 'Command line too long (max 20 octets)', sync: false } },
    { frame: 'a2 NOOP' },
  ]);
});

test('the line limit is exact and does not count CRLF', (t) => {
  const h = harness({ maxLineLength: 10 });
  h.framer.push(enc('a1 NOOP123\r\na2 NOOP1234\r\na3 NOOP123\na4 NOOP1234\n'));
  t.deepEqual(
    h.events.map((e) => ('frame' in e ? e.frame : 'error' in e ? `${e.error.tag}:${e.error.kind}` : 'cont')),
    ['a1 NOOP123', 'a2:line-too-long', 'a3 NOOP123', 'a4:line-too-long'],
  );
});

test('a too-long line ending in a non-sync literal also skips that literal', (t) => {
  const h = harness({ maxLineLength: 20 });
  feedBytewise(h.framer, `a1 APPEND ${'y'.repeat(40)} {9+}\r\na3 NOOP\r\n\r\na2 NOOP\r\n`);
  t.deepEqual(h.events, [
    { error: { tag: 'a1', kind: 'line-too-long', reason: 'Command line too long (max 20 octets)', sync: false } },
    { frame: 'a2 NOOP' },
  ]);
});

test('the line limit counts all lines of one command', (t) => {
  const h = harness({ maxLineLength: 20 });
  h.framer.push(enc('a1 X {1+}\r\nA 0123456789012\r\na2 NOOP\r\n'));
  t.like(h.events[0], { error: { tag: 'a1', kind: 'line-too-long' } });
  t.deepEqual(h.events.slice(1), [{ frame: 'a2 NOOP' }]);
});

test('an untagged garbage line reports tag null', (t) => {
  const h = harness({ maxLineLength: 8 });
  h.framer.push(enc('(((((((((((((((\r\n'));
  t.deepEqual(h.events, [{ error: { tag: null, kind: 'line-too-long', reason: 'Command line too long (max 8 octets)', sync: false } }]);
});

test('a zero-length literal', (t) => {
  const h = harness();
  h.framer.push(enc('a1 LOGIN {0+}\r\n {0}\r\n\r\n'));
  t.deepEqual(h.events, [{ continuation: true }, { frame: 'a1 LOGIN {0+}\r\n {0}\r\n' }]);
});

test('a 25 MB literal in 64 KiB chunks arrives intact and quickly', (t) => {
  const size = 25 * 1024 * 1024;
  const h = harness({ maxLiteralSize: size });
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31) & 0xff;
  const head = enc(`A1 APPEND INBOX {${size}}\r\n`);
  const started = performance.now();
  h.framer.push(head);
  for (let i = 0; i < size; i += 65536) h.framer.push(body.subarray(i, Math.min(size, i + 65536)));
  h.framer.push(enc(')\r\n'));
  const ms = performance.now() - started;
  t.is(h.frames.length, 1);
  const frame = h.frames[0]!;
  t.is(frame.length, head.length + size + 1);
  t.true(Buffer.from(frame.subarray(head.length, head.length + size)).equals(body));
  t.is(frame[frame.length - 1], 0x29);
  // Measured about 16 ms (one copy per byte); repeated concatenation would take seconds.
  t.true(ms < 2000, `took ${ms} ms`);
});

test('rejects bad options', (t) => {
  t.throws(() => new CommandFramer({ maxLineLength: 0, maxLiteralSize: 1 }, { frame() {}, continuation() {}, error() {} }));
});
