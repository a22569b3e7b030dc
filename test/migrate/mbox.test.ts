// mbox reader (RFC 4155, mboxrd/mboxo quoting): fixtures with expected output
// (fixtures/mbox/sample*.mbox + sample.expected.json), the same file read with
// chunk sizes that split every line ending, long lines, resuming at an
// offset, and errors by code.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrateError } from '../../src/migrate/errors.ts';
import { readMbox, type MboxOptions } from '../../src/migrate/mbox.ts';
import type { SourceMessage } from '../../src/migrate/types.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'mbox');
const LF_FILE = path.join(FIXTURES, 'sample.mbox');
const CRLF_FILE = path.join(FIXTURES, 'sample-crlf.mbox');

interface Expected {
  offsetLf: number;
  offsetCrlf: number;
  internalDate: string;
  flags: string[];
  lines: string[];
  endsWithNewline: boolean;
}
const EXPECTED = (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'sample.expected.json'), 'utf8')) as { messages: Expected[] }).messages;

function expectedRaw(e: Expected): Buffer {
  return Buffer.from(e.lines.join('\r\n') + (e.endsWithNewline ? '\r\n' : ''), 'utf8');
}

async function collect(file: string, options: MboxOptions = {}): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const m of readMbox(file, options)) out.push(m);
  return out;
}

async function failure(file: string, options: MboxOptions = {}): Promise<MigrateError> {
  try {
    await collect(file, options);
  } catch (err) {
    if (err instanceof MigrateError) return err;
    throw err;
  }
  throw new Error('expected a MigrateError');
}

const sorted = (flags: readonly string[]): string[] => [...flags].sort();

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-mbox-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the fixtures really are LF and CRLF files without a final line ending', (t) => {
  const lf = fs.readFileSync(LF_FILE);
  const crlf = fs.readFileSync(CRLF_FILE);
  t.false(lf.includes('\r'));
  t.is(crlf.toString('latin1').split('\n').length - 1, crlf.toString('latin1').split('\r\n').length - 1);
  t.not(lf.at(-1), 0x0a);
  t.not(crlf.at(-1), 0x0a);
});

for (const [label, file, key] of [['LF', LF_FILE, 'offsetLf'], ['CRLF', CRLF_FILE, 'offsetCrlf']] as const) {
  test(`${label} sample: bytes, flags, dates and offsets as expected, whatever the chunk size`, async (t) => {
    for (const chunkSize of [1, 2, 3, 7, 64, 1000, undefined]) {
      const messages = await collect(file, chunkSize === undefined ? {} : { chunkSize });
      t.is(messages.length, EXPECTED.length, `chunk ${chunkSize}`);
      messages.forEach((m, i) => {
        const e = EXPECTED[i]!;
        const what = `message ${i + 1}, chunk ${chunkSize}`;
        t.true(Buffer.from(m.raw).equals(expectedRaw(e)), what);
        t.is(m.size, m.raw.byteLength, what);
        t.is(m.sourceId, String(e[key]), what);
        t.is(m.internalDate?.toISOString(), e.internalDate, what);
        t.deepEqual(sorted(m.flags), sorted(e.flags), what);
      });
    }
  });
}

test('a sourceId is the offset of its From line, and reading resumes there', async (t) => {
  const all = await collect(LF_FILE);
  const bytes = fs.readFileSync(LF_FILE);
  for (const m of all) t.is(bytes.subarray(Number(m.sourceId), Number(m.sourceId) + 5).toString(), 'From ');
  const third = all[2]!;
  const resumed = await collect(LF_FILE, { startOffset: Number(third.sourceId) });
  t.deepEqual(resumed.map((m) => m.sourceId), all.slice(2).map((m) => m.sourceId));
  t.true(Buffer.from(resumed[0]!.raw).equals(Buffer.from(third.raw)));
  t.deepEqual(await collect(LF_FILE, { startOffset: bytes.length }), []);
  const mid = await failure(LF_FILE, { startOffset: Number(third.sourceId) + 1 });
  t.is(mid.code, 'MIGRATE_NOT_MBOX');
  t.is(mid.offset, Number(third.sourceId) + 1);
});

