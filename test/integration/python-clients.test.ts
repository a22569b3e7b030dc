// Python's smtplib and imaplib (the standard library clients many scripts use)
// against a real gateway: STARTTLS, LOGIN, SELECT, SEARCH, FETCH, STORE,
// COPY, EXPUNGE, APPEND, LIST.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { startSealpost } from '../helpers/sealpost.ts';

const run = promisify(execFile);
const script = path.join(import.meta.dirname, 'python-clients.py');

test('smtplib sends and imaplib reads, searches, flags, copies and expunges', async (t) => {
  const users = [{ user: 'py@example.test', password: 'py-secret-123' }];
  const server = await startSealpost({ users });
  t.teardown(() => server.stop());
  const { stdout } = await run('python3', [script, String(server.ports.smtp), String(server.ports.imap), server.caFile, users[0]!.user, users[0]!.password], { timeout: 60_000 });
  const result = JSON.parse(stdout) as Record<string, unknown>;
  t.deepEqual(result, {
    search_subject: ['1'],
    search_unseen_before: ['1 2'],
    body_contains: true,
    envelope_subject: true,
    flags_after_store: true,
    copied: 'OK',
    archive_count: '1',
    expunged: ['1'],
    inbox_after: '1',
    appended: 'OK',
    listed_special_use: true,
    search_utf8: ['2'],
  });
});
