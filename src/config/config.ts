// The node's configuration: config.json in the data directory (mode 0600).
// Loading validates every field and names the bad one (ValidationError);
// fields left out take their defaults. Saving is atomic (temp file + rename)
// so a crash never leaves a half-written config.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, ValidationError } from '../errors/index.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface PortsConfig {
  /** SMTP submission with STARTTLS (RFC 6409; 587 on a real host) */
  smtp: number;
  /** SMTP submission over implicit TLS (RFC 8314; 465 on a real host) */
  smtps: number;
  /** IMAP with STARTTLS (143 on a real host) */
  imap: number;
  /** IMAP over implicit TLS (993 on a real host) */
  imaps: number;
}

export interface LimitsConfig {
  /** largest message accepted by SMTP (SIZE, RFC 1870) and IMAP APPEND, octets */
  maxMessageSize: number;
  imap: {
    maxLineLength: number;
    maxLiteralSize: number;
    maxConnectionsPerAccount: number;
    maxConnections: number;
    idleTimeoutMs: number;
  };
  smtp: {
    maxClients: number;
    socketTimeoutMs: number;
  };
  auth: {
    /** failures for one user within windowMs before it is throttled */
    maxFailuresPerUser: number;
    /** failures from one remote address within windowMs before it is throttled */
    maxFailuresPerRemote: number;
    windowMs: number;
    /** how long a throttled user/address is refused */
    lockoutMs: number;
    /** fixed delay added to every failed attempt */
    failureDelayMs: number;
  };
}

/** The storage backend (storage/): the embedded Helia node in the data dir. */
export interface StorageConfig {
  /**
   * Multiaddrs of IPFS peers to exchange blocks with over bitswap, loopback
   * only (e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3…). Empty: fully offline.
   * Public bootstrap peers are never dialled.
   */
  peers: string[];
  /**
   * Loopback multiaddrs to listen on so peers can fetch blocks from this node
   * (e.g. /ip4/127.0.0.1/tcp/4001). Empty: listen only when peers are set.
   */
  listen: string[];
  /** largest object `put` accepts, octets (a message's ciphertext) */
  maxObjectSize: number;
}

/** The ledger backend (ledger/): records are batched into Merkle trees whose roots are anchored. */
export interface LedgerConfig {
  /** local: signed checkpoints in ledger.db; evm: roots written to an anchoring contract */
  backend: 'local' | 'evm';
  /** a batch is closed when it holds this many records... */
  batchSize: number;
  /** ...or when its oldest record waited this long (ms) */
  batchIntervalMs: number;
  evm: {
    /** JSON-RPC endpoint of the chain node (e.g. http://127.0.0.1:8545 for anvil) */
    rpcUrl: string;
    /** address of the deployed anchoring contract ("" until `sealpost ledger deploy`) */
    contract: string;
    /** file holding the hex private key of the account that pays for anchoring (mode 0600) */
    privateKeyFile: string;
  };
}

/** The key directory (keys/). */
export interface KeysConfig {
  /** learn senders' public keys from Autocrypt headers of incoming mail (opt-in) */
  autocrypt: boolean;
}

/** Smarthost relay for recipients that are not Sealpost accounts (relay/). */
export interface RelayConfig {
  /** the user's existing provider's submission host; "" = no relay (outside recipients refused) */
  host: string;
  port: number;
  /** tls: implicit TLS (465); starttls: required STARTTLS (587); none: plain (loopback test sinks only) */
  security: 'tls' | 'starttls' | 'none';
  user: string;
  password: string;
  /** verify the provider's certificate (keep true except for test sinks) */
  rejectUnauthorized: boolean;
  /** recipient without a known OpenPGP key: refuse (550 5.7.1) or send in plain text */
  policy: 'refuse' | 'plain';
}