test('mboxo and unquoted readings leave other ">From " lines alone', async (t) => {
  const body = (m: SourceMessage | undefined): string => Buffer.from(m!.raw).toString().split('\r\n\r\n')[1]!;
  const mboxo = await collect(LF_FILE, { quoting: 'mboxo' });
  t.true(body(mboxo[0]).startsWith('From the start of this line'));
  t.true(body(mboxo[0]).includes('\r\n>>From here on'));
  const none = await collect(LF_FILE, { quoting: 'none' });
  t.true(body(none[0]).startsWith('>From the start of this line'));
  t.true(body(none[0]).includes('\r\n>>From here on'));
});

test('separators: "any" splits at every From line, timestamp or not', async (t) => {
  const messages = await collect(LF_FILE, { separators: 'any' });
  t.deepEqual(messages.map((m) => m.sourceId), ['0', '396', '693', '839', '988', '1169']);
  t.true(Buffer.from(messages[2]!.raw).toString().endsWith('Status: O\r\n'));
  t.is(messages[3]!.internalDate, null); // neither a timestamp nor a Date: header
  t.true(Buffer.from(messages[3]!.raw).toString().startsWith('The two empty lines below'));
});

test('empty files and leading empty lines or a byte order mark are no error', async (t) => {
  const dir = tempDir(t);
  const empty = path.join(dir, 'empty.mbox');
  fs.writeFileSync(empty, '');
  t.deepEqual(await collect(empty), []);
  const blanks = path.join(dir, 'blanks.mbox');
  fs.writeFileSync(blanks, '\n\r\n\n');
  t.deepEqual(await collect(blanks), []);
  const bom = path.join(dir, 'bom.mbox');
  fs.writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fs.readFileSync(LF_FILE)]));
  const plain = await collect(LF_FILE);
  const withBom = await collect(bom, { chunkSize: 2 });
  t.deepEqual(withBom.map((m) => Number(m.sourceId)), plain.map((m) => Number(m.sourceId) + 3));
  withBom.forEach((m, i) => t.true(Buffer.from(m.raw).equals(Buffer.from(plain[i]!.raw))));
});

test('text before the first From line: MIGRATE_NOT_MBOX at its offset', async (t) => {
  const dir = tempDir(t);
  const garbage = path.join(dir, 'garbage.mbox');
  fs.writeFileSync(garbage, 'Hello\nFrom a@b Thu Jan  2 10:00:00 2020\n\nbody\n');
  const e1 = await failure(garbage);
  t.is(e1.name, 'MigrateError');
  t.is(e1.code, 'MIGRATE_NOT_MBOX');
  t.is(e1.offset, 0);
  t.is(e1.file, garbage);
  const later = path.join(dir, 'later.mbox');
  fs.writeFileSync(later, '\n\r\nSubject: no From line\n\nbody\n');
  const e2 = await failure(later, { chunkSize: 3 });
  t.is(e2.code, 'MIGRATE_NOT_MBOX');
  t.is(e2.offset, 3);
  // A binary file with no line ending in its first 64 KiB is no mbox either.
  const binary = path.join(dir, 'binary.mbox');
  fs.writeFileSync(binary, Buffer.alloc(200_000, 0x41));
  t.is((await failure(binary)).code, 'MIGRATE_NOT_MBOX');
});

test('missing file, directory: MIGRATE_NOT_FOUND, MIGRATE_UNREADABLE', async (t) => {
  const dir = tempDir(t);
  const missing = await failure(path.join(dir, 'nope.mbox'));
  t.is(missing.code, 'MIGRATE_NOT_FOUND');
  t.is(missing.file, path.join(dir, 'nope.mbox'));
  t.is((await failure(dir)).code, 'MIGRATE_UNREADABLE');
});

