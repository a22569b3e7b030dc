// `npm run bench`: Sealpost measured side by side with a baseline in the same
// run, four parts; prints tables and writes each part's section of
// bench/out/results.md (the README's performance tables come from it).
//   imap   — the same N-message mailbox (default 10,000) in Sealpost and in a
//            private Dovecot: login+SELECT, a full metadata FETCH, two header
//            SEARCHes, downloading every body; median times, ratio
//            Sealpost/Dovecot, the gateway's peak RSS.
//   submit — SMTP submission of 20 KB messages over 4 connections, Sealpost end
//            to end (encrypt, store, ledger, queue) against a bare smtp-server
//            that discards (bench/submit.ts): messages/s, ratio, p50/p99.
//   gas    — gas per message of the EVM ledger at a 1,000-record batch on a
//            private anvil (bench/gas.ts).
//   peer   — mail between Sealpost nodes: five gateways sharing a local
//            registry; submission to IMAP EXISTS on the recipient's node,
//            p50/p95, plain and expiring (custody n=3 t=2) against local
//            delivery on one node; messages/s of a burst; the stealth scan of
//            announcements on one core (bench/peer.ts, bench/scan.ts).
//   migrate — the same N-message mailbox in a private Dovecot copied by mbsync
//            into a Maildir and imported by `sealpost import imap` (encrypt,
//            store, anchor), whole processes timed: messages/s, MB/s, ratio
//            (bench/migrate.ts).
//
// Options:
//   --only PARTS        comma-separated parts to run: imap, submit, gas, peer, migrate
//                       (default all five); `dovecot` or `sealpost` run the imap part
//                       against that server alone. Other parts' sections of
//                       results.md are kept.
//   --starttls          STARTTLS on both servers (imap and submit parts)
//   --gateway-child     run bench/gateway-child.ts instead of the compiled CLI
//   imap:   --messages N (10000)  --runs N (5)  --seed N (1)  --chunk N (500)
//   submit: --submit-messages N (2000)  --warmup N (200)  --connections N (4)
//           --size OCTETS|NK (20K)
//           --cpu-prof       the gateway writes a V8 CPU profile to bench/out/profile/
//   gas:    --gas-batch N (1000)  --gas-batches N (2)
//   peer:   --peer-messages N (100)  --peer-warmup N (10)  --peer-burst N (200)
//           --peer-burst-expiring N (100)  --scan-announcements N (20000)
//   migrate: --migrate-messages N (10000)  --no-restore (skip the network restore)
// Examples: npm run bench                      (builds dist/, then all parts)
//           node bench/run.ts --only submit    (after npm run build)
//           node bench/run.ts --only gas
//           node bench/run.ts --only peer
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCorpus } from '../test/helpers/corpus.ts';
import type { RawImapClient } from '../test/helpers/imap-raw.ts';
import { gasNote, gasTable, runGas } from './gas.ts';
import { median, openSession, operations } from './ops.ts';
import { migrateTable, restoreTable, runMigrate } from './migrate.ts';
import { peerNote, peerTable, runPeer, scanTable } from './peer.ts';
import { cleanupNow, dovecotTarget, memoryOf, sealpostTarget, type Target } from './servers.ts';
import { parseSize, runSubmit, submitMemoryLine, submitTable, summarizeProfile } from './submit.ts';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
const RESULTS = path.join(OUT, 'results.md');

