// `sealpost devnet` without the printing: a local Sealpost network in one
// call. Claims the directory, decides the network at the first run
// (devnet.json) or checks the options against it, starts anvil on its state
// file, deploys what is not deployed yet, prepares each node's data
// directory, starts every node as its own `sealpost start` process and waits
// until all listen. stop() stops the nodes first, then the chain.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PortsConfig } from '../config/config.ts';
import { startAnvil, findAnvil, type AnvilProcess } from './anvil.ts';
import type { ExitInfo } from './child.ts';
import { ensureContracts } from './contracts.ts';
import { DevnetError } from './errors.ts';
import { prepareNodeDir, type PreparedNode } from './node-dir.ts';
import { NODE_LOG, startNodeProcess, type NodeProcess } from './node-process.ts';
import { checkResume, planDevnet, type PlanOptions } from './plan.ts';
import { claimDirectory, releaseDirectory, writeRunning } from './running.ts';
import { readDevnetState, writeDevnetState, type DevnetState } from './state.ts';
import { waitForChain } from './rpc.ts';

export { DevnetError, type DevnetErrorCode } from './errors.ts';
export { DEFAULT_NODES, MAX_NODES } from './limits.ts';

export interface DevnetOptions extends PlanOptions {
  /** the devnet directory (created, mode 0700) */
  dir: string;
  /** the anvil binary (default: the @foundry-rs/anvil package, then PATH) */
  anvil?: string;
  /** prepare the directory and contracts, then stop the chain: start no node */
  prepareOnly?: boolean;
  /** aborting it stops whatever was started and rejects with DEVNET_ABORTED */
  signal?: AbortSignal;
  /** one line per step, for a person */
  progress?: (line: string) => void;
  /** a node exited while the network ran (not during stop()) */
  onNodeExit?: (account: DevnetAccount, info: ExitInfo) => void;
  /** anvil exited while the network ran (not during stop()) */
  onChainExit?: (info: ExitInfo) => void;
}

/** One node's account and the settings a mail client needs. */
export interface DevnetAccount {
  node: number;
  /** the node process; null with prepareOnly */
  pid: number | null;
  address: string;
  password: string;
  host: string;
  /** SMTP and IMAP with STARTTLS: smtp, imap; with implicit TLS: smtps, imaps */
  ports: PortsConfig;
  p2pPort: number;
  /** absolute */
  dataDir: string;
  /** the node's self-signed certificate (PEM) and its SHA-256 fingerprint */
  certFile: string;
  tlsFingerprint: string;
  logFile: string;
}

export interface Devnet {
  dir: string;
  rpcUrl: string;
  /** true when the chain is someone else's (--rpc-url), false when devnet runs anvil */
  external: boolean;
  chainId: number;
  /** the shared SealpostRegistry */
  registry: string;
  /** devnet's own anvil; null for an external chain or with prepareOnly */
  anvilPid: number | null;
  accounts: DevnetAccount[];
  /** true when this run created the network (false: resumed) */
  created: boolean;
  /**
   * Stops the nodes (SIGTERM, SIGKILL after 15 s; at once with `hurry`),
   * then anvil (SIGTERM: it writes its state), and releases the directory.
   * Calling it again while it runs returns the same promise (with `hurry` applied).
   */
  stop(options?: { hurry?: boolean }): Promise<void>;
}

/**
 * Starts (or resumes) the devnet in `options.dir`.
 * @throws DevnetError (DEVNET_RUNNING, DEVNET_STATE, DEVNET_MISMATCH, DEVNET_ANVIL, DEVNET_CHAIN_LOST, DEVNET_NODE, DEVNET_ABORTED);
 * ChainError / ContractCompileError from a deployment; ValidationError / I/O errors from a node's data directory
 */