test('a message over maxMessageSize is skipped through onSkip, or thrown without it', async (t) => {
  const skipped: MigrateError[] = [];
  const messages = await collect(LF_FILE, { maxMessageSize: 150, chunkSize: 5, onSkip: (e) => skipped.push(e) });
  t.deepEqual(skipped.map((e) => [e.code, e.offset]), [['MIGRATE_TOO_LARGE', 0], ['MIGRATE_TOO_LARGE', 396], ['MIGRATE_TOO_LARGE', 693]]);
  t.deepEqual(messages.map((m) => m.sourceId), ['988', '1169']);
  t.true(Buffer.from(messages[0]!.raw).equals(expectedRaw(EXPECTED[3]!)));
  const thrown = await failure(LF_FILE, { maxMessageSize: 150 });
  t.is(thrown.code, 'MIGRATE_TOO_LARGE');
  t.is(thrown.offset, 0);
  // The limit counts CRLF bytes: message 4 is 136 bytes in CRLF, fewer in LF.
  const exact = await collect(LF_FILE, { maxMessageSize: 136, onSkip: () => {} });
  t.deepEqual(exact.map((m) => m.sourceId), ['988', '1169']);
  const under = await collect(LF_FILE, { maxMessageSize: 135, onSkip: () => {} });
  t.deepEqual(under.map((m) => m.sourceId), ['1169']);
  await t.throwsAsync(collect(LF_FILE, { maxMessageSize: 0 }), { name: 'ValidationError' });
  await t.throwsAsync(collect(LF_FILE, { startOffset: -1 }), { name: 'ValidationError' });
});

test('long lines across chunks keep their bytes, quoting and line endings', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'long.mbox');
  const long = 'x'.repeat(200_000);
  const quoted = 'From ' + 'y'.repeat(100_000);
  // CRLF lines, one of them long enough to put its CR at the end of a chunk.
  const lines = ['Subject: long', '', long, '>' + quoted, '>>' + quoted, 'z'.repeat(70_000 - 1), 'end'];
  fs.writeFileSync(file, 'From a@b Thu Jan  2 10:00:00 2020\r\n' + lines.join('\r\n') + '\r\n\r\nFrom b@c Fri Jan  3 10:00:00 2020\nSubject: next\n\nx');
  const expected = ['Subject: long', '', long, quoted, '>' + quoted, 'z'.repeat(70_000 - 1), 'end'].join('\r\n') + '\r\n';
  const firstLineLength = 'From a@b Thu Jan  2 10:00:00 2020\r\n'.length;
  // chunk sizes that end a chunk right on a long line's CR
  const crAt = firstLineLength + ['Subject: long', '', long, '>' + quoted, '>>' + quoted].join('\r\n').length + 2 + 70_000 - 1;
  for (const chunkSize of [4096, 1000, crAt + 1, (crAt + 1) / 7, undefined]) {
    if (chunkSize !== undefined && !Number.isInteger(chunkSize)) continue;
    const messages = await collect(file, chunkSize === undefined ? {} : { chunkSize });
    t.is(messages.length, 2, `chunk ${chunkSize}`);
    t.true(Buffer.from(messages[0]!.raw).equals(Buffer.from(expected)), `chunk ${chunkSize}`);
    t.is(Buffer.from(messages[1]!.raw).toString(), 'Subject: next\r\n\r\nx');
  }
});

test('bare CRs become CRLF; a From line with nothing after it is MIGRATE_NOT_MESSAGE', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'cr.mbox');
  fs.writeFileSync(file, 'From a@b Thu Jan  2 10:00:00 2020\nSubject: cr\n\nold\rmac\r\n\nFrom b@c Fri Jan  3 10:00:00 2020');
  const skipped: MigrateError[] = [];
  const messages = await collect(file, { onSkip: (e) => skipped.push(e) });
  t.is(messages.length, 1);
  t.is(Buffer.from(messages[0]!.raw).toString(), 'Subject: cr\r\n\r\nold\r\nmac\r\n');
  t.deepEqual(skipped.map((e) => [e.code, e.offset]), [['MIGRATE_NOT_MESSAGE', 'From a@b Thu Jan  2 10:00:00 2020\nSubject: cr\n\nold\rmac\r\n\n'.length]]);
});

test('breaking out of the loop closes the file', async (t) => {
  const before = fs.readdirSync('/proc/self/fd').length;
  for (let i = 0; i < 20; i++) {
    for await (const m of readMbox(LF_FILE)) {
      t.truthy(m);
      break;
    }
  }
  t.true(fs.readdirSync('/proc/self/fd').length <= before + 1);
});
