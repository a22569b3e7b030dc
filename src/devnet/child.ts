// The devnet's child processes (anvil, the nodes): each in its own process
// group so that a terminal's Ctrl-C reaches only devnet, which then stops
// them in order (nodes first, then the chain they anchor to). Their output
// goes straight to a log file (the previous run's kept as .1), not through
// devnet, so a child never blocks on a full pipe or dies of a closed one.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  pid: number;
  logFile: string;
  /** resolves when the process has exited */
  exited: Promise<ExitInfo>;
  /** the exit, once it happened; null while running */
  exitInfo(): ExitInfo | null;
  /** sends a signal unless it has exited */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after `graceMs`; resolves on exit */
  stop(graceMs: number): Promise<ExitInfo>;
}

/** Opens `file` for a fresh run's output, keeping the previous one as `file`.1. */
function openLog(file: string): number {
  try {
    fs.renameSync(file, `${file}.1`);
  } catch {
    // no earlier log
  }
  return fs.openSync(file, 'a', 0o600);
}

/**
 * Starts `command` with stdout and stderr appended to `logFile`.
 * @throws Error when the process cannot be spawned (no such file, not executable)
 */
export async function spawnLogged(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Promise<Child> {
  const fd = openLog(logFile);
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: true, env });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } finally {
    fs.closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${command} has no pid`);
  let info: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      info = { code, signal };
      resolve(info);
    });
  });
  const kill = (signal: NodeJS.Signals): void => {
    if (info === null) child.kill(signal);
  };
  return {
    pid,
    logFile,
    exited,
    exitInfo: () => info,
    kill,
    stop: async (graceMs) => {
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** "code 1" / "signal SIGKILL" */
export function describeExit(info: ExitInfo): string {
  return info.signal !== null ? `signal ${info.signal}` : `code ${info.code ?? '?'}`;
}

/** The last `lines` lines of a log file ("" when unreadable), for error messages. */
export function logTail(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').filter((l) => l !== '').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
