// The `migrate` part of `npm run bench`: the same N-message mailbox (default
// 10,000) in a private Dovecot is copied by mbsync into a local Maildir (the
// baseline: a plain copy) and imported by `sealpost import imap` (which also
// encrypts, stores in IPFS and anchors every message), in the same run.
// Both are whole processes timed from start to exit; messages/s and MB/s and
// the ratio Sealpost/mbsync (higher is better; the target is at least 0.5).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus } from '../test/helpers/corpus.ts';
import { startDovecot } from '../test/helpers/dovecot.ts';
import { runMbsync, writeMbsyncConfig } from '../test/helpers/mbsync.ts';
import { runRestore, type RestoreResult } from './restore.ts';
import { makeTempDir, removeTempDir } from './servers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USER = 'bench';
const PASS = 'bench-password';
const ACCOUNT = 'bench@example.org';

export interface MigrateResult {
  messages: number;
  megabytes: number;
  mbsyncMs: number;
  sealpostMs: number;
  /** what `sealpost import` printed last */
  sealpostSummary: string;
  /** import into a three-node network, backup, loss and restore (bench/restore.ts); null when skipped */
  restore: RestoreResult | null;
  setting: string;
}

function run(args: readonly string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${args.join(' ')} failed (${String(error.code ?? error.signal)}):\n${stdout}\n${stderr.slice(-4000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

export async function runMigrate(options: { messages: number; seed: number; restore: boolean; out: string; log: (line: string) => void }): Promise<MigrateResult> {
  const { log } = options;
  const corpus = generateCorpus(options.messages, options.seed);
  const bytes = corpus.reduce((n, m) => n + m.raw.byteLength, 0);
  log(`Migration: ${options.messages} messages (${(bytes / 1024 / 1024).toFixed(0)} MB) in a private Dovecot...`);
  const dovecot = await startDovecot({ users: [{ user: USER, password: PASS }], maildirs: { [USER]: corpus } });
  const dataDir = makeTempDir('sealpost-bench-import-');
  try {
    // Warm-up, untimed: Dovecot builds its index of the new Maildir on first
    // access and the files enter the page cache, so that neither copy below
    // pays for that (the one timed first would).
    const warm = writeMbsyncConfig({ host: dovecot.host, port: dovecot.port, user: USER, pass: PASS, tls: 'none' });
    try {
      await runMbsync(warm);
    } finally {
      warm.remove();
    }
    // Baseline: mbsync pulls the mailbox into an empty Maildir.
    const setup = writeMbsyncConfig({ host: dovecot.host, port: dovecot.port, user: USER, pass: PASS, tls: 'none' });
    let mbsyncMs: number;
    try {
      const started = performance.now();
      await runMbsync(setup);
      mbsyncMs = performance.now() - started;
    } finally {
      setup.remove();
    }
    log(`  mbsync: ${(mbsyncMs / 1000).toFixed(1)} s`);

    // Sealpost: the compiled CLI as a user runs it (npm run bench builds dist/), without a gateway.
    const compiled = path.join(ROOT, 'dist/cli/main.js');
    const cli = fs.existsSync(compiled) ? compiled : path.join(ROOT, 'src/cli/main.ts');
    await run([cli, 'init', '--data-dir', dataDir, '--address', ACCOUNT, '--password', PASS], {});
    const passwordFile = path.join(dataDir, '..', `${path.basename(dataDir)}.pass`);
    fs.writeFileSync(passwordFile, `${PASS}\n`, { mode: 0o600 });
    const started = performance.now();
    const { stdout } = await run([
      cli, 'import', 'imap', '--data-dir', dataDir, '--account', ACCOUNT, '--host', dovecot.host, '--port', String(dovecot.port), '--plain',
      '--user', USER, '--password-file', passwordFile,
    ], { SEALPOST_PASSWORD: PASS });
    const sealpostMs = performance.now() - started;
    fs.rmSync(passwordFile, { force: true });
    const summary = stdout.trim().split('\n').pop() ?? '';
    log(`  sealpost import: ${(sealpostMs / 1000).toFixed(1)} s — ${summary}`);
    if (!new RegExp(`imported ${options.messages} messages`).test(summary)) throw new Error(`sealpost import did not import every message: ${summary}`);
    let restore: RestoreResult | null = null;
    if (options.restore) {
      log('Restore: the same mailbox imported into a node of a three-node network (2 replicas), backed up, lost, restored...');
      restore = await runRestore({ messages: options.messages, dovecot, user: USER, password: PASS, out: options.out, log });
    }
    return {
      messages: options.messages, megabytes: bytes / 1024 / 1024, mbsyncMs, sealpostMs, sealpostSummary: summary, restore,
      setting: `${options.messages} messages (${(bytes / 1024 / 1024).toFixed(0)} MB) from a private Dovecot over plain IMAP on loopback; ` +
        `whole processes timed after an untimed mbsync pass warmed Dovecot's index and the page cache (mbsync 1.4 into an empty Maildir; \`sealpost import imap\` with no gateway running); Node ${process.versions.node}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
    };
  } finally {
    await dovecot.stop();
    removeTempDir(dataDir);
  }
}

export function migrateTable(r: MigrateResult): string[][] {
  const rate = (ms: number): string => ((r.messages * 1000) / ms).toFixed(0);
  const mbs = (ms: number): string => ((r.megabytes * 1000) / ms).toFixed(1);
  return [
    ['Copy of the mailbox', 'seconds', 'messages/s', 'MB/s', 'rate vs mbsync'],
    ['mbsync → Maildir', (r.mbsyncMs / 1000).toFixed(1), rate(r.mbsyncMs), mbs(r.mbsyncMs), '1.00'],
    ['sealpost import imap', (r.sealpostMs / 1000).toFixed(1), rate(r.sealpostMs), mbs(r.sealpostMs), (r.mbsyncMs / r.sealpostMs).toFixed(2)],
  ];
}

export function restoreTable(r: MigrateResult): string[][] | null {
  if (r.restore === null) return null;
  const { importMs, backupMs, restoreMs } = r.restore;
  const rate = (ms: number): string => ((r.messages * 1000) / ms).toFixed(0);
  return [
    ['Network of 3 nodes, 2 replicas', 'seconds', 'messages/s'],
    ['import imap through the running gateway', (importMs / 1000).toFixed(1), rate(importMs)],
    ['backup (snapshot + replicas pin every ciphertext)', (backupMs / 1000).toFixed(1), rate(backupMs)],
    ['restore from the backup on a new data dir (target < 60 s)', (restoreMs / 1000).toFixed(1), rate(restoreMs)],
  ];
}
