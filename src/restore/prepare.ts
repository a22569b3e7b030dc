// The first half of `sealpost restore`: a data directory for the restored
// node, made from a key backup (backup/format.ts). The node gets its old
// identity back (node-key.pem, node-x25519.pem), so its address claims in the
// registry, its replicas and custodians still know it; the settings that find
// the registry and the storage peers; and the chain keys, written 0600 beside
// the config. A directory restored before (an interrupted run) is taken as it
// is, if it belongs to the same account.
import fs from 'node:fs/promises';
import path from 'node:path';
import { initDataDir } from '../app.ts';
import { saveConfig, type SealpostConfig } from '../config/config.ts';
import type { DataPaths } from '../config/paths.ts';
import type { BackupContents } from '../backup/format.ts';
import { SealpostError } from '../errors/index.ts';
import { identityFiles } from '../network/identity.ts';

export type RestoreErrorCode =
  /** the directory holds another node (different identity) */
  | 'RESTORE_OTHER_NODE'
  /** the backup is of a node outside a network: nothing replicated its mail */
  | 'RESTORE_NO_REPLICAS'
  /** no replica has a snapshot of the account */
  | 'RESTORE_NO_SNAPSHOT'
  /** a re-run needs the password the first run set */
  | 'RESTORE_PASSWORD_NEEDED';

export class RestoreError extends SealpostError {
  declare readonly code: RestoreErrorCode;
  constructor(code: RestoreErrorCode, message: string) {
    super(code, message);
    this.name = 'RestoreError';
  }
}

async function writeSecret(file: string, text: string): Promise<void> {
  await fs.writeFile(file, text, { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

/** Writes the file unless it already holds exactly this; a different one means another node lives here. */
async function writeIdentityFile(file: string, pem: string): Promise<void> {
  try {
    const existing = await fs.readFile(file, 'utf8');
    if (existing.trim() === pem.trim()) return;
    throw new RestoreError('RESTORE_OTHER_NODE', `${file} holds another node's key: restore into a new, empty directory`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeSecret(file, pem);
}

/** The restored node's config: defaults (ports, limits) with the backup's ledger, network and storage settings. */
async function applyBackup(paths: DataPaths, config: SealpostConfig, contents: BackupContents): Promise<SealpostConfig> {
  const next: SealpostConfig = structuredClone(config);
  next.ledger.backend = contents.ledger.backend;
  if (contents.ledger.evm !== undefined) {
    next.ledger.evm.rpcUrl = contents.ledger.evm.rpcUrl;
    // The old contract's batch numbering belongs to the old ledger log: the
    // restored node anchors into a contract of its own (restore.ts deploys it).
    next.ledger.evm.contract = '';
    if (contents.ledger.evm.privateKeyHex !== undefined) {
      const file = path.join(paths.dir, 'ledger-key.hex');
      await writeSecret(file, `${contents.ledger.evm.privateKeyHex}\n`);
      next.ledger.evm.privateKeyFile = file;
    }
  }
  next.network.enabled = contents.network.enabled;
  const registry = contents.network.registry as Partial<SealpostConfig['network']['registry']>;
  if (registry.backend === 'local' || registry.backend === 'evm') next.network.registry.backend = registry.backend;
  if (typeof registry.path === 'string') next.network.registry.path = registry.path;
  if (registry.evm !== undefined) {
    next.network.registry.evm.rpcUrl = registry.evm.rpcUrl;
    next.network.registry.evm.contract = registry.evm.contract;
  }
  if (contents.network.registryPrivateKeyHex !== undefined) {
    const file = path.join(paths.dir, 'registry-key.hex');
    await writeSecret(file, `${contents.network.registryPrivateKeyHex}\n`);
    next.network.registry.evm.privateKeyFile = file;
  }
  const custody = contents.network.custody as Partial<SealpostConfig['network']['custody']> | undefined;
  if (custody !== undefined && typeof custody.n === 'number' && typeof custody.t === 'number') next.network.custody = { n: custody.n, t: custody.t };
  next.storage.peers = [...contents.storage.peers];
  return next;
}

/**
 * Initialises `dataDir` for the restore of `contents`.
 * @throws RestoreError RESTORE_OTHER_NODE when it holds another node
 */
export async function prepareRestoreDir(dataDir: string, contents: BackupContents): Promise<{ paths: DataPaths; config: SealpostConfig; fresh: boolean }> {
  const init = await initDataDir(dataDir);
  if (contents.node !== null) {
    const files = identityFiles(init.paths.dir);
    await writeIdentityFile(files.nodeKeyFile, contents.node.nodeKeyPem);
    await writeIdentityFile(files.x25519KeyFile, contents.node.x25519Pem);
  }
  if (!init.created) return { paths: init.paths, config: init.config, fresh: false };
  const config = await applyBackup(init.paths, init.config, contents);
  await saveConfig(init.paths.config, config);
  return { paths: init.paths, config, fresh: true };
}
