// .eml reader: one RFC 5322 message per file, INTERNALDATE from Date: (else
// an envelope From line, else the mtime), no flags, errors by code.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readEml } from '../../src/migrate/eml.ts';
import { MigrateError } from '../../src/migrate/errors.ts';
import type { SourceMessage, SourceOptions } from '../../src/migrate/types.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'eml');

function copyFixtures(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-eml-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.cpSync(FIXTURES, dir, { recursive: true });
  return dir;
}

async function collect(files: string[], options: SourceOptions = {}): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const m of readEml(files, options)) out.push(m);
  return out;
}

test('messages in CRLF with Date:, mtime or envelope dates; no flags; absolute paths as ids', async (t) => {
  const dir = copyFixtures(t);
  const mtime = new Date('2021-06-01T12:34:56Z');
  fs.utimesSync(path.join(dir, 'undated-crlf.eml'), mtime, mtime);
  const cwd = process.cwd();
  const relative = path.relative(cwd, path.join(dir, 'dated-lf.eml'));
  const [dated, undated, envelope] = await collect([relative, path.join(dir, 'undated-crlf.eml'), path.join(dir, 'envelope-bom.eml')]);

  t.is(Buffer.from(dated!.raw).toString(), 'From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: LF eml with a Date\r\nDate: Fri, 3 Jan 2020 12:00:00 +0100\r\n\r\nHello in LF.\r\n');
  t.is(dated!.internalDate?.toISOString(), '2020-01-03T11:00:00.000Z');
  t.is(dated!.sourceId, path.join(dir, 'dated-lf.eml'));
  t.deepEqual(dated!.flags, []);
  t.is(dated!.size, dated!.raw.byteLength);

  t.true(Buffer.from(undated!.raw).equals(fs.readFileSync(path.join(dir, 'undated-crlf.eml'))));
  t.is(undated!.internalDate?.toISOString(), mtime.toISOString());

  // The byte order mark and the envelope line are not part of the message.
  t.is(Buffer.from(envelope!.raw).toString(), 'From: Alice <alice@example.org>\r\nSubject: saved with a BOM and an envelope line\r\n\r\nBody.\r\n');
  t.is(envelope!.internalDate?.toISOString(), '2020-01-04T08:30:00.000Z');
});

test('empty, not a message, missing, too large: skipped through onSkip, or thrown', async (t) => {
  const dir = copyFixtures(t);
  const files = ['empty.eml', 'dated-lf.eml', 'not-a-message.eml', 'missing.eml', 'undated-crlf.eml'].map((f) => path.join(dir, f));
  const skipped: MigrateError[] = [];
  const messages = await collect(files, { maxMessageSize: 100, onSkip: (e) => skipped.push(e) });
  t.deepEqual(skipped.map((e) => [e.name, e.code, path.basename(e.file)]), [
    ['MigrateError', 'MIGRATE_NOT_MESSAGE', 'empty.eml'],
    ['MigrateError', 'MIGRATE_TOO_LARGE', 'dated-lf.eml'],
    ['MigrateError', 'MIGRATE_NOT_MESSAGE', 'not-a-message.eml'],
    ['MigrateError', 'MIGRATE_NOT_FOUND', 'missing.eml'],
  ]);
  t.deepEqual(messages.map((m) => path.basename(m.sourceId)), ['undated-crlf.eml']);
  const thrown = await t.throwsAsync(collect([path.join(dir, 'dated-lf.eml'), path.join(dir, 'missing.eml')]), { instanceOf: MigrateError });
  t.is(thrown?.code, 'MIGRATE_NOT_FOUND');
  const directory = await t.throwsAsync(collect([dir]), { instanceOf: MigrateError });
  t.is(directory?.code, 'MIGRATE_UNREADABLE');
});

test('an LF file just under the limit that CRLF pushes over it is too large', async (t) => {
  const dir = copyFixtures(t);
  const file = path.join(dir, 'grows.eml');
  fs.writeFileSync(file, 'Subject: x\n\n' + 'a\n'.repeat(40)); // 92 bytes, 134 in CRLF
  t.is((await collect([file], { maxMessageSize: 134 })).length, 1);
  const error = await t.throwsAsync(collect([file], { maxMessageSize: 133 }), { instanceOf: MigrateError });
  t.is(error?.code, 'MIGRATE_TOO_LARGE');
});
