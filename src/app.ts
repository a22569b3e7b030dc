// The one place that builds and wires Sealpost: the data directory (config,
// TLS material, SQLite store), the account service and key ring, the secure
// pipeline's parts (Helia storage, ledger, key directory, smarthost), and the
// gateway's four listeners (SMTP submission STARTTLS + implicit TLS, IMAP
// STARTTLS + implicit TLS; RFC 8314 ports mapped to 1587/1465/1143/1993).
import fs from 'node:fs/promises';
import type net from 'node:net';
import type { Logger } from 'pino';
import { KeyRing } from './accounts/keyring.ts';
import { AccountService } from './accounts/service.ts';
import type { Authenticator } from './accounts/types.ts';
import { defaultConfig, loadConfig, saveConfig, type PortsConfig, type SealpostConfig } from './config/config.ts';
import { dataPaths, type DataPaths } from './config/paths.ts';
import { createPgpPool } from './crypto/pgp-pool.ts';
import { importRoutes } from './control/import-routes.ts';
import { startControlServer, type ControlHandler } from './control/server.ts';
import { createImporter } from './pipeline/import.ts';
import { startFollows } from './pipeline/follow.ts';
import { startHistory, type History } from './history-node.ts';
import { historyRoutes } from './control/history-routes.ts';
import { startExpiryClock, withAppendExpiry } from './pipeline/expiry.ts';
import { generateTlsCertificate, readTlsMaterial, writeTlsMaterial, type TlsMaterial } from './crypto/tls.ts';
import { NotAllowedError, NotFoundError, SealpostError } from './errors/index.ts';
import { createImapServer, type ImapServer } from './imap/server.ts';
import { createLogger } from './log.ts';
import { openKeyDirectory, type KeyDirectory } from './keys/directory.ts';
import { openLocalLedger } from './ledger/local.ts';
import type { Ledger, Proof } from './ledger/types.ts';
import type { Network } from './network/types.ts';
import { openPeerState } from './pipeline/peer-state.ts';
import { joinNetwork, openPeerNetwork, revokeSent, type PeerNetwork, type RevokeOutcome } from './peer-node.ts';
import { startPeers, type Peers } from './pipeline/peers.ts';
import { createExpiryKeys, type ExpiryKeys } from './pipeline/expiry-keys.ts';
import { createBodyCipher } from './mailstore/body-cipher.ts';
import { openSqliteMailStore } from './mailstore/sqlite/index.ts';
import type { MailStore } from './mailstore/types.ts';
import { createInboundPipeline } from './pipeline/inbound.ts';
import { createOutboundPipeline } from './pipeline/outbound.ts';
import type { Smarthost } from './relay/types.ts';
import { createSubmissionServer, isLoopback } from './smtp/server.ts';
import { openHeliaStorage } from './storage/helia.ts';
import type { BlockStorage } from './storage/types.ts';

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
  /** private keys and body-cache keys of accounts unlocked by a login */
  keyring: KeyRing;
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
  // The body cache is sealed with per-account keys that only a login unlocks
  // (accounts/keyring.ts); the cipher asks the key ring, built right after.
  let keyring: KeyRing | undefined;
  const cipher = createBodyCipher({ cacheKey: (id) => keyring?.cacheKey(id) ?? null });
  const store = options.store ?? (await openSqliteMailStore({ path: paths.database, cipher }));
  keyring = new KeyRing({ store, logger });
  const accounts = new AccountService({ store, logger, limits: config.limits.auth, keyring });
  return {
    paths,
    config,
    store,
    accounts,
    keyring,
    logger,
    close: async () => {
      if (options.store === undefined) await store.close();
    },
  };
}

/**
 * Opens the configured ledger backend. The EVM adapter (viem, ~40 MB) is
 * loaded only when configured.
 * @throws ValidationError for bad ledger.evm settings
 */
export async function openLedger(paths: DataPaths, config: SealpostConfig, logger: Logger, passive = false): Promise<Ledger> {
  const { batchSize, batchIntervalMs } = config.ledger;
  if (config.ledger.backend === 'local') {
    return openLocalLedger({ path: paths.ledgerDb, nodeKeyFile: paths.nodeKey, batchSize, batchIntervalMs, logger, passive });
  }
  const evm = config.ledger.evm;
  if (evm.contract === '') throw new NotFoundError('contract', 'ledger.backend is "evm" but no contract is deployed: run sealpost ledger deploy');
  const { openEvmLedger } = await import('./ledger/evm/ledger.ts');
  const { readPrivateKeyFile } = await import('./ledger/evm/private-key.ts');
  const privateKey = await readPrivateKeyFile(evm.privateKeyFile);
  return openEvmLedger({ path: paths.ledgerDb, rpcUrl: evm.rpcUrl, contract: evm.contract, privateKey, batchSize, batchIntervalMs, logger, passive });
}

