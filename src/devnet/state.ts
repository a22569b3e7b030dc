// devnet.json in the devnet directory: what the first run decided (ports,
// accounts, generated passwords, chain accounts, deployed contracts) so that
// every later run resumes the same network. Mode 0600: it holds the mail
// passwords. Paths inside are relative to the directory, which may move.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PortsConfig } from '../config/config.ts';
import { writeFileAtomic } from '../config/config.ts';
import { DevnetError } from './errors.ts';

export const STATE_FILE = 'devnet.json';

export interface DevnetNodeState {
  /** 1-based */
  node: number;
  /** the node's data directory, relative to the devnet directory ("node-1") */
  dataDir: string;
  /** its one mail account (also the IMAP/SMTP user name) */
  address: string;
  /** the account's client password, generated at the first run */
  password: string;
  /** mail ports on 127.0.0.1 (STARTTLS: smtp, imap; implicit TLS: smtps, imaps) */
  ports: PortsConfig;
  /** libp2p port on 127.0.0.1 (network.listen) */
  p2pPort: number;
  /** the dev account that owns this node's SealpostAnchor and pays for anchoring */
  ledger: { account: number; address: string; contract: string };
  /** the dev account that registers this node and posts announcements (separate nonces) */
  registry: { account: number; address: string };
}

export interface DevnetChainState {
  /** true: the chain is someone else's (--rpc-url); false: devnet runs anvil itself */
  external: boolean;
  /** JSON-RPC endpoint the nodes use */
  rpcUrl: string;
  /** anvil's port on 127.0.0.1 (0 for an external chain) */
  port: number;
  /** anvil's state file, relative to the devnet directory ("" for an external chain) */
  stateFile: string;
  /** funded dev accounts anvil creates (--accounts) */
  accounts: number;
  /** learnt at the first deployment (0 before) */
  chainId: number;
  /** the dev account that deployed the registry */
  deployer: number;
  /** the shared SealpostRegistry ("" until deployed) */
  registry: string;
}

export interface DevnetState {
  version: 1;
  createdAt: string;
  chain: DevnetChainState;
  nodes: DevnetNodeState[];
}

const ETH_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function fail(file: string, field: string, why: string): never {
  throw new DevnetError('DEVNET_STATE', `${file}: ${field} ${why} (fix or remove the file to start a new network)`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a parsed devnet.json.
 * @throws DevnetError DEVNET_STATE naming the first bad field
 */
export function validateDevnetState(input: unknown, file = STATE_FILE): DevnetState {
  if (!isObject(input)) fail(file, 'the file', 'is not a JSON object');
  const str = (o: Record<string, unknown>, key: string, field: string, re?: RegExp): string => {
    const v = o[key];
    if (typeof v !== 'string' || (re !== undefined && !re.test(v))) fail(file, field, 'is missing or malformed');
    return v;
  };
  const int = (o: Record<string, unknown>, key: string, field: string, max = Number.MAX_SAFE_INTEGER): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) fail(file, field, 'must be an integer');
    return v;
  };
  const obj = (o: Record<string, unknown>, key: string, field: string): Record<string, unknown> => {
    const v = o[key];
    if (!isObject(v)) fail(file, field, 'must be an object');
    return v;
  };
  if (input['version'] !== 1) fail(file, 'version', 'must be 1');
  const chain = obj(input, 'chain', 'chain');
  if (typeof chain['external'] !== 'boolean') fail(file, 'chain.external', 'must be true or false');
  const state: DevnetState = {
    version: 1,
    createdAt: str(input, 'createdAt', 'createdAt'),
    chain: {
      external: chain['external'],
      rpcUrl: str(chain, 'rpcUrl', 'chain.rpcUrl', /^https?:\/\//),
      port: int(chain, 'port', 'chain.port', 65535),
      stateFile: str(chain, 'stateFile', 'chain.stateFile'),
      accounts: int(chain, 'accounts', 'chain.accounts', 1000),
      chainId: int(chain, 'chainId', 'chain.chainId'),
      deployer: int(chain, 'deployer', 'chain.deployer', 1000),
      registry: str(chain, 'registry', 'chain.registry', /^(0x[0-9a-fA-F]{40})?$/),
    },
    nodes: [],
  };
  if (!state.chain.external && (state.chain.port === 0 || state.chain.stateFile === '')) fail(file, 'chain', 'needs a port and a stateFile when devnet runs anvil');
  const nodes = input['nodes'];
  if (!Array.isArray(nodes) || nodes.length === 0) fail(file, 'nodes', 'must be a non-empty list');
  nodes.forEach((n: unknown, i) => {
    const f = `nodes[${i}]`;
    if (!isObject(n)) fail(file, f, 'must be an object');
    const ports = obj(n, 'ports', `${f}.ports`);
    const ledger = obj(n, 'ledger', `${f}.ledger`);
    const registry = obj(n, 'registry', `${f}.registry`);
    const node: DevnetNodeState = {
      node: int(n, 'node', `${f}.node`),
      dataDir: str(n, 'dataDir', `${f}.dataDir`, /^[^/\\]+$/),
      address: str(n, 'address', `${f}.address`, /^[^@\s]+@[^@\s]+$/),
      password: str(n, 'password', `${f}.password`, /^\S{8,}$/),
      ports: {
        smtp: int(ports, 'smtp', `${f}.ports.smtp`, 65535),
        smtps: int(ports, 'smtps', `${f}.ports.smtps`, 65535),
        imap: int(ports, 'imap', `${f}.ports.imap`, 65535),
        imaps: int(ports, 'imaps', `${f}.ports.imaps`, 65535),
      },
      p2pPort: int(n, 'p2pPort', `${f}.p2pPort`, 65535),
      ledger: {
        account: int(ledger, 'account', `${f}.ledger.account`, 1000),
        address: str(ledger, 'address', `${f}.ledger.address`, ETH_ADDRESS),
        contract: str(ledger, 'contract', `${f}.ledger.contract`, /^(0x[0-9a-fA-F]{40})?$/),
      },
      registry: {
        account: int(registry, 'account', `${f}.registry.account`, 1000),
        address: str(registry, 'address', `${f}.registry.address`, ETH_ADDRESS),
      },
    };
    if (node.node !== i + 1) fail(file, `${f}.node`, `must be ${i + 1}`);
    if (node.ledger.account === node.registry.account) fail(file, `${f}.registry.account`, 'must differ from the ledger account');
    state.nodes.push(node);
  });
  return state;
}

/**
 * Reads DIR/devnet.json; null when there is none (a first run).
 * @throws DevnetError DEVNET_STATE when it exists but is not valid
 */
export async function readDevnetState(dir: string): Promise<DevnetState | null> {
  const file = path.join(dir, STATE_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DevnetError('DEVNET_STATE', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DevnetError('DEVNET_STATE', `${file} is not valid JSON (${(error as Error).message})`);
  }
  return validateDevnetState(parsed, file);
}

/** Writes DIR/devnet.json atomically, mode 0600. */
export async function writeDevnetState(dir: string, state: DevnetState): Promise<void> {
  await writeFileAtomic(path.join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}