export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const dir = path.resolve(options.dir);
  const progress = options.progress ?? (() => undefined);
  const checkAbort = (what: string): void => {
    if (options.signal?.aborted === true) throw new DevnetError('DEVNET_ABORTED', `stopped ${what}`);
  };
  // Checked before anything is written: a bad option must not leave a half-made directory.
  const existing = await readDevnetState(dir);
  if (existing !== null) checkResume(existing, options, dir);
  const binary = existing?.chain.external === true || (existing === null && options.rpcUrl !== undefined) ? '' : findAnvil(options.anvil);

  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  const leftovers = await claimDirectory(dir);
  if (leftovers.length > 0) progress(`Stopped ${leftovers.length} process${leftovers.length === 1 ? '' : 'es'} left running by an earlier devnet that did not stop cleanly (pids ${leftovers.join(', ')}).`);
  const startedAt = new Date().toISOString();
  await writeRunning(dir, { pid: process.pid, anvil: null, nodes: [], startedAt });

  let anvil: AnvilProcess | null = null;
  const nodes: NodeProcess[] = [];
  let stopping: Promise<void> | undefined;
  let hurry = false;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(nodes.map(async (n) => {
        const done = n.child.stop(15_000);
        if (hurry) n.child.kill('SIGKILL');
        await done;
      }));
      await anvil?.stop();
      await releaseDirectory(dir);
    })();
    return stopping;
  };

  try {
    let state: DevnetState;
    const created = existing === null;
    if (existing === null) {
      state = await planDevnet(options);
      await writeDevnetState(dir, state);
      progress(`New devnet in ${dir}: ${state.nodes.length} node${state.nodes.length === 1 ? '' : 's'}.`);
    } else {
      state = existing;
      progress(`Resuming the devnet in ${dir}: ${state.nodes.length} node${state.nodes.length === 1 ? '' : 's'}.`);
    }
    checkAbort('before the chain started');

    if (state.chain.external) {
      progress(`Using the chain at ${state.chain.rpcUrl}.`);
      await waitForChain(state.chain.rpcUrl, { timeoutMs: 60_000, ...(options.signal !== undefined ? { signal: options.signal } : {}) });
    } else {
      progress(`Starting anvil on 127.0.0.1:${state.chain.port} (chain state ${path.join(dir, state.chain.stateFile)}).`);
      anvil = await startAnvil({
        binary,
        port: state.chain.port,
        stateFile: path.join(dir, state.chain.stateFile),
        accounts: state.chain.accounts,
        logFile: path.join(dir, 'anvil.log'),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
      await writeRunning(dir, { pid: process.pid, anvil: anvil.child.pid, nodes: [], startedAt });
    }
    checkAbort('before the contracts were deployed');
    await ensureContracts(state, () => writeDevnetState(dir, state), progress);
    checkAbort('before the nodes were prepared');

    const prepared: PreparedNode[] = [];
    for (const node of state.nodes) {
      const p = await prepareNodeDir(dir, state, node);
      if (p.created) progress(`Node ${node.node}: created ${node.address} in ${p.dataDir}.`);
      prepared.push(p);
      checkAbort('while the nodes were prepared');
    }

    const accounts: DevnetAccount[] = state.nodes.map((node, i) => {
      const p = prepared[i] as PreparedNode;
      return {
        node: node.node,
        pid: null,
        address: node.address,
        password: node.password,
        host: '127.0.0.1',
        ports: { ...node.ports },
        p2pPort: node.p2pPort,
        dataDir: p.dataDir,
        certFile: p.certFile,
        tlsFingerprint: p.tlsFingerprint,
        logFile: path.join(p.dataDir, NODE_LOG),
      };
    });
    const devnet: Devnet = {
      dir,
      rpcUrl: state.chain.rpcUrl,
      external: state.chain.external,
      chainId: state.chain.chainId,
      registry: state.chain.registry,
      anvilPid: null,
      accounts,
      created,
      stop: (stopOptions = {}) => {
        if (stopOptions.hurry === true) {
          hurry = true;
          for (const n of nodes) n.child.kill('SIGKILL');
        }
        return stopAll();
      },
    };
    if (options.prepareOnly === true) {
      await stopAll();
      return devnet;
    }

    progress(`Starting ${accounts.length} node${accounts.length === 1 ? '' : 's'}...`);
    const results = await Promise.allSettled(accounts.map((a) => startNodeProcess({
      node: a.node,
      dataDir: a.dataDir,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    })));
    for (const r of results) if (r.status === 'fulfilled') nodes.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await writeRunning(dir, { pid: process.pid, anvil: anvil?.child.pid ?? null, nodes: nodes.map((n) => ({ node: n.node, pid: n.child.pid })), startedAt });

    for (const n of nodes) {
      const account = accounts.find((a) => a.node === n.node);
      if (account === undefined) continue;
      account.pid = n.child.pid;
      account.ports = n.ports;
      void n.child.exited.then((info) => {
        if (stopping === undefined) options.onNodeExit?.(account, info);
      });
    }
    if (anvil !== null) {
      devnet.anvilPid = anvil.child.pid;
      void anvil.child.exited.then((info) => {
        if (stopping === undefined) options.onChainExit?.(info);
      });
    }
    return devnet;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