/** Opens the embedded IPFS store with the configured peers, or on the peer network's libp2p node. */
export function openStorage(paths: DataPaths, config: SealpostConfig, logger: Logger, libp2p?: Network['libp2p']): Promise<BlockStorage> {
  return openHeliaStorage({
    dir: paths.ipfsDir,
    peers: config.storage.peers,
    ...(config.storage.listen.length > 0 ? { listen: config.storage.listen } : {}),
    ...(libp2p === undefined ? {} : { libp2p }),
    maxObjectSize: config.storage.maxObjectSize,
    logger,
  });
}

/** What `sealpost verify` reads: the ledger (passive), storage and the mail store. */
export interface ProofParts {
  ledger: Ledger;
  storage: BlockStorage;
  store: MailStore;
  /** proofs of mail from other nodes (network.enabled) */
  remoteProofs?: { proof(cid: string): { origin: string; proof: Proof } | null };
  close(): Promise<void>;
}

export async function openProofParts(options: { dataDir: string; logger?: Logger }): Promise<ProofParts> {
  const node = await openNode(options);
  const closers: Array<() => Promise<void>> = [() => node.close()];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const storage = await openStorage(node.paths, node.config, node.logger);
    closers.push(() => storage.close());
    const ledger = await openLedger(node.paths, node.config, node.logger, true);
    closers.push(() => ledger.close());
    // Proofs of mail from other nodes, kept when it was delivered.
    let remoteProofs: ProofParts['remoteProofs'];
    if (node.config.network.enabled) {
      const state = openPeerState(node.paths.networkDb);
      closers.push(async () => state.close());
      remoteProofs = { proof: (cid) => state.proof(cid) };
    }
    return { ledger, storage, store: node.store, close, ...(remoteProofs === undefined ? {} : { remoteProofs }) };
  } catch (error) {
    await close();
    throw error;
  }
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
  /** worker threads that sign+encrypt submissions (default: CPUs − 1, at least 1); 0 does it on the main thread */
  pgpWorkers?: number;
  /** the clock that expiries are judged by: submission, delivery, the expiry clock and custody (tests) */
  now?: () => number;
}

export interface Gateway {
  dataDir: string;
  storage: BlockStorage;
  ledger: Ledger;
  directory: KeyDirectory;
  listen: string;
  /** the ports actually bound */
  ports: PortsConfig;
  /** SHA-256 fingerprint of the TLS certificate */
  tlsFingerprint: string;
  node: SealpostNode;
  /** snapshots and replication (history-node.ts) */
  history: History;
  /** stops listening, ends open sessions, closes the store */
  close(): Promise<void>;
}

/** How long a login waits for queued mail to be decrypted into INBOX. */
const LOGIN_DRAIN_MS = 15_000;

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

/** `sealpost revoke`: peer-node.ts revokeSent on this data directory. */
export async function revokeExpiring(options: { dataDir: string; messageId: string; logger?: Logger; waitMs?: number }): Promise<RevokeOutcome> {
  const node = await openNode({ dataDir: options.dataDir, ...(options.logger ? { logger: options.logger } : {}) });
  try {
    return await revokeSent(node, { messageId: options.messageId, ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }) });
  } finally {
    await node.close();
  }
}

