// `sealpost backup`: what a restore on a new machine needs, gathered from a
// data directory (backup/format.ts writes it): the account's key pair, the
// key re-protected with the backup passphrase; the node's identity (so the
// restored node is the same node, whose address claims, replicas and
// custodians know it); and the settings that find the ledger, the registry
// and the storage peers, with the chain keys they name.
import fs from 'node:fs/promises';
import { openNode } from '../app.ts';
import { AuthError, NotFoundError } from '../errors/index.ts';
import { silentLogger } from '../log.ts';
import { identityFiles } from '../network/identity.ts';
import { protectKeyForBackup, type BackupContents } from './format.ts';

async function readKeyHex(file: string): Promise<string | undefined> {
  if (file === '') return undefined;
  const text = (await fs.readFile(file, 'utf8')).trim();
  return text.startsWith('0x') ? text : `0x${text}`;
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * The backup of `account` in `dataDir`; `password` is the account's client
 * password (it unlocks the key), `passphrase` protects the backup.
 * @throws NotFoundError (not initialised, no account), AuthError AUTH_FAILED (wrong password)
 */
export async function createBackup(options: { dataDir: string; account: string; password: string; passphrase: string; now?: () => number }): Promise<BackupContents> {
  const node = await openNode({ dataDir: options.dataDir, logger: silentLogger() });
  try {
    const account = await node.store.getAccount(options.account);
    if (account === null) throw new NotFoundError('account', `no account ${options.account} in ${options.dataDir}`);
    const secrets = await node.store.getSecrets(account.id);
    let privateKey: string;
    try {
      privateKey = await protectKeyForBackup(secrets.privateKey, options.password, options.passphrase);
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError('AUTH_FAILED', `the password of ${account.address} is not right (it unlocks the account's key)`);
    }
    const { config, paths } = node;
    const files = identityFiles(paths.dir);
    const nodeKeyPem = await readIfExists(files.nodeKeyFile);
    const x25519Pem = await readIfExists(files.x25519KeyFile);
    const ledger: BackupContents['ledger'] = { backend: config.ledger.backend };
    if (config.ledger.backend === 'evm') {
      const privateKeyHex = await readKeyHex(config.ledger.evm.privateKeyFile);
      ledger.evm = { rpcUrl: config.ledger.evm.rpcUrl, contract: config.ledger.evm.contract, ...(privateKeyHex === undefined ? {} : { privateKeyHex }) };
    }
    const registryKey = config.network.registry.backend === 'evm' ? await readKeyHex(config.network.registry.evm.privateKeyFile) : undefined;
    return {
      version: 1,
      createdAt: (options.now ?? Date.now)(),
      account: { address: account.address, name: account.name, fingerprint: secrets.fingerprint, publicKey: secrets.publicKey, privateKey },
      node: nodeKeyPem !== null && x25519Pem !== null ? { nodeKeyPem, x25519Pem } : null,
      ledger,
      network: {
        enabled: config.network.enabled,
        registry: JSON.parse(JSON.stringify(config.network.registry)) as unknown,
        custody: { ...config.network.custody },
        ...(registryKey === undefined ? {} : { registryPrivateKeyHex: registryKey }),
      },
      storage: { peers: [...config.storage.peers] },
    };
  } finally {
    await node.close();
  }
}
