// Test helper: a real anvil (Foundry's local EVM node, from @foundry-rs/anvil)
// on 127.0.0.1 at an OS-chosen port, optionally keeping its chain in a state
// file so that a test can stop it and start it again with the same chain.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ANVIL = fileURLToPath(new URL('../../node_modules/.bin/anvil', import.meta.url));

/**
 * Account #0 of the mnemonic "test test … junk" that anvil funds by default
 * (checked against the key anvil prints at start).
 */
export const ANVIL_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** Account #1, also funded; not the owner of contracts deployed with key #0. */
export const ANVIL_KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

export interface Anvil {
  rpcUrl: string;
  port: number;
  /** anvil account #0 (10,000 ETH) */
  privateKey: string;
  /** the keys of all funded accounts, #0 first (one per concurrent writer avoids nonce races) */
  privateKeys: string[];
  /** Stops anvil (SIGTERM, so that it writes its state file) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface AnvilOptions {
  /** load the chain from this file if it exists, write it there on exit */
  stateFile?: string;
  /** listen on this port (to come back on the same URL after a restart); 0 = any */
  port?: number;
  /** how many funded accounts (anvil's default is 10) */
  accounts?: number;
}

/**
 * Starts anvil and resolves once it listens.
 * @throws Error when anvil exits or stays silent for 15 s
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0)];
  if (options.stateFile !== undefined) args.push('--state', options.stateFile);
  if (options.accounts !== undefined) args.push('--accounts', String(options.accounts));
  const child = spawn(ANVIL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let output = '';
  const { port, keys } = await new Promise<{ port: number; keys: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`anvil did not start within 15 s:\n${output}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const listening = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (listening === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      const section = /Private Keys\s*=+\s*([\s\S]*?)\n\n/.exec(output)?.[1] ?? '';
      resolve({ port: Number(listening[1]), keys: [...section.matchAll(/\(\d+\) (0x[0-9a-f]{64})/g)].map((m) => m[1] as string) });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  // anvil logs every RPC call: keep reading so that the pipe never fills up.
  child.stdout?.resume();
  if (keys[0] !== ANVIL_KEY_0 || keys[1] !== ANVIL_KEY_1) {
    child.kill('SIGKILL');
    throw new Error(`anvil's account keys are not the expected ones: ${keys.slice(0, 2).join(', ')}`);
  }

  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    privateKey: ANVIL_KEY_0,
    privateKeys: keys,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopChild(child);
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
