// Benchmark helper: the two servers under test, each filled with the same
// corpus — Dovecot (Debian's dovecot-imapd, Maildir written directly) and
// Sealpost (SQLite store filled through the store interface, gateway run as a
// child process so that its peak RSS can be read from /proc). Also the child
// process and temp dir plumbing the other benchmark parts share.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot } from '../test/helpers/dovecot.ts';
import type { CorpusMessage } from '../test/helpers/corpus.ts';
import type { PortsConfig } from '../src/config/config.ts';

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
export async function sealpostTarget(corpus: readonly CorpusMessage[], options: { starttls: boolean; gatewayChild: boolean; log: string; nodeFlags?: readonly string[] }): Promise<Target> {
  const dataDir = makeTempDir('sealpost-bench-');
  // Imported lazily so that `--only dovecot` works before the gateway exists.
  const { initDataDir, openNode } = await import('../src/app.ts');
  const { silentLogger } = await import('../src/log.ts');
  await initDataDir(dataDir);
  const node = await openNode({ dataDir, logger: silentLogger() });
  try {
    const { account } = await node.accounts.createAccount({ address: USER, password: PASS });
    // Bodies are sealed with the account's cache key, which only a login unlocks.
    await node.accounts.authenticate(USER, PASS, '127.0.0.1');
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

  const gateway = await startGatewayChild(dataDir, { gatewayChild: options.gatewayChild, log: options.log, ...(options.nodeFlags === undefined ? {} : { nodeFlags: options.nodeFlags }) });
  return {
    name: 'Sealpost',
    host: '127.0.0.1',
    port: gateway.ports.imap,
    user: USER,
    pass: PASS,
    starttls: options.starttls,
    pid: gateway.pid,
    async stop() {
      await gateway.stop();
      removeTempDir(dataDir);
    },
  };
}

/** A fresh temp directory that goes with the process however it ends (see cleanupNow). */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A child process that cleanupNow kills whatever ends the benchmark. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Stops a child with SIGTERM (SIGKILL after 10 s) and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Spawns a benchmark child and resolves with what `ready` finds in its stdout
 * (the child's "I am listening" line).
 * @throws Error when the child exits first or prints nothing that matches within 30 s
 */
export async function spawnReady<T>(args: readonly string[], options: { log: string; what: string; ready: (stdout: string) => T | null }): Promise<{ child: ChildProcess; value: T }> {
  const logFd = fs.openSync(options.log, 'w');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', logFd] });
  fs.closeSync(logFd);
  trackChild(child);
  try {
    const value = await new Promise<T>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${options.what} printed nothing expected within 30 s; stdout: ${out}; see ${options.log}`)), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${options.what} exited (${code}) before listening; see ${options.log}`));
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = options.ready(out);
        if (found !== null) {
          clearTimeout(timer);
          resolve(found);
        }
      });
    });
    child.stdout?.resume();
    return { child, value };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

export interface GatewayChild {
  pid: number;
  /** the ports the gateway bound */
  ports: PortsConfig;
  /** stops the gateway (SIGTERM, graceful); the data directory stays */
  stop(): Promise<void>;
}

/**
 * Starts the gateway on an initialised data directory in a child process, on
 * OS-picked loopback ports: the compiled CLI (`sealpost start`, as `npm start`
 * runs it) when dist/ exists, else bench/gateway-child.ts.
 * `nodeFlags` come after the usual ones (e.g. --cpu-prof).
 */
export async function startGatewayChild(dataDir: string, options: { gatewayChild: boolean; log: string; nodeFlags?: readonly string[] }): Promise<GatewayChild> {
  // The compiled gateway, as `npm start` runs it (npm run bench builds it first).
  const cli = path.join(ROOT, 'dist/cli/main.js');
  const useCli = !options.gatewayChild && fs.existsSync(cli);
  const flags = [...GATEWAY_NODE_FLAGS, ...(options.nodeFlags ?? [])];
  const args = useCli
    ? [...flags, cli, 'start', '--data-dir', dataDir, '--smtp-port', '0', '--smtps-port', '0', '--imap-port', '0', '--imaps-port', '0']
    : [...flags, path.join(ROOT, 'bench/gateway-child.ts'), dataDir];
  const { child, value: ports } = await spawnReady(args, {
    log: options.log,
    what: 'the gateway',
    ready: (out) => {
      if (useCli) {
        // "Listening on 127.0.0.1: SMTP a (STARTTLS), SMTPS b (SSL/TLS), IMAP c (STARTTLS), IMAPS d (SSL/TLS)"
        const m = /\bSMTP (\d+) .*\bSMTPS (\d+) .*\bIMAP (\d+) .*\bIMAPS (\d+) \(SSL\/TLS\)/.exec(out);
        return m === null ? null : { smtp: Number(m[1]), smtps: Number(m[2]), imap: Number(m[3]), imaps: Number(m[4]) };
      }
      // complete lines only: the last piece may be half a line
      const line = out.split('\n').slice(0, -1).find((l) => l.includes('"benchReady"'));
      return line === undefined ? null : (JSON.parse(line) as { ports: PortsConfig }).ports;
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('gateway child has no pid');
  return { pid, ports, stop: () => stopChild(child) };
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