function positive(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${value}`);
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
    'submit-messages': { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    size: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'gas-batch': { type: 'string' },
    'gas-batches': { type: 'string' },
    'peer-messages': { type: 'string' },
    'migrate-messages': { type: 'string' },
    'no-restore': { type: 'boolean', default: false },
    'peer-warmup': { type: 'string' },
    'peer-burst': { type: 'string' },
    'peer-burst-expiring': { type: 'string' },
    'scan-announcements': { type: 'string' },
  },
});

type Part = 'imap' | 'submit' | 'gas' | 'peer' | 'migrate';
const parts = new Set<Part>();
let imapOnly: 'dovecot' | 'sealpost' | undefined;
for (const word of (values.only ?? 'imap,submit,gas,peer,migrate').split(',').map((w) => w.trim())) {
  if (word === 'imap' || word === 'submit' || word === 'gas' || word === 'peer' || word === 'migrate') parts.add(word);
  else if (word === 'dovecot' || word === 'sealpost') {
    parts.add('imap');
    imapOnly = word;
  } else throw new Error(`--only: expected imap, submit, gas, peer, migrate, dovecot or sealpost (comma-separated), got ${word}`);
}

process.once('SIGINT', () => {
  cleanupNow();
  process.exit(130);
});

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const today = new Date().toISOString().slice(0, 10);

/** Aligned plain-text table (first column left, the rest right). */
function textTable(table: readonly string[][]): string {
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ');
  const [header, ...rows] = table;
  return [line(header ?? []), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** Markdown table; `code` puts the first column of the body rows in backticks (operation names). */
function markdownTable(table: readonly string[][], code = false): string {
  const [header = [], ...rows] = table;
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map((c, i) => (i === 0 && code ? `\`${c}\`` : c)).join(' | ')} |`),
  ].join('\n');
}

/**
 * Replaces one part's section of results.md (between <!-- bench:PART -->
 * markers), keeping the others. A file from before the markers held the imap
 * table alone, so its whole text is taken as the imap section.
 */
function writeSection(part: Part, markdown: string): void {
  const order: Part[] = ['imap', 'submit', 'gas', 'peer', 'migrate'];
  const sections = new Map<Part, string>();
  if (fs.existsSync(RESULTS)) {
    const text = fs.readFileSync(RESULTS, 'utf8');
    if (!text.includes('<!-- bench:')) sections.set('imap', text.trim());
    for (const m of text.matchAll(/<!-- bench:(\w+) -->\n([\s\S]*?)\n<!-- \/bench:\1 -->/g)) {
      if (order.includes(m[1] as Part)) sections.set(m[1] as Part, (m[2] ?? '').trim());
    }
  }
  sections.set(part, markdown.trim());
  const out = order.filter((p) => sections.has(p)).map((p) => `<!-- bench:${p} -->\n${sections.get(p)}\n<!-- /bench:${p} -->\n`);
  fs.writeFileSync(RESULTS, out.join('\n'));
}

// --- imap ------------------------------------------------------------------

async function imapPart(): Promise<void> {
  const messages = positive('messages', values.messages, 10_000);
  const runs = positive('runs', values.runs, 5);
  const seed = positive('seed', values.seed, 1);
  const chunk = positive('chunk', values.chunk, 500);
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
    if (imapOnly !== 'sealpost') {
      log('Starting Dovecot with the mailbox written as Maildir...');
      targets.push(await dovecotTarget(corpus, values.starttls));
    }
    if (imapOnly !== 'dovecot') {
      log('Filling a Sealpost store and starting the gateway...');
      targets.push(await sealpostTarget(corpus, {
        starttls: values.starttls, gatewayChild: values['gateway-child'], log: path.join(OUT, 'gateway.log'),
        ...(values['cpu-prof'] ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', path.join(OUT, 'profile')] } : {}),
      }));
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

  const names = targets.map((t) => t.name);
  const both = names.includes('Sealpost') && names.includes('Dovecot');
  const table: string[][] = [['Operation', ...names.map((n) => `${n} ms`), ...(both ? ['Sealpost/Dovecot'] : [])]];
  for (const [op, perTarget] of results) {
    const cells = names.map((n) => (perTarget.get(n)?.ms ?? NaN).toFixed(1));
    const sealpost = perTarget.get('Sealpost')?.ms;
    const dovecot = perTarget.get('Dovecot')?.ms;
    table.push([op, ...cells, ...(both && sealpost !== undefined && dovecot !== undefined ? [(sealpost / dovecot).toFixed(2)] : [])]);
  }
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
  console.log(textTable(table));
  console.log(`\n${memoryLine}`);
  writeSection('imap', [markdownTable(table, true), '', `${memoryLine}.`, '', `${setting}. Produced by \`npm run bench\` on ${today}.`].join('\n'));
}

// --- submit ----------------------------------------------------------------

