// The first run's decisions, written to devnet.json before anything else
// happens: one mail account per node with a generated password, its ports,
// and which funded dev accounts pay for what (account 0 deploys the
// registry; node i anchors with account 2i−1 and registers with account 2i,
// so no two writers share a nonce sequence). Later runs only check that the
// options agree with what was decided.
import path from 'node:path';
import { generatePassword } from '../crypto/password.ts';
import { devAccount } from './dev-keys.ts';
import { DevnetError } from './errors.ts';
import { DEFAULT_NODES, MAX_NODES } from './limits.ts';
import { basePortLayout, basePortTop, pickFreePorts, PORTS_PER_NODE } from './ports.ts';
import type { DevnetNodeState, DevnetState } from './state.ts';

export { DEFAULT_NODES, MAX_NODES } from './limits.ts';
/** anvil funds at least this many accounts, so that tools have spares */
const MIN_ANVIL_ACCOUNTS = 20;
export const CHAIN_STATE_FILE = 'chain-state.json';

export interface PlanOptions {
  /** number of nodes (default 5 at the first run; must match the directory's later) */
  nodes?: number;
  /** use this chain (anvil-compatible, funding the dev mnemonic) instead of starting anvil */
  rpcUrl?: string;
  /** fixed ports from here instead of free ones (first run only) */
  basePort?: number;
}

/** The mail address of node `i`'s account (.test is reserved, RFC 2606: never a real domain). */
export function nodeAddress(i: number): string {
  return `user@node${i}.devnet.test`;
}

/**
 * Decides a new network.
 * @throws DevnetError DEVNET_MISMATCH for an impossible node count or port block
 */
export async function planDevnet(options: PlanOptions, now: Date = new Date()): Promise<DevnetState> {
  const count = options.nodes ?? DEFAULT_NODES;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_NODES) throw new DevnetError('DEVNET_MISMATCH', `--nodes must be 1 to ${MAX_NODES}, got ${count}`);
  const external = options.rpcUrl !== undefined;
  let chainPort = 0;
  let nodePorts: (i: number) => number[];
  if (options.basePort !== undefined) {
    if (basePortTop(options.basePort, count) > 65535 || options.basePort < 1024) {
      throw new DevnetError('DEVNET_MISMATCH', `--base-port ${options.basePort} leaves no room for ${count} nodes (1024 to ${65535 - 10 * count - PORTS_PER_NODE + 1})`);
    }
    const layout = basePortLayout(options.basePort, count);
    chainPort = external ? 0 : layout.chain;
    nodePorts = layout.node;
  } else {
    const free = await pickFreePorts(count * PORTS_PER_NODE + (external ? 0 : 1));
    if (!external) chainPort = free.pop() ?? 0;
    nodePorts = (i) => free.slice((i - 1) * PORTS_PER_NODE, i * PORTS_PER_NODE);
  }
  const nodes: DevnetNodeState[] = [];
  for (let i = 1; i <= count; i++) {
    const [smtp = 0, smtps = 0, imap = 0, imaps = 0, p2p = 0] = nodePorts(i);
    const ledger = devAccount(2 * i - 1);
    const registry = devAccount(2 * i);
    nodes.push({
      node: i,
      dataDir: `node-${i}`,
      address: nodeAddress(i),
      password: generatePassword(),
      ports: { smtp, smtps, imap, imaps },
      p2pPort: p2p,
      ledger: { account: ledger.index, address: ledger.address, contract: '' },
      registry: { account: registry.index, address: registry.address },
    });
  }
  return {
    version: 1,
    createdAt: now.toISOString(),
    chain: {
      external,
      rpcUrl: options.rpcUrl ?? `http://127.0.0.1:${chainPort}`,
      port: chainPort,
      stateFile: external ? '' : CHAIN_STATE_FILE,
      accounts: Math.max(external ? 0 : MIN_ANVIL_ACCOUNTS, 2 * count + 1),
      chainId: 0,
      deployer: 0,
      registry: '',
    },
    nodes,
  };
}

/**
 * Checks that a later run's options agree with the network in `dir`.
 * @throws DevnetError DEVNET_MISMATCH naming the option
 */
export function checkResume(state: DevnetState, options: PlanOptions, dir: string): void {
  const where = path.join(dir, 'devnet.json');
  if (options.nodes !== undefined && options.nodes !== state.nodes.length) {
    throw new DevnetError('DEVNET_MISMATCH', `${dir} holds a ${state.nodes.length}-node network (${where}); give --nodes ${state.nodes.length} or leave it out`);
  }
  if (options.rpcUrl !== undefined && (!state.chain.external || options.rpcUrl !== state.chain.rpcUrl)) {
    throw new DevnetError('DEVNET_MISMATCH', `${dir} uses the chain ${state.chain.external ? state.chain.rpcUrl : 'of its own anvil'}, not --rpc-url ${options.rpcUrl}`);
  }
  if (options.basePort !== undefined && state.nodes[0] !== undefined && state.nodes[0].ports.smtp !== options.basePort + 10) {
    throw new DevnetError('DEVNET_MISMATCH', `${dir} was created with other ports (node 1 SMTP ${state.nodes[0].ports.smtp}); leave --base-port out`);
  }
}
