// `npm run bench`: builds the same N-message mailbox (default 10,000) in
// Sealpost and in a private Dovecot, then times in the same run, side by side:
// login+SELECT, a full metadata FETCH, two header SEARCHes and downloading
// every body. Prints median times, the ratio Sealpost/Dovecot and the
// gateway's peak RSS; writes the table to bench/out/results.md for the README.
// Options: --messages N  --runs N  --seed N  --only dovecot|sealpost
//          --starttls (both servers)  --gateway-child (not the CLI)  --chunk N
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCorpus } from '../test/helpers/corpus.ts';
import type { RawImapClient } from '../test/helpers/imap-raw.ts';
import { median, openSession, operations } from './ops.ts';
import { cleanupNow, dovecotTarget, memoryOf, sealpostTarget, type Target } from './servers.ts';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${value}`);
  return n;
}

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    chunk: { type: 'string' },
    only: { type: 'string' },
    starttls: { type: 'boolean', default: false },
    'gateway-child': { type: 'boolean', default: false },
  },
});
const messages = positive('messages', values.messages, 10_000);
const runs = positive('runs', values.runs, 5);
const seed = positive('seed', values.seed, 1);
const chunk = positive('chunk', values.chunk, 500);
const only = values.only;
if (only !== undefined && only !== 'dovecot' && only !== 'sealpost') throw new Error('--only: expected dovecot or sealpost');

process.once('SIGINT', () => {
  cleanupNow();
  process.exit(130);
});

const log = (line: string): void => void process.stderr.write(`${line}\n`);

fs.mkdirSync(OUT, { recursive: true });
log(`Generating ${messages} messages (seed ${seed})...`);
const corpus = generateCorpus(messages, seed);
const totalMb = corpus.reduce((sum, m) => sum + m.raw.length, 0) / 1e6;
const probe = corpus[Math.floor(messages / 2)];
if (probe === undefined) throw new Error('--messages: too few messages');
const ops = operations({ messages, messageId: `<${probe.messageId}>`, subjectWord: 'invoice', chunk });

const targets: Target[] = [];
const sessions = new Map<Target, RawImapClient>();
const results = new Map<string, Map<Target['name'], { ms: number; check: string }>>();
let gatewayMemory: { peakMb: number; rssMb: number } | null = null;
try {
  if (only !== 'sealpost') {
    log('Starting Dovecot with the mailbox written as Maildir...');
    targets.push(await dovecotTarget(corpus, values.starttls));
  }
  if (only !== 'dovecot') {
    log('Filling a Sealpost store and starting the gateway...');
    targets.push(await sealpostTarget(corpus, { starttls: values.starttls, gatewayChild: values['gateway-child'], log: path.join(OUT, 'gateway.log') }));
  }
  const sessionOf = (target: Target) => async (): Promise<RawImapClient> => {
    let client = sessions.get(target);
    if (client === undefined) {
      client = await openSession(target);
      sessions.set(target, client);
    }
    return client;
  };

  for (const op of ops) {
    const perTarget = new Map<Target['name'], { ms: number; check: string }>();
    const times = new Map<Target, number[]>(targets.map((t) => [t, []]));
    const checks = new Map<Target, string>();
    for (const target of targets) checks.set(target, await op.run(target, sessionOf(target))); // warm-up
    const count = op.name.startsWith('download') ? Math.min(runs, 3) : runs;
    for (let r = 0; r < count; r++) {
      // alternate the order so that neither server always runs first
      for (const target of r % 2 === 0 ? targets : [...targets].reverse()) {
        const started = performance.now();
        const check = await op.run(target, sessionOf(target));
        times.get(target)?.push(performance.now() - started);
        if (check !== checks.get(target)) log(`  ! ${target.name} answered differently between runs: ${check} vs ${checks.get(target)}`);
      }
    }
    for (const target of targets) {
      const ms = median(times.get(target) ?? []);
      perTarget.set(target.name, { ms, check: checks.get(target) ?? '' });
      log(`  ${op.name} — ${target.name}: ${ms.toFixed(1)} ms (${checks.get(target)})`);
    }
    const distinct = new Set(checks.values());
    if (distinct.size > 1) log(`  ! servers disagree on "${op.name}": ${[...checks].map(([t, c]) => `${t.name}: ${c}`).join('; ')}`);
    results.set(op.name, perTarget);
  }
  const gateway = targets.find((t) => t.pid !== undefined);
  if (gateway?.pid !== undefined) gatewayMemory = memoryOf(gateway.pid);
} finally {
  for (const client of sessions.values()) await client.logout();
  for (const target of targets) await target.stop().catch((error: unknown) => log(`stopping ${target.name}: ${String(error)}`));
}

// --- report ---
const names = targets.map((t) => t.name);
const both = names.includes('Sealpost') && names.includes('Dovecot');
const header = ['Operation', ...names.map((n) => `${n} ms`), ...(both ? ['Sealpost/Dovecot'] : [])];
const rows: string[][] = [];
for (const [op, perTarget] of results) {
  const cells = names.map((n) => (perTarget.get(n)?.ms ?? NaN).toFixed(1));
  const sealpost = perTarget.get('Sealpost')?.ms;
  const dovecot = perTarget.get('Dovecot')?.ms;
  rows.push([op, ...cells, ...(both && sealpost !== undefined && dovecot !== undefined ? [(sealpost / dovecot).toFixed(2)] : [])]);
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ');
const dovecotVersion = (() => {
  try {
    return execFileSync('/usr/sbin/dovecot', ['--version']).toString().trim().split(' ')[0] ?? '?';
  } catch {
    return '?';
  }
})();
const memoryLine = gatewayMemory !== null ? `Gateway peak RSS (VmHWM): ${gatewayMemory.peakMb.toFixed(0)} MB (RSS at the end ${gatewayMemory.rssMb.toFixed(0)} MB)` : 'Gateway peak RSS: not measured (Sealpost not run)';
const setting = `${messages} messages (${totalMb.toFixed(0)} MB), median of ${runs} runs after one warm-up (downloads: ${Math.min(runs, 3)}), ` +
  `${values.starttls ? 'STARTTLS' : 'plain TCP'} on loopback; Node ${process.versions.node}, Dovecot ${dovecotVersion}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`;

console.log(`\n${setting}\n`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const row of rows) console.log(line(row));
console.log(`\n${memoryLine}`);

const markdown = [
  `| ${header.join(' | ')} |`,
  `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ...rows.map((r) => `| ${r.map((c, i) => (i === 0 ? `\`${c}\`` : c)).join(' | ')} |`),
  '',
  `${memoryLine}.`,
  '',
  `${setting}. Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.`,
  '',
].join('\n');
fs.writeFileSync(path.join(OUT, 'results.md'), markdown);
log(`\nWrote ${path.join(OUT, 'results.md')}`);