/** The peer network (network/, registry/, custody/): delivery between Sealpost nodes and expiry custody. */
export interface NetworkConfig {
  /** join a network: register this node and its accounts, exchange mail with other nodes, hold custody shares */
  enabled: boolean;
  /** libp2p listen multiaddrs, loopback (e.g. /ip4/127.0.0.1/tcp/4101); tcp/0 picks a free port at each start */
  listen: string[];
  registry: {
    /** local: a SQLite registry file (nodes on one machine share it); evm: the SealpostRegistry contract */
    backend: 'local' | 'evm';
    /** the local registry file; "" = registry.db in the data directory */
    path: string;
    evm: {
      rpcUrl: string;
      /** address of the deployed SealpostRegistry ("" until `sealpost registry deploy`) */
      contract: string;
      /** hex private key of the account that registers this node and posts announcements (not the ledger's: separate nonces) */
      privateKeyFile: string;
    };
  };
  /** expiring messages: the key is split into n shares, any t of which recover it */
  custody: { n: number; t: number };
  /** how often the registry's announcements are scanned for mail to this node (ms) */
  scanIntervalMs: number;
  /** peer nodes that pin each account's ciphertexts and mailbox snapshots (pipeline/replication.ts) */
  replicas: number;
  /** at most one mailbox snapshot per account per this many ms (pipeline/snapshots.ts) */
  snapshotIntervalMs: number;
}

export interface SealpostConfig {
  version: 1;
  /** address the servers bind to; loopback unless the user says otherwise */
  listen: string;
  ports: PortsConfig;
  limits: LimitsConfig;
  logLevel: LogLevel;
  storage: StorageConfig;
  ledger: LedgerConfig;
  keys: KeysConfig;
  relay: RelayConfig;
  network: NetworkConfig;
}

const MiB = 1024 * 1024;

