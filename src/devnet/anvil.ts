// The devnet's chain: Foundry's anvil on 127.0.0.1 at the port devnet.json
// fixes, keeping the chain in a state file in the devnet directory (loaded at
// start, written every few seconds and at exit) so that a later run resumes
// the same chain. The binary comes from --anvil, the @foundry-rs/anvil
// platform package (spawned directly: its node wrapper would exit before
// anvil has written its state), or PATH.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describeExit, logTail, spawnLogged, type Child } from './child.ts';
import { DevnetError } from './errors.ts';
import { portIsFree } from './ports.ts';
import { waitForChain } from './rpc.ts';

/** how often anvil writes its state file, seconds: what a crash of devnet's machine can lose */
const STATE_INTERVAL_S = 5;

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the anvil binary.
 * @throws DevnetError DEVNET_ANVIL when there is none
 */
export function findAnvil(explicit?: string): string {
  if (explicit !== undefined) {
    if (!executable(explicit)) throw new DevnetError('DEVNET_ANVIL', `--anvil ${explicit} is not an executable file`);
    return path.resolve(explicit);
  }
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  try {
    const file = createRequire(import.meta.url).resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/${exe}`);
    if (executable(file)) return file;
  } catch {
    // not installed (it is a devDependency): try PATH
  }
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, exe);
    if (executable(file)) return file;
  }
  throw new DevnetError('DEVNET_ANVIL', 'no anvil found: run "npm install" in the Sealpost checkout (it brings @foundry-rs/anvil), install Foundry, or pass --anvil FILE');
}

export interface AnvilOptions {
  binary: string;
  port: number;
  /** absolute path of the chain state file */
  stateFile: string;
  /** funded dev accounts */
  accounts: number;
  logFile: string;
  /** how long to wait for the first answer (default 30 s) */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AnvilProcess {
  child: Child;
  rpcUrl: string;
  chainId: number;
  /** SIGTERM (anvil then writes its state file), SIGKILL after 10 s */
  stop(): Promise<void>;
}

/**
 * Starts anvil and resolves once it answers JSON-RPC.
 * @throws DevnetError DEVNET_ANVIL when it cannot start, exits, or stays silent; DEVNET_ABORTED
 */
export async function startAnvil(options: AnvilOptions): Promise<AnvilProcess> {
  const args = [
    '--host', '127.0.0.1',
    '--port', String(options.port),
    '--accounts', String(options.accounts),
    '--state', options.stateFile,
    '--state-interval', String(STATE_INTERVAL_S),
  ];
  // Checked first: another chain on the port would answer our polls in place of ours.
  if (!(await portIsFree(options.port))) {
    throw new DevnetError('DEVNET_ANVIL', `the chain's port 127.0.0.1:${options.port} is in use by another program; stop it and run again`);
  }
  let child: Child;
  try {
    child = await spawnLogged(options.binary, args, options.logFile);
  } catch (error) {
    throw new DevnetError('DEVNET_ANVIL', `cannot start ${options.binary}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const rpcUrl = `http://127.0.0.1:${options.port}`;
  const stop = async (): Promise<void> => {
    await child.stop(10_000);
  };
  try {
    const chainId = await waitForChain(rpcUrl, {
      timeoutMs: options.timeoutMs ?? 30_000,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      isDead: () => {
        const info = child.exitInfo();
        return info === null ? null : `anvil exited (${describeExit(info)}) before answering on ${rpcUrl}; its log ${options.logFile}:\n${logTail(options.logFile)}`;
      },
    });
    return { child, rpcUrl, chainId, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
