// Test helper: a Sealpost gateway as a CHILD PROCESS (`node src/cli/main.ts
// start`), the way a user runs it, so that a test can SIGKILL it mid-work and
// start it again on the same data directory:
//   const dir = await initSealpostDir({ users: [{ user, password }] });
//   const gw = await spawnSealpost(dir.dir);   // ports read from its "Listening on" line
//   gw.kill('SIGKILL'); await gw.exited;
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initDataDir, openNode } from '../../src/app.ts';
import { loadConfig, saveConfig, type PortsConfig, type SealpostConfig } from '../../src/config/config.ts';
import { silentLogger } from '../../src/log.ts';

const MAIN = path.resolve('src/cli/main.ts');

export interface SealpostDir {
  dir: string;
  /** the gateway's self-signed certificate (PEM), to trust in clients */
  caFile: string;
  /** removes the directory */
  remove(): void;
}

/**
 * Initialises a temp data dir with the given accounts (and config edits), without starting a gateway.
 * @throws whatever initDataDir / createAccount throw (the directory is removed first)
 */
export async function initSealpostDir(options: { users: ReadonlyArray<{ user: string; password: string }>; configure?: (config: SealpostConfig) => void }): Promise<SealpostDir> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-proc-'));
  try {
    const init = await initDataDir(dir);
    if (options.configure !== undefined) {
      const file = path.join(dir, 'config.json');
      const config = await loadConfig(file);
      options.configure(config);
      await saveConfig(file, config);
    }
    const node = await openNode({ dataDir: dir, logger: silentLogger() });
    try {
      for (const { user, password } of options.users) await node.accounts.createAccount({ address: user, password });
    } finally {
      await node.close();
    }
    return { dir, caFile: init.paths.tlsCert, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface SealpostProcess {
  pid: number;
  /** the bound ports, from the "Listening on" line */
  ports: PortsConfig;
  /** resolves when the child has exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** the last lines it wrote on stderr (its JSON log), for failure messages */
  stderrTail(): string;
  /** SIGTERM (graceful), SIGKILL after 10 s; resolves on exit */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `sealpost start --data-dir DIR` on OS-picked ports and resolves once it listens.
 * @throws Error when the child exits or does not listen within `timeoutMs` (default 30 s)
 */
export async function spawnSealpost(dir: string, options: { timeoutMs?: number } = {}): Promise<SealpostProcess> {
  const ports = ['--smtp-port', '0', '--smtps-port', '0', '--imap-port', '0', '--imaps-port', '0'];
  const child = spawn(process.execPath, [MAIN, 'start', '--data-dir', dir, ...ports], {
    env: { ...process.env, SEALPOST_HOME: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      resolve({ code, signal });
    });
  });
  // Keep reading both pipes (the log is chatty) and remember the tail.
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8000);
  });
  let stdout = '';
  const listening = await new Promise<PortsConfig>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sealpost start did not listen within ${options.timeoutMs ?? 30_000} ms:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const m = /Listening on \S+: SMTP (\d+) \(STARTTLS\), SMTPS (\d+) \(SSL\/TLS\), IMAP (\d+) \(STARTTLS\), IMAPS (\d+) \(SSL\/TLS\)/.exec(stdout);
      if (m === null) return;
      clearTimeout(timer);
      resolve({ smtp: Number(m[1]), smtps: Number(m[2]), imap: Number(m[3]), imaps: Number(m[4]) });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`sealpost start exited (${code ?? signal}) before listening:\n${stdout}\n${stderr}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('sealpost start has no pid');
  return {
    pid,
    ports: listening,
    exited,
    kill: (signal) => {
      child.kill(signal);
    },
    stderrTail: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