async function submitPart(): Promise<void> {
  const profileDir = path.join(OUT, 'profile');
  const profileStart = Date.now();
  if (values['cpu-prof']) fs.mkdirSync(profileDir, { recursive: true });
  const result = await runSubmit({
    messages: positive('submit-messages', values['submit-messages'], 2_000),
    warmup: positive('warmup', values.warmup, 200, 0),
    connections: positive('connections', values.connections, 4),
    size: values.size === undefined ? 20 * 1024 : parseSize(values.size),
    starttls: values.starttls,
    gatewayChild: values['gateway-child'],
    gatewayFlags: values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    out: OUT,
    log,
  });
  const table = submitTable(result);
  const memoryLine = submitMemoryLine(result);
  console.log(`\n${result.setting}\n`);
  console.log(textTable(table));
  console.log(`\n${memoryLine}`);
  if (values['cpu-prof']) {
    // the gateway writes its profile as it exits: the newest file since this part started
    const profiles = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f))
      .filter((f) => fs.statSync(f).mtimeMs >= profileStart).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    const newest = profiles[0];
    if (newest === undefined) console.log(`\nNo CPU profile found in ${profileDir}`);
    else console.log(`\nCPU profile of the gateway (warm-up included): ${newest}\n${summarizeProfile(newest)}`);
  }
  writeSection('submit', [markdownTable(table), '', `${memoryLine}.`, '', `${result.setting}. Produced by \`npm run bench\` on ${today}.`].join('\n'));
}

// --- gas -------------------------------------------------------------------

async function gasPart(): Promise<void> {
  const result = await runGas({
    batch: positive('gas-batch', values['gas-batch'], 1_000),
    batches: positive('gas-batches', values['gas-batches'], 2),
    log,
  });
  const table = gasTable(result);
  const note = gasNote(result);
  console.log(`\n${result.setting}\n`);
  console.log(textTable(table));
  console.log(`\n${note}`);
  writeSection('gas', [markdownTable(table), '', `${note}.`, '', `${result.setting}. Produced by \`npm run bench\` on ${today}.`].join('\n'));
}

// --- peer ------------------------------------------------------------------

async function peerPart(): Promise<void> {
  const result = await runPeer({
    messages: positive('peer-messages', values['peer-messages'], 100),
    warmup: positive('peer-warmup', values['peer-warmup'], 10, 0),
    burst: positive('peer-burst', values['peer-burst'], 200),
    burstExpiring: positive('peer-burst-expiring', values['peer-burst-expiring'], 100),
    connections: positive('connections', values.connections, 4),
    scanAnnouncements: positive('scan-announcements', values['scan-announcements'], 20_000, 100),
    starttls: values.starttls,
    deliveryTimeoutMs: 30_000,
    out: OUT,
    log,
  });
  const delivery = peerTable(result);
  const scan = scanTable(result);
  const note = peerNote(result);
  console.log(`\n${result.setting}\n`);
  console.log(textTable(delivery));
  console.log('');
  console.log(textTable(scan));
  console.log(`\n${note}`);
  writeSection('peer', [markdownTable(delivery), '', markdownTable(scan), '', `${note}.`, '', `${result.setting}. Produced by \`npm run bench\` on ${today}.`].join('\n'));
}

// --- migrate ---------------------------------------------------------------

async function migratePart(): Promise<void> {
  const result = await runMigrate({ messages: positive('migrate-messages', values['migrate-messages'], 10_000), seed: positive('seed', values.seed, 1), restore: values['no-restore'] !== true, out: OUT, log });
  const table = migrateTable(result);
  const restore = restoreTable(result);
  console.log(`\n${result.setting}\n`);
  console.log(textTable(table));
  if (restore !== null) console.log(`\n${textTable(restore)}`);
  writeSection('migrate', [markdownTable(table), '', ...(restore === null ? [] : [markdownTable(restore), '']), `${result.setting}. Produced by \`npm run bench\` on ${today}.`].join('\n'));
}

fs.mkdirSync(OUT, { recursive: true });
if (parts.has('imap')) await imapPart();
if (parts.has('submit')) await submitPart();
if (parts.has('gas')) await gasPart();
if (parts.has('peer')) await peerPart();
if (parts.has('migrate')) await migratePart();
log(`\nWrote ${RESULTS}`);
