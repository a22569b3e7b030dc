// A devnet node as its own process: `node <cli>/main.ts start --data-dir
// node-i` (main.js when devnet itself runs from dist/), exactly what a user
// runs, with its log in node-i/node.log. It is ready when its gateway.json
// names its pid: `start` writes that file once all four listeners are bound.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { dataPaths } from '../config/paths.ts';
import fs from 'node:fs/promises';
import type { PortsConfig } from '../config/config.ts';
import { describeExit, logTail, spawnLogged, type Child } from './child.ts';
import { DevnetError } from './errors.ts';

export const NODE_LOG = 'node.log';

/** The ports in gateway.json when it names `pid` (the file `start` writes once it listens), else null. */
async function listeningPorts(file: string, pid: number): Promise<PortsConfig | null> {
  try {
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as { pid?: unknown; ports?: Partial<Record<keyof PortsConfig, unknown>> };
    const p = state.ports;
    if (state.pid !== pid || p === undefined) return null;
    if (typeof p.smtp !== 'number' || typeof p.smtps !== 'number' || typeof p.imap !== 'number' || typeof p.imaps !== 'number') return null;
    return { smtp: p.smtp, smtps: p.smtps, imap: p.imap, imaps: p.imaps };
  } catch {
    return null; // not written yet, or being replaced
  }
}

/** The CLI entry next to this module: src/cli/main.ts, or dist/cli/main.js in a build. */
export function cliEntry(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return fileURLToPath(new URL(`../cli/main.${ext}`, import.meta.url));
}

export interface NodeProcess {
  node: number;
  child: Child;
  /** the ports it bound, from its gateway.json */
  ports: PortsConfig;
}

export interface StartNodeOptions {
  node: number;
  dataDir: string;
  /** default 120 s: five nodes starting together on two cores take a while */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Starts a node and resolves once it listens.
 * @throws DevnetError DEVNET_NODE when it exits first or does not listen in time (it is then stopped); DEVNET_ABORTED
 */
export async function startNodeProcess(options: StartNodeOptions): Promise<NodeProcess> {
  const paths = dataPaths(options.dataDir);
  const logFile = path.join(options.dataDir, NODE_LOG);
  // A small young generation frees sent message buffers sooner (as bin/sealpost.js does for start).
  const args = ['--max-semi-space-size=2', cliEntry(), 'start', '--data-dir', options.dataDir];
  let child: Child;
  try {
    child = await spawnLogged(process.execPath, args, logFile, { ...process.env, SEALPOST_HOME: '' });
  } catch (error) {
    throw new DevnetError('DEVNET_NODE', `cannot start node ${options.node}: ${(error as Error).message}`, { cause: error });
  }
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const info = child.exitInfo();
      if (info !== null) {
        throw new DevnetError('DEVNET_NODE', `node ${options.node} exited (${describeExit(info)}) before listening; its log ${logFile}:\n${logTail(logFile)}`);
      }
      if (options.signal?.aborted === true) throw new DevnetError('DEVNET_ABORTED', `stopped while node ${options.node} was starting`);
      const ports = await listeningPorts(paths.gatewayState, child.pid);
      if (ports !== null) return { node: options.node, child, ports };
      if (Date.now() > deadline) {
        throw new DevnetError('DEVNET_NODE', `node ${options.node} did not listen within ${Math.round(timeoutMs / 1000)} s; its log ${logFile}:\n${logTail(logFile)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await child.stop(10_000);
    throw error;
  }
}
