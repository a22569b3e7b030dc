// Where Sealpost keeps its data: the data directory and the files in it.
// Resolution order: --data-dir flag, SEALPOST_HOME, $XDG_DATA_HOME/sealpost,
// ~/.local/share/sealpost (XDG Base Directory Specification defaults).
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/**
 * Resolves the data directory to an absolute path.
 * @param flag the --data-dir value, if the user gave one
 * @param env the environment to read (process.env by default; injectable for tests)
 */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return path.resolve(flag);
  const home = env['SEALPOST_HOME'];
  if (home !== undefined && home !== '') return path.resolve(home);
  const xdg = env['XDG_DATA_HOME'];
  // The spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (xdg !== undefined && xdg !== '' && path.isAbsolute(xdg)) return path.join(xdg, 'sealpost');
  return path.join(env['HOME'] ?? os.homedir(), '.local', 'share', 'sealpost');
}

/** The files inside a data directory. */
export interface DataPaths {
  dir: string;
  config: string;
  database: string;
  tlsDir: string;
  tlsKey: string;
  tlsCert: string;
  /** written by `start`: pid and bound ports of the running gateway */
  gatewayState: string;
  log: string;
  /** IPFS blockstore (blocks/) and datastore (datastore/) of the embedded Helia node */
  ipfsDir: string;
  /** the embedded ledger: append-only Merkle log in SQLite (ledger/local.ts, ledger/log.ts) */
  ledgerDb: string;
  /** the key directory: public keys imported or learnt from Autocrypt (keys/directory.ts) */
  keysDb: string;
  /** the node's Ed25519 signing key (PKCS#8 PEM, mode 0600), signs ledger checkpoints */
  nodeKey: string;
  /** the local registry shared by the nodes of one machine unless network.registry.path says otherwise (registry/local.ts) */
  registryDb: string;
  /** key shares this node holds as a custodian, and what it owes to whom (custody/) */
  custodyDb: string;
  /** the peer network's state: announcement scan cursor, messages sent to other nodes (network/) */
  networkDb: string;
  /** old IMAP accounts the gateway keeps following, sealed to each account's key (pipeline/follow.ts) */
  followsDb: string;
  /** what this node holds as a replica for other nodes' accounts (replica/store.ts) */
  replicaDb: string;
  /** the mailbox snapshots this node took of its accounts (snapshot/state.ts) */
  snapshotsDb: string;
  /** the Unix socket where the process that owns the data directory (gateway or offline import) takes work (control/) */
  controlSocket: string;
}

/** Longest socket path we use: sockaddr_un.sun_path is 108 bytes on Linux, 104 on the BSDs. */
const MAX_SOCKET_PATH = 100;

/** DIR/control.sock, or (when that is too long for a socket) a per-directory name in the temp dir. */
export function controlSocketPath(dir: string): string {
  const inside = path.join(dir, 'control.sock');
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH) return inside;
  return path.join(os.tmpdir(), `sealpost-${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.sock`);
}

export function dataPaths(dir: string): DataPaths {
  const tlsDir = path.join(dir, 'tls');
  return {
    dir,
    config: path.join(dir, 'config.json'),
    database: path.join(dir, 'sealpost.db'),
    tlsDir,
    tlsKey: path.join(tlsDir, 'key.pem'),
    tlsCert: path.join(tlsDir, 'cert.pem'),
    gatewayState: path.join(dir, 'gateway.json'),
    log: path.join(dir, 'sealpost.log'),
    ipfsDir: path.join(dir, 'ipfs'),
    ledgerDb: path.join(dir, 'ledger.db'),
    keysDb: path.join(dir, 'keys.db'),
    nodeKey: path.join(dir, 'node-key.pem'),
    registryDb: path.join(dir, 'registry.db'),
    custodyDb: path.join(dir, 'custody.db'),
    networkDb: path.join(dir, 'network.db'),
    snapshotsDb: path.join(dir, 'snapshots.db'),
    replicaDb: path.join(dir, 'replica.db'),
    followsDb: path.join(dir, 'follows.db'),
    controlSocket: controlSocketPath(dir),
  };
}
