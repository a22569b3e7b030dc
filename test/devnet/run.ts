// Test helper: `sealpost devnet … --json` as a child process (node
// src/cli/main.ts devnet), the way a script runs it, reading its JSON lines.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

const MAIN = path.resolve('src/cli/main.ts');

export interface AccountLine {
  node: number;
  pid: number;
  address: string;
  password: string;
  smtp: string;
  imap: string;
  dataDir: string;
}

export interface DevnetRun {
  child: ChildProcess;
  /** every stdout line parsed as JSON, in order */
  lines: unknown[];
  stderr(): string;
  /** resolves with the first line (already seen or later) that `match` accepts */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  /** the account lines, once {"ready":true} was printed */
  ready(timeoutMs: number): Promise<AccountLine[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runDevnet(args: string[]): DevnetRun {
  const child = spawn(process.execPath, [MAIN, 'devnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SEALPOST_HOME: '' } });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const lines: unknown[] = [];
  const waiters = new Set<() => void>();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    let nl: number;
    while ((nl = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, nl);
      stdout = stdout.slice(nl + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ notJson: line });
      }
      for (const w of waiters) w();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });
  const waitFor = (match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const check = (): void => {
      const found = lines.find((l) => typeof l === 'object' && l !== null && match(l as Record<string, unknown>));
      if (found !== undefined) {
        done();
        resolve(found as Record<string, unknown>);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        done();
        reject(new Error(`devnet exited (${child.exitCode ?? child.signalCode}) first; stderr:\n${stderr}`));
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no matching line within ${timeoutMs} ms; lines: ${JSON.stringify(lines)}\nstderr:\n${stderr}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    waitFor,
    ready: async (timeoutMs) => {
      await waitFor((l) => l['ready'] === true, timeoutMs);
      return lines.filter((l): l is AccountLine => typeof l === 'object' && l !== null && 'address' in l);
    },
    exited,
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "127.0.0.1:1234" → 1234 */
export function portOf(hostPort: string): number {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(hostPort);
  if (m === null) throw new Error(`not a loopback host:port: ${hostPort}`);
  return Number(m[1]);
}

/**
 * Teardown: SIGINT (devnet stops its children), SIGKILL after 30 s; then
 * any child named in DIR/running.json that is still alive (a devnet killed
 * hard leaves them running) is killed too.
 */
export async function shutdown(run: DevnetRun, dir: string): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) {
    run.child.kill('SIGINT');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
    await run.exited;
    clearTimeout(timer);
  }
  try {
    const running = JSON.parse(fs.readFileSync(path.join(dir, 'running.json'), 'utf8')) as { anvil?: number | null; nodes?: Array<{ pid: number }> };
    for (const pid of [...(running.nodes ?? []).map((n) => n.pid), running.anvil ?? 0]) if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    // stopped cleanly: no running.json
  }
}

/** pids of live processes whose command line names `dir` or a path in it (from /proc; [] where there is none). */
export function processesUsing(dir: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const state = /^\d+ \(.*\) (\S)/.exec(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'))?.[1];
      if (state !== 'Z' && args.some((a) => a === dir || a.startsWith(`${dir}/`))) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** An imapflow client for a devnet account, STARTTLS, trusting that node's certificate. */
export function devnetImap(account: AccountLine): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: portOf(account.imap),
    secure: false,
    doSTARTTLS: true,
    tls: { ca: [fs.readFileSync(path.join(account.dataDir, 'tls', 'cert.pem'))], servername: 'localhost' },
    auth: { user: account.address, pass: account.password },
    logger: false,
  } as ConstructorParameters<typeof ImapFlow>[0]);
}