/**
 * Starts the gateway on an initialised data directory.
 * @throws NotFoundError (not initialised), NotAllowedError (non-loopback address from config), ListenError
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const node = await openNode({ dataDir: options.dataDir, ...(options.logger ? { logger: options.logger } : {}), ...(options.store ? { store: options.store } : {}) });
  const { config, logger } = node;
  const opened: Listener[] = [];
  /** pipeline parts to close after the listeners, in reverse order */
  const parts: Array<() => Promise<void>> = [];
  const closeParts = async (): Promise<void> => {
    for (const close of parts.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: error }, 'error while closing');
      }
    }
  };
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

    // Sign+encrypt runs off the main thread, which serves SMTP, IMAP and storage;
    // closed last (after the pipelines), so that running submissions finish.
    const pgpPool = options.pgpWorkers === 0 ? null : createPgpPool(options.pgpWorkers === undefined ? {} : { size: options.pgpWorkers });
    if (pgpPool !== null) parts.push(() => pgpPool.close());

    const clock = options.now === undefined ? {} : { now: options.now };
    // The control socket first: it is the data directory's lock (a second gateway
    // or an offline import refuses), and where `sealpost import` hands in work.
    const routes: Record<string, ControlHandler> = { '/v1/ping': async () => ({ ok: true, kind: 'gateway' }) };
    const control = await startControlServer({ path: node.paths.controlSocket, dir: node.paths.dir, routes, logger });
    parts.push(() => control.close());

    // The peer network first (its libp2p node carries storage's bitswap), closed last.
    let peerNetwork: PeerNetwork | null = null;
    if (config.network.enabled) {
      const opened = await openPeerNetwork(node.paths, config, logger);
      peerNetwork = opened;
      parts.push(async () => {
        await opened.network.stop();
        await opened.registry.close();
      });
    }

    // The secure pipeline: storage, ledger, key directory, smarthost.
    const storage = await openStorage(node.paths, config, logger, peerNetwork?.network.libp2p);
    parts.push(() => storage.close());
    const ledger = await openLedger(node.paths, config, logger);
    parts.push(() => ledger.close());
    const directory = openKeyDirectory({ path: node.paths.keysDb, store: node.store });
    parts.push(async () => directory.close());
    let relay: Smarthost | null = null;
    if (config.relay.host !== '') {
      const { createSmarthost } = await import('./relay/smarthost.ts');
      const smarthost = createSmarthost(config.relay, { logger });
      relay = smarthost;
      parts.push(() => smarthost.close());
    }
    // Inbound and the peer network need each other: inbound asks peers for other
    // nodes' proofs; peers hand inbound the mail they queue.
    let peers: (Peers & { join(): Promise<void> }) | null = null;
    const remote = {
      proof: (origin: string, seq: number) => peers?.proof(origin, seq) ?? Promise.resolve(null),
      verifyProof: (proof: Parameters<Peers['verifyProof']>[0], origin: string) => {
        if (peers === null) throw new NotFoundError('peer network');
        return peers.verifyProof(proof, origin);
      },
      connect: (origin: string) => peers?.connect(origin) ?? Promise.resolve(),
      senderKey: (address: string) => peers?.senderKey(address) ?? Promise.resolve(null),
      ticket: (cid: string) => peers?.ticket(cid) ?? null,
    };
    // Custody of expiring messages' keys: this node holds shares for others, and
    // seals and reads its own expiring mail through custodians.
    let expiryKeys: ExpiryKeys | undefined;
    let custodyContext: (PeerNetwork & { network: Network }) | null = null;
    if (peerNetwork !== null) {
      const { openCustodyVault } = await import('./custody/vault.ts');
      const { startCustodyService } = await import('./custody/service.ts');
      const { withSelfRequests } = await import('./network/self.ts');
      // A reader's node may be one of the custodians: it asks itself in process.
      const custodyNetwork = withSelfRequests(peerNetwork.network);
      const vault = openCustodyVault({ path: node.paths.custodyDb });
      const service = await startCustodyService({ ...peerNetwork, network: custodyNetwork, vault, logger, expiryIntervalMs: 1000, ...clock }).catch((error: unknown) => {
        vault.close();
        throw error;
      });
      parts.push(async () => {
        await service.stop();
        vault.close();
      });
      custodyContext = { ...peerNetwork, network: custodyNetwork, ...clock };
      expiryKeys = createExpiryKeys({ custody: custodyContext, policy: config.network.custody });
    }
    const inbound = createInboundPipeline({
      store: node.store, keyring: node.keyring, directory, storage, ledger, autocrypt: config.keys.autocrypt, logger, remote, ...clock,
      ...(expiryKeys === undefined ? {} : { expiryKeys }),
    });
    parts.push(() => inbound.close());
    let peerState: ReturnType<typeof openPeerState> | null = null;
    if (peerNetwork !== null) {
      const state = openPeerState(node.paths.networkDb);
      peerState = state;
      parts.push(async () => state.close());
      const started = await startPeers({
        ...peerNetwork, storage, ledger, store: node.store, state, logger, scanIntervalMs: config.network.scanIntervalMs,
        onQueued: (accounts) => void inbound.drain(accounts).catch((error: unknown) => logger.error({ err: error }, 'BUG: delivering mail from another node failed')),
        onScanned: () => void inbound.drainAll().catch((error: unknown) => logger.error({ err: error }, 'BUG: delivering queued mail failed')),
        revoke: async (ticket) => {
          const { revoke } = await import('./custody/client.ts');
          const { decodeTicket } = await import('./custody/wire.ts');
          if (custodyContext === null) throw new NotFoundError('custody');
          const r = await revoke(custodyContext, decodeTicket(ticket));
          return JSON.stringify({ deleted: r.deleted.length, alreadyGone: r.alreadyGone.length, failures: r.failures });
        },
      });
      peers = started;
      parts.push(() => started.close());
      joinNetwork(started, logger);
    }
    const submitter = createOutboundPipeline({
      store: node.store, keyring: node.keyring, directory, storage, ledger, relay, policy: config.relay.policy, logger, ...clock,
      ...(pgpPool === null ? {} : { encrypt: pgpPool.encrypt }),
      ...(peers === null ? {} : { peers }),
      ...(expiryKeys === undefined ? {} : { expiryKeys }),
      onQueued: (accounts) => {
        inbound.drain(accounts.map((a) => a.id)).catch((error: unknown) => logger.error({ err: error }, 'BUG: delivering queued mail failed'));
      },
    });
    // A login unlocks the account's key (AccountService → KeyRing); mail
    // queued while it was locked is decrypted into INBOX before the login
    // answers, so the client's first SELECT sees it (bounded: a slow chain
    // must not hold logins).
    const auth: Authenticator = {
      async authenticate(username, password, remoteAddress) {
        const account = await node.accounts.authenticate(username, password, remoteAddress);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          inbound.drain([account.id], { flush: true }),
          new Promise<void>((resolve) => { timer = setTimeout(resolve, LOGIN_DRAIN_MS); }),
        ]).finally(() => clearTimeout(timer));
        return account;
      },
    };
    inbound.drainAll().catch((error: unknown) => logger.error({ err: error }, 'BUG: delivering queued mail at start failed'));
    // Sender-defined expiry: expiring messages leave every mailbox at their instant.
    const expiryClock = startExpiryClock({ store: node.store, logger, ...clock });
    parts.push(() => expiryClock.close());
    const imapStore = withAppendExpiry(node.store);
    const importer = createImporter({
      store: node.store, keyring: node.keyring, storage, ledger, logger, ...clock,
      ...(pgpPool === null ? {} : { encrypt: pgpPool.encrypt, encryptMany: pgpPool.encryptMany }),
    });
    const follows = startFollows({ path: node.paths.followsDb, store: node.store, keyring: node.keyring, importer, logger });
    parts.push(() => follows.close());
    Object.assign(routes, importRoutes({ store: node.store, accounts: node.accounts, importer, follows, kind: 'gateway' }));
    // Keeping mail restorable: APPENDs sealed, mailbox snapshots, replicas (history-node.ts).
    const history = await startHistory({
      paths: node.paths, config, store: node.store, keyring: node.keyring, storage, ledger, logger, peer: peerNetwork, ...clock,
      ...(pgpPool === null ? {} : { encrypt: pgpPool.encrypt }),
      ...(peers === null ? {} : { ticket: (cid: string) => peers?.ticket(cid) ?? null }),
      ...(peerState === null ? {} : { scanCursor: () => peerState?.cursor() ?? null }),
    });
    parts.push(() => history.close());
    Object.assign(routes, historyRoutes({ store: node.store, history }));

    const smtpListener = (implicitTls: boolean): Listener => {
      const server = createSubmissionServer({
        submitter, auth, logger, tls: pem, implicitTls,
        maxMessageSize: limits.maxMessageSize, maxClients: limits.smtp.maxClients, socketTimeoutMs: limits.smtp.socketTimeoutMs,
      });
      return {
        listen: (port, h) => listenOn(server.server, port, h),
        close: () => new Promise((resolve) => server.close(() => resolve())),
      };
    };
    const imapListener = (implicitTls: boolean): Listener => {
      const server: ImapServer = createImapServer({
        store: imapStore, auth, logger, tls: pem, implicitTls,
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
      storage,
      ledger,
      directory,
      listen: host,
      ports: bound,
      tlsFingerprint: tls.fingerprint256,
      node,
      history,
      close: () => {
        closing ??= (async () => {
          await Promise.all(opened.map((l) => l.close()));
          await closeParts();
          await node.close();
          logger.info('gateway stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.all(opened.map((l) => l.close()));
    await closeParts();
    await node.close();
    throw error;
  }
}
