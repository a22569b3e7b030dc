// The one place that builds and wires Sealpost: the data directory (config,
// TLS material, SQLite store), the account service, and the gateway's four
// listeners (SMTP submission STARTTLS + implicit TLS, IMAP STARTTLS +
// implicit TLS; RFC 8314 ports mapped to 1587/1465/1143/1993 by default).
import fs from 'node:fs/promises';
import type net from 'node:net';
import type { Logger } from 'pino';
import { AccountService } from './accounts/service.ts';
import { defaultConfig, loadConfig, saveConfig, type PortsConfig, type SealpostConfig } from './config/config.ts';
import { dataPaths, type DataPaths } from './config/paths.ts';
import { generateTlsCertificate, readTlsMaterial, writeTlsMaterial, type TlsMaterial } from './crypto/tls.ts';
import { NotAllowedError, NotFoundError, SealpostError } from './errors/index.ts';
import { createImapServer, type ImapServer } from './imap/server.ts';
import { createLogger } from './log.ts';
import { openSqliteMailStore } from './mailstore/sqlite/index.ts';
import type { MailStore } from './mailstore/types.ts';
import { createSubmissionServer, isLoopback } from './smtp/server.ts';

/** A listener could not be opened (port in use, address not available). */
export class ListenError extends SealpostError {
  readonly port: number;
  constructor(port: number, message: string, cause: unknown) {
    super('LISTEN_FAILED', message, { cause });
    this.name = 'ListenError';
    this.port = port;
  }
}

export interface InitResult {
  paths: DataPaths;
  config: SealpostConfig;
  tls: TlsMaterial;
  /** false when the directory already held a config (then nothing was overwritten) */
  created: boolean;
}

/**
 * Creates the data directory (0700), config.json (0600) and the TLS
 * certificate when they are missing. Existing files are kept.
 */
export async function initDataDir(dataDir: string): Promise<InitResult> {
  const paths = dataPaths(dataDir);
  await fs.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await fs.chmod(paths.dir, 0o700);
  let created = false;
  let config: SealpostConfig;
  try {
    config = await loadConfig(paths.config);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    config = defaultConfig();
    await saveConfig(paths.config, config);
    created = true;
  }
  let tls: TlsMaterial;
  try {
    tls = await readTlsMaterial(paths.tlsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    tls = await generateTlsCertificate();
    await writeTlsMaterial(paths.tlsDir, tls);
  }
  return { paths, config, tls, created };
}

/** An opened data directory: what the CLI's account and status commands use. */
export interface SealpostNode {
  paths: DataPaths;
  config: SealpostConfig;
  store: MailStore;
  accounts: AccountService;
  logger: Logger;
  close(): Promise<void>;
}

/**
 * Opens an initialised data directory.
 * @throws NotFoundError when it holds no config.json (not initialised)
 * @throws ValidationError when config.json is invalid
 */
export async function openNode(options: { dataDir: string; logger?: Logger; store?: MailStore }): Promise<SealpostNode> {
  const paths = dataPaths(options.dataDir);
  const config = await loadConfig(paths.config);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const store = options.store ?? (await openSqliteMailStore({ path: paths.database }));
  const accounts = new AccountService({ store, logger, limits: config.limits.auth });
  return {
    paths,
    config,
    store,
    accounts,
    logger,
    close: async () => {
      if (options.store === undefined) await store.close();
    },
  };
}

export interface GatewayOptions {
  dataDir: string;
  /** bind address; when given explicitly a non-loopback address is allowed (with a warning) */
  listen?: string;
  /** per-port overrides; 0 picks a free port */
  ports?: Partial<PortsConfig>;
  logger?: Logger;
  /** an already open store (tests); the gateway then does not close it */
  store?: MailStore;
}

export interface Gateway {
  dataDir: string;
  listen: string;
  /** the ports actually bound */
  ports: PortsConfig;
  /** SHA-256 fingerprint of the TLS certificate */
  tlsFingerprint: string;
  node: SealpostNode;
  /** stops listening, ends open sessions, closes the store */
  close(): Promise<void>;
}

interface Listener {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const why = error.code === 'EADDRINUSE' ? 'is already in use' : error.code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : `failed (${error.code ?? error.message})`;
      reject(new ListenError(port, `cannot listen on ${host}:${port}: ${error.code === 'EADDRNOTAVAIL' ? host : 'port'} ${why}`, error));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/**
 * Starts the gateway on an initialised data directory.
 * @throws NotFoundError (not initialised), NotAllowedError (non-loopback address from config), ListenError
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const node = await openNode({ dataDir: options.dataDir, ...(options.logger ? { logger: options.logger } : {}), ...(options.store ? { store: options.store } : {}) });
  const { config, logger } = node;
  const opened: Listener[] = [];
  try {
    const host = options.listen ?? config.listen;
    if (!isLoopback(host) && host !== 'localhost') {
      if (options.listen === undefined) {
        throw new NotAllowedError(`config.json says listen on ${host}, which is not loopback; pass --listen ${host} to confirm`);
      }
      logger.warn({ listen: host }, 'listening beyond loopback: other machines can reach this gateway');
    }
    let tls: TlsMaterial;
    try {
      tls = await readTlsMaterial(node.paths.tlsDir);
    } catch {
      throw new NotFoundError('TLS certificate', `no TLS certificate in ${node.paths.tlsDir} (run sealpost init)`);
    }
    const ports: PortsConfig = { ...config.ports, ...options.ports };
    const pem = { key: tls.key, cert: tls.cert };
    const limits = config.limits;

    const smtpListener = (implicitTls: boolean): Listener => {
      const server = createSubmissionServer({
        store: node.store, auth: node.accounts, logger, tls: pem, implicitTls,
        maxMessageSize: limits.maxMessageSize, maxClients: limits.smtp.maxClients, socketTimeoutMs: limits.smtp.socketTimeoutMs,
      });
      return {
        listen: (port, h) => listenOn(server.server, port, h),
        close: () => new Promise((resolve) => server.close(() => resolve())),
      };
    };
    const imapListener = (implicitTls: boolean): Listener => {
      const server: ImapServer = createImapServer({
        store: node.store, auth: node.accounts, logger, tls: pem, implicitTls,
        limits: { ...limits.imap, maxLiteralSize: Math.min(limits.imap.maxLiteralSize, limits.maxMessageSize) },
      });
      return { listen: (port, h) => listenOn(server, port, h), close: () => server.shutdown() };
    };

    const bound: PortsConfig = { smtp: 0, smtps: 0, imap: 0, imaps: 0 };
    const plan: Array<[keyof PortsConfig, Listener]> = [
      ['smtp', smtpListener(false)],
      ['smtps', smtpListener(true)],
      ['imap', imapListener(false)],
      ['imaps', imapListener(true)],
    ];
    for (const [name, listener] of plan) {
      bound[name] = await listener.listen(ports[name], host);
      opened.push(listener);
    }
    logger.info({ listen: host, ports: bound }, 'gateway listening');

    let closing: Promise<void> | undefined;
    return {
      dataDir: node.paths.dir,
      listen: host,
      ports: bound,
      tlsFingerprint: tls.fingerprint256,
      node,
      close: () => {
        closing ??= (async () => {
          await Promise.all(opened.map((l) => l.close()));
          await node.close();
          logger.info('gateway stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.all(opened.map((l) => l.close()));
    await node.close();
    throw error;
  }
}
