// One devnet node's data directory: initialised like `sealpost init` (config,
// TLS certificate, one account with the password devnet.json holds), its two
// dev-account key files (ledger and registry: separate nonce sequences), and
// the devnet's settings written into config.json on every run, so that a
// moved directory or an older config still points at the right chain,
// contracts, key files and ports.
import fs from 'node:fs/promises';
import path from 'node:path';
import { initDataDir, openNode } from '../app.ts';
import { loadConfig, saveConfig, type SealpostConfig } from '../config/config.ts';
import { silentLogger } from '../log.ts';
import { devAccount } from './dev-keys.ts';
import type { DevnetNodeState, DevnetState } from './state.ts';

export const LEDGER_KEY_FILE = 'ledger-evm.key';
export const REGISTRY_KEY_FILE = 'registry-evm.key';

export interface PreparedNode {
  /** absolute */
  dataDir: string;
  /** SHA-256 fingerprint of the node's self-signed certificate */
  tlsFingerprint: string;
  /** the certificate file (PEM), for clients to trust */
  certFile: string;
  /** true when the account was created by this call */
  created: boolean;
}

/** Custody over the devnet's own nodes: up to 5 custodians, a majority of them needed. */
export function custodyFor(nodes: number): { n: number; t: number } {
  const n = Math.min(nodes, 5);
  return { n, t: Math.floor(n / 2) + 1 };
}

/** Writes devnet's settings into `config` (everything else is left as the user set it). */
export function applyDevnetSettings(config: SealpostConfig, state: DevnetState, node: DevnetNodeState, dataDir: string): void {
  const { rpcUrl } = state.chain;
  config.ports = { ...node.ports };
  config.ledger.backend = 'evm';
  config.ledger.evm = { rpcUrl, contract: node.ledger.contract, privateKeyFile: path.join(dataDir, LEDGER_KEY_FILE) };
  config.network.enabled = true;
  config.network.listen = [`/ip4/127.0.0.1/tcp/${node.p2pPort}`];
  config.network.registry = {
    backend: 'evm',
    path: '',
    evm: { rpcUrl, contract: state.chain.registry, privateKeyFile: path.join(dataDir, REGISTRY_KEY_FILE) },
  };
  config.network.custody = custodyFor(state.nodes.length);
}

/**
 * Creates or updates node `node`'s data directory under `dir`.
 * @throws whatever initDataDir, saveConfig and createAccount throw (ValidationError, I/O errors)
 */
export async function prepareNodeDir(dir: string, state: DevnetState, node: DevnetNodeState): Promise<PreparedNode> {
  const dataDir = path.resolve(dir, node.dataDir);
  const init = await initDataDir(dataDir);
  for (const [file, index] of [[LEDGER_KEY_FILE, node.ledger.account], [REGISTRY_KEY_FILE, node.registry.account]] as const) {
    await fs.writeFile(path.join(dataDir, file), `${devAccount(index).privateKey}\n`, { mode: 0o600 });
    await fs.chmod(path.join(dataDir, file), 0o600);
  }
  const config = await loadConfig(init.paths.config);
  applyDevnetSettings(config, state, node, dataDir);
  await saveConfig(init.paths.config, config);
  const opened = await openNode({ dataDir, logger: silentLogger() });
  let created = false;
  try {
    if ((await opened.store.getAccount(node.address)) === null) {
      await opened.accounts.createAccount({ address: node.address, name: `Devnet node ${node.node}`, password: node.password });
      created = true;
    }
  } finally {
    await opened.close();
  }
  return { dataDir, tlsFingerprint: init.tls.fingerprint256, certFile: init.paths.tlsCert, created };
}
