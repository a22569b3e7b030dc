// Crash-safe writes (src/storage/durable-file.ts): content lands whole under
// the final name, parents are created, no temporary files stay behind, and
// concurrent writers (of one file or one directory) do not trip each other.
// That fsync really reaches the disk cannot be observed from here.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { syncDir, withDirSyncBatch, writeFileDurable } from '../../src/storage/durable-file.ts';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-durable-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('writes content under the final name, creating parents, leaving no temporary file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'a', 'b', 'c.data');
  await writeFileDurable(file, Uint8Array.of(1, 2, 3));
  t.deepEqual([...await readFile(file)], [1, 2, 3]);
  await writeFileDurable(file, Uint8Array.of(4));
  t.deepEqual([...await readFile(file)], [4]);
  t.deepEqual(await readdir(path.join(dir, 'a', 'b')), ['c.data']);
});

test('concurrent writers of one file and of one directory all succeed', async (t) => {
  const dir = await tempDir(t);
  const same = path.join(dir, 'x', 'same.data');
  await Promise.all([
    ...Array.from({ length: 20 }, () => writeFileDurable(same, Uint8Array.of(7, 7))),
    ...Array.from({ length: 20 }, (_, i) => writeFileDurable(path.join(dir, 'x', `f${i}.data`), Uint8Array.of(i))),
  ]);
  t.deepEqual([...await readFile(same)], [7, 7]);
  const names = await readdir(path.join(dir, 'x'));
  t.is(names.length, 21);
  t.false(names.some((n) => n.endsWith('.tmp')));
});

test('a batch defers directory syncs to its end and still resolves after them', async (t) => {
  const dir = await tempDir(t);
  const result = await withDirSyncBatch(async () => {
    await writeFileDurable(path.join(dir, 'p', '1.data'), Uint8Array.of(1));
    await writeFileDurable(path.join(dir, 'q', '2.data'), Uint8Array.of(2));
    return 'done';
  });
  t.is(result, 'done');
  t.deepEqual([...await readFile(path.join(dir, 'q', '2.data'))], [2]);
});

test('syncDir shares fsyncs between concurrent callers and reports a missing directory', async (t) => {
  const dir = await tempDir(t);
  await Promise.all(Array.from({ length: 50 }, () => syncDir(dir)));
  await t.throwsAsync(syncDir(path.join(dir, 'nope')), { code: 'ENOENT' });
  await syncDir(dir); // state was cleaned up after the failure
  t.pass();
});
