// running.json in the devnet directory: the pids of the devnet process, its
// anvil and its nodes while it runs. A second devnet on the same directory
// refuses to start; one that finds the file of a devnet that died without
// stopping (SIGKILL, a crash) stops the children it left behind, but only
// processes whose command line names this directory (a pid may have been
// reused by an unrelated program since).
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../config/config.ts';
import { DevnetError } from './errors.ts';

export const RUNNING_FILE = 'running.json';

export interface RunningState {
  pid: number;
  anvil: number | null;
  nodes: Array<{ node: number; pid: number }>;
  startedAt: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** true when /proc shows `pid`'s command line mentioning `dir` (false where there is no /proc). */
async function runsIn(pid: number, dir: string): Promise<boolean> {
  try {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').some((arg) => arg === dir || arg.startsWith(`${dir}${path.sep}`));
  } catch {
    return false;
  }
}

async function readRunning(dir: string): Promise<RunningState | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(path.join(dir, RUNNING_FILE), 'utf8')) as Partial<RunningState>;
    if (typeof parsed.pid !== 'number' || !Array.isArray(parsed.nodes)) return null;
    return {
      pid: parsed.pid,
      anvil: typeof parsed.anvil === 'number' ? parsed.anvil : null,
      nodes: parsed.nodes.filter((n) => typeof n?.pid === 'number' && typeof n.node === 'number'),
      startedAt: String(parsed.startedAt ?? ''),
    };
  } catch {
    return null;
  }
}

/**
 * Claims the directory for this process. Leftovers of a devnet that died are
 * stopped (SIGTERM, then SIGKILL after 10 s); their pids are returned.
 * @throws DevnetError DEVNET_RUNNING when a live devnet holds it
 */
export async function claimDirectory(dir: string): Promise<number[]> {
  const running = await readRunning(dir);
  if (running === null) return [];
  if (running.pid !== process.pid && isAlive(running.pid)) {
    throw new DevnetError('DEVNET_RUNNING', `a devnet already runs on ${dir} (pid ${running.pid}); stop it with Ctrl-C or kill -INT ${running.pid}`);
  }
  // Nodes first, then the chain, as in a normal stop.
  const stopped: number[] = [];
  const groups = [running.nodes.map((n) => n.pid), running.anvil === null ? [] : [running.anvil]];
  for (const pids of groups) {
    const mine: number[] = [];
    for (const pid of pids) if (isAlive(pid) && (await runsIn(pid, dir))) mine.push(pid);
    for (const pid of mine) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (mine.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    for (const pid of mine) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    stopped.push(...mine);
  }
  await fs.rm(path.join(dir, RUNNING_FILE), { force: true });
  return stopped;
}

export async function writeRunning(dir: string, state: RunningState): Promise<void> {
  await writeFileAtomic(path.join(dir, RUNNING_FILE), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** Removes running.json if it still names this process. */
export async function releaseDirectory(dir: string): Promise<void> {
  const running = await readRunning(dir);
  if (running !== null && running.pid === process.pid) await fs.rm(path.join(dir, RUNNING_FILE), { force: true });
}
