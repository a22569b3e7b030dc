// Benchmark helper: the two servers under test, each filled with the same
// corpus — Dovecot (Debian's dovecot-imapd, Maildir written directly) and
// Sealpost (SQLite store filled through the store interface, gateway run as a
// child process so that its peak RSS can be read from /proc).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot } from '../test/helpers/dovecot.ts';
import type { CorpusMessage } from '../test/helpers/corpus.ts';

export interface Target {
  name: 'Sealpost' | 'Dovecot';
  host: string;
  port: number;
  user: string;
  pass: string;
  /** use STARTTLS before LOGIN */
  starttls: boolean;
  /** the process whose peak RSS is reported (the gateway) */
  pid?: number;
  stop(): Promise<void>;
}

/** The Node flags `npm start` and bin/sealpost.js run the gateway with: a small
 *  young generation makes V8 free the buffers of sent message bodies sooner
 *  (peak RSS while downloading a mailbox ~180 MB -> ~115 MB). */
const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=2'];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USER = 'bench@example.test';
const PASS = 'bench-password-1';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
/** Last-resort cleanup: children and temp dirs go with the process, whatever ended it. */
export function cleanupNow(): void {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}
process.once('exit', cleanupNow);

export async function dovecotTarget(corpus: readonly CorpusMessage[], starttls: boolean): Promise<Target> {
  const server = await startDovecot({ users: [{ user: USER, password: PASS }], maildirs: { [USER]: corpus }, tls: starttls });
  return { name: 'Dovecot', host: server.host, port: server.port, user: USER, pass: PASS, starttls, stop: () => server.stop() };
}

/**
 * Creates a Sealpost data directory with one account, appends the corpus to
 * its INBOX through the store, then starts the gateway in a child process.
 */
export async function sealpostTarget(corpus: readonly CorpusMessage[], options: { starttls: boolean; gatewayChild: boolean; log: string }): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-bench-'));
  tempDirs.add(dataDir);
  // Imported lazily so that `--only dovecot` works before the gateway exists.
  const { initDataDir, openNode } = await import('../src/app.ts');
  const { silentLogger } = await import('../src/log.ts');
  await initDataDir(dataDir);
  const node = await openNode({ dataDir, logger: silentLogger() });
  try {
    const { account } = await node.accounts.createAccount({ address: USER, password: PASS });
    const inbox = await node.store.getMailbox(account.id, 'INBOX');
    if (inbox === null) throw new Error('the new account has no INBOX');
    const started = Date.now();
    for (const message of corpus) {
      await node.store.append(inbox.id, { raw: message.raw, flags: message.flags, internalDate: message.internalDate });
    }
    process.stderr.write(`  Sealpost store filled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await node.close();
  }

  // The compiled gateway, as `npm start` runs it (npm run bench builds it first).
  const cli = path.join(ROOT, 'dist/cli/main.js');
  const useCli = !options.gatewayChild && fs.existsSync(cli);
  const args = useCli
    ? [...GATEWAY_NODE_FLAGS, cli, 'start', '--data-dir', dataDir, '--smtp-port', '0', '--smtps-port', '0', '--imap-port', '0', '--imaps-port', '0']
    : [path.join(ROOT, 'bench/gateway-child.ts'), dataDir];
  const logFd = fs.openSync(options.log, 'w');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', logFd] });
  fs.closeSync(logFd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the gateway printed no ports within 30 s; stdout: ${out}; see ${options.log}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${code}) before listening; see ${options.log}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // CLI: "Listening on 127.0.0.1: ... IMAP 41234 (STARTTLS) ..."; child script: a JSON line
      const match = useCli ? /\bIMAP (\d+)/.exec(out) : /"imap":(\d+)/.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  child.stdout?.resume();
  const pid = child.pid;
  if (pid === undefined) throw new Error('gateway child has no pid');
  return {
    name: 'Sealpost',
    host: '127.0.0.1',
    port,
    user: USER,
    pass: PASS,
    starttls: options.starttls,
    pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    },
  };
}

/** Peak and current resident set size of a process, in MB (Linux /proc). */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}