export function defaultConfig(): SealpostConfig {
  return {
    version: 1,
    listen: '127.0.0.1',
    ports: { smtp: 1587, smtps: 1465, imap: 1143, imaps: 1993 },
    limits: {
      maxMessageSize: 25 * MiB,
      imap: {
        maxLineLength: 64 * 1024,
        maxLiteralSize: 25 * MiB,
        maxConnectionsPerAccount: 20,
        maxConnections: 200,
        idleTimeoutMs: 30 * 60 * 1000,
      },
      smtp: { maxClients: 50, socketTimeoutMs: 5 * 60 * 1000 },
      auth: {
        maxFailuresPerUser: 5,
        maxFailuresPerRemote: 10,
        windowMs: 15 * 60 * 1000,
        lockoutMs: 15 * 60 * 1000,
        failureDelayMs: 250,
      },
    },
    logLevel: 'info',
    storage: { peers: [], listen: [], maxObjectSize: 64 * MiB },
    ledger: {
      backend: 'local',
      batchSize: 256,
      batchIntervalMs: 200,
      evm: { rpcUrl: 'http://127.0.0.1:8545', contract: '', privateKeyFile: '' },
    },
    keys: { autocrypt: false },
    relay: { host: '', port: 587, security: 'starttls', user: '', password: '', rejectUnauthorized: true, policy: 'refuse' },
    network: {
      enabled: false,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      registry: { backend: 'local', path: '', evm: { rpcUrl: 'http://127.0.0.1:8545', contract: '', privateKeyFile: '' } },
      custody: { n: 5, t: 3 },
      scanIntervalMs: 1000,
      replicas: 3,
      snapshotIntervalMs: 120_000,
    },
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges `input` over `defaults`, checking each leaf has the default's type.
 * Integers must be non-negative (ports may be 0: "any free port").
 */
function merge<T>(defaults: T, input: unknown, field: string): T {
  if (input === undefined) return defaults;
  if (Array.isArray(defaults)) {
    if (!Array.isArray(input) || !input.every((v) => typeof v === 'string')) throw new ValidationError(field, 'must be a list of strings');
    return input as T;
  }
  if (typeof defaults === 'boolean') {
    if (typeof input !== 'boolean') throw new ValidationError(field, 'must be true or false');
    return input as T;
  }
  if (isObject(defaults)) {
    if (!isObject(input)) throw new ValidationError(field, 'must be an object');
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(defaults)) {
      out[key] = merge(value, input[key], field === '' ? key : `${field}.${key}`);
    }
    for (const key of Object.keys(input)) {
      if (!(key in defaults)) throw new ValidationError(field === '' ? key : `${field}.${key}`, 'unknown setting');
    }
    return out as T;
  }
  if (typeof defaults === 'number') {
    if (typeof input !== 'number' || !Number.isSafeInteger(input) || input < 0) {
      throw new ValidationError(field, 'must be a non-negative integer');
    }
    return input as T;
  }
  if (typeof defaults === 'string') {
    // Settings whose default is "" (relay.host, ledger.evm.contract...) may stay empty.
    if (typeof input !== 'string' || (input === '' && defaults !== '')) throw new ValidationError(field, 'must be a non-empty string');
    return input as T;
  }
  return input as T;
}

/**
 * Validates a parsed config object.
 * @throws ValidationError naming the first bad field
 */
export function validateConfig(input: unknown): SealpostConfig {
  if (!isObject(input)) throw new ValidationError('config', 'must be a JSON object');
  if (input['version'] !== 1) throw new ValidationError('version', 'must be 1');
  const config = merge(defaultConfig(), input, '');
  for (const [name, port] of Object.entries(config.ports)) {
    if (port > 65535) throw new ValidationError(`ports.${name}`, 'must be a port number (0-65535)');
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new ValidationError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const oneOf = (field: string, value: string, allowed: readonly string[]): void => {
    if (!allowed.includes(value)) throw new ValidationError(field, `must be one of ${allowed.join(', ')}`);
  };
  oneOf('ledger.backend', config.ledger.backend, ['local', 'evm']);
  oneOf('relay.security', config.relay.security, ['tls', 'starttls', 'none']);
  oneOf('relay.policy', config.relay.policy, ['refuse', 'plain']);
  if (config.relay.port < 1 || config.relay.port > 65535) throw new ValidationError('relay.port', 'must be a port number (1-65535)');
  if (config.ledger.batchSize < 1) throw new ValidationError('ledger.batchSize', 'must be at least 1');
  if (config.ledger.evm.contract !== '' && !/^0x[0-9a-fA-F]{40}$/.test(config.ledger.evm.contract)) {
    throw new ValidationError('ledger.evm.contract', 'must be a 0x-prefixed 20-byte hex address');
  }
  oneOf('network.registry.backend', config.network.registry.backend, ['local', 'evm']);
  if (config.network.registry.evm.contract !== '' && !/^0x[0-9a-fA-F]{40}$/.test(config.network.registry.evm.contract)) {
    throw new ValidationError('network.registry.evm.contract', 'must be a 0x-prefixed 20-byte hex address');
  }
  const { n, t } = config.network.custody;
  if (t < 1 || n < t || n > 255) throw new ValidationError('network.custody', 'needs 1 <= t <= n <= 255');
  if (config.network.scanIntervalMs < 50) throw new ValidationError('network.scanIntervalMs', 'must be at least 50');
  if (!Number.isInteger(config.network.replicas) || config.network.replicas < 1 || config.network.replicas > 64) throw new ValidationError('network.replicas', 'must be an integer from 1 to 64');
  if (config.network.snapshotIntervalMs < 1000) throw new ValidationError('network.snapshotIntervalMs', 'must be at least 1000');
  if (config.limits.maxMessageSize < 1024) throw new ValidationError('limits.maxMessageSize', 'must be at least 1024');
  return config;
}

/**
 * Reads and validates config.json.
 * @throws NotFoundError when the file does not exist (data dir not initialised)
 * @throws ValidationError when it is not valid JSON or a field is bad
 */
export async function loadConfig(file: string): Promise<SealpostConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('config', `no configuration at ${file}`);
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('config', `${file} is not valid JSON (${(error as Error).message})`);
  }
  return validateConfig(parsed);
}

/** Writes config.json atomically with mode 0600. */
export async function saveConfig(file: string, config: SealpostConfig): Promise<void> {
  validateConfig(config);
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, 0o600);
}

/** Writes to a temp file in the same directory, fsyncs it, then renames over `file`. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}
