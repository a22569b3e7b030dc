// Diagnostic: the gateway's resident memory after each benchmark operation,
// to find which one drives the peak (npm run bench reports only the peak).
// Usage: npm run build && node bench/memprobe.ts [messages] [rounds]
import fs from 'node:fs';
import { generateCorpus } from '../test/helpers/corpus.ts';
import { openSession, operations } from './ops.ts';
import { memoryOf, sealpostTarget } from './servers.ts';

const n = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 1);
const corpus = generateCorpus(n, 1);
const target = await sealpostTarget(corpus, { starttls: false, gatewayChild: false, log: '/tmp/memprobe-gateway.log' });
const show = (label: string): void => {
  const m = memoryOf(target.pid!);
  console.log(`${label.padEnd(60)} rss ${m?.rssMb.toFixed(0)} MB  peak ${m?.peakMb.toFixed(0)} MB`);
};
show('started');
const probe = corpus[Math.floor(n / 2)]!;
const ops = operations({ messages: n, messageId: probe.messageId, subjectWord: 'invoice', chunk: 500 });
let client = await openSession(target);
for (let round = 0; round < rounds; round++) for (const op of ops) {
  await op.run(target, async () => client);
  show(op.name);
}
client.close();
// Which kind of memory: anonymous (heap, malloc) or file-backed (the node binary, SQLite's shared memory).
console.log(require_status(target.pid!));
await target.stop();

function require_status(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => /^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem)/.test(l)).join('  ');
}
