// gateway.json in the data directory: which process runs the gateway and on
// which ports, so that `status` can say so and a second `start` can refuse.
import fs from 'node:fs/promises';
import type { PortsConfig } from '../config/config.ts';
import { writeFileAtomic } from '../config/config.ts';

export interface GatewayState {
  pid: number;
  listen: string;
  ports: PortsConfig;
  startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state of a gateway whose process is still alive, else null (a stale file is ignored). */
export async function readRunningGateway(file: string): Promise<GatewayState | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const state = parsed as Partial<GatewayState>;
  if (typeof state.pid !== 'number' || !Number.isSafeInteger(state.pid) || state.pid <= 0) return null;
  if (typeof state.ports !== 'object' || state.ports === null || typeof state.listen !== 'string') return null;
  return isAlive(state.pid) ? (state as GatewayState) : null;
}

export async function writeGatewayState(file: string, state: GatewayState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** Removes the file if it still names this process. */
export async function removeGatewayState(file: string, pid: number): Promise<void> {
  try {
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<GatewayState>;
    if (state.pid === pid) await fs.rm(file, { force: true });
  } catch {
    // already gone
  }
}
