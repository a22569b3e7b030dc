// The mbox reader streams: a generated 100 MB mbox holding a 20 MB message is
// read while live memory (V8 heap plus array buffers, measured after a forced
// GC at every message) grows by far less than the file. A reader that held
// the file would grow by 100 MB or more. Own file, so its process measures
// only this.
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { readMbox } from '../../src/migrate/mbox.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const LINE = 'The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrst\n'; // 77 bytes

/** Writes an mbox message of about `bytes` bytes; returns the SHA-256 of its CRLF form. */
function writeMessage(fd: number, index: number, bytes: number): string {
  const header = `From sender${index}@example.org Thu Jan  2 10:00:00 2020\n`;
  const head = `From: sender${index}@example.org\nSubject: message ${index}\nStatus: RO\n\n`;
  fs.writeSync(fd, header + head);
  const hash = createHash('sha256').update(head.replace(/\n/g, '\r\n'));
  const block = LINE.repeat(Math.floor(64 * 1024 / LINE.length));
  const blockCrlf = block.replace(/\n/g, '\r\n');
  for (let written = 0; written < bytes; written += block.length) {
    fs.writeSync(fd, block);
    hash.update(blockCrlf);
  }
  fs.writeSync(fd, '\n'); // the separator's empty line
  return hash.digest('hex');
}

const live = (): number => {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
};

test('a 100 MB mbox with a 20 MB message is read with bounded memory', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-mbox-big-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'big.mbox');
  const fd = fs.openSync(file, 'w');
  const hashes: string[] = [];
  for (let i = 0; i < 40; i++) hashes.push(writeMessage(fd, i, 1 * MB));
  hashes.push(writeMessage(fd, 40, 20 * MB));
  for (let i = 41; i < 81; i++) hashes.push(writeMessage(fd, i, 1 * MB));
  fs.closeSync(fd);
  const fileSize = fs.statSync(file).size;
  t.true(fileSize > 100 * MB);

  gc();
  const baseline = live();
  let peak = 0;
  let peakHeap = 0;
  let count = 0;
  let biggest = 0;
  const started = performance.now();
  for await (const m of readMbox(file)) {
    t.is(createHash('sha256').update(m.raw).digest('hex'), hashes[count]!, `message ${count}`);
    t.deepEqual(m.flags, ['\\Seen']);
    biggest = Math.max(biggest, m.size);
    count++;
    gc();
    peak = Math.max(peak, live() - baseline);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  const seconds = (performance.now() - started) / 1000;
  t.is(count, 81);
  t.true(biggest > 20 * MB);
  t.log(`file ${(fileSize / MB).toFixed(0)} MiB, largest message ${(biggest / MB).toFixed(1)} MiB, live growth peak ${(peak / MB).toFixed(1)} MiB, heapUsed peak ${(peakHeap / MB).toFixed(1)} MiB, ${(fileSize / MB / seconds).toFixed(0)} MiB/s with a hash and GC per message`);
  t.true(peakHeap < 150 * MB, `heapUsed peak ${peakHeap}`);
  // The 20 MiB message itself (about 21 MiB in CRLF) is live while the loop holds it.
  t.true(peak < 60 * MB, `live growth peak ${peak}`);
});
