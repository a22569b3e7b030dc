// Test helper: a real Sealpost gateway in this process on OS-picked loopback
// ports, with accounts created, shaped like startDovecot's result so the same
// peer-driven scenarios (mbsyncScenario, raw IMAP tests) run against either:
//   const server = await startSealpost({ users: [{ user, password }] });
//   await mbsyncScenario(t, { host: server.host, port: server.ports.imap, user, pass: password, tls: 'none' });
// `configure` edits config.json before the start (ledger backend, relay...);
// `restart` stops and starts the gateway on the same data directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initDataDir, openNode, startGateway, type Gateway } from '../../src/app.ts';
import { loadConfig, saveConfig, type PortsConfig, type SealpostConfig } from '../../src/config/config.ts';
import { createLogger, silentLogger } from '../../src/log.ts';

export interface SealpostServer {
  host: '127.0.0.1';
  /** the bound ports: imap is STARTTLS (plaintext LOGIN allowed on loopback), imaps implicit TLS */
  ports: PortsConfig;
  dir: string;
  /** the gateway's self-signed certificate (PEM), to trust in clients */
  caFile: string;
  gateway: Gateway;
  /** stops the gateway (keeping the data dir), applies `configure` if given, starts it again */
  restart(configure?: (config: SealpostConfig) => void): Promise<void>;
  /** stops the gateway and removes the data dir */
  stop(): Promise<void>;
}

export interface StartOptions {
  users: ReadonlyArray<{ user: string; password: string }>;
  configure?: (config: SealpostConfig) => void;
  /** the gateway's clock for expiries (GatewayOptions.now) */
  now?: () => number;
}

/** Initialises a temp data dir with the given accounts and starts the gateway on it. */
export async function startSealpost(options: StartOptions): Promise<SealpostServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-test-'));
  // SEALPOST_TEST_LOG=FILE: the gateways' logs go there (debugging a test), else nowhere.
  const logFile = process.env['SEALPOST_TEST_LOG'];
  const logger = logFile === undefined || logFile === '' ? silentLogger() : createLogger({ file: logFile, level: 'debug' }).child({ dir: path.basename(dir) });
  const start = (): Promise<Gateway> => startGateway({ dataDir: dir, ports: { smtp: 0, smtps: 0, imap: 0, imaps: 0 }, logger, ...(options.now === undefined ? {} : { now: options.now }) });
  const reconfigure = async (configure?: (config: SealpostConfig) => void): Promise<void> => {
    if (configure === undefined) return;
    const file = path.join(dir, 'config.json');
    const config = await loadConfig(file);
    configure(config);
    await saveConfig(file, config);
  };
  try {
    const init = await initDataDir(dir);
    await reconfigure(options.configure);
    const node = await openNode({ dataDir: dir, logger: silentLogger() });
    try {
      for (const { user, password } of options.users) await node.accounts.createAccount({ address: user, password });
    } finally {
      await node.close();
    }
    let gateway = await start();
    const server: SealpostServer = {
      host: '127.0.0.1',
      ports: gateway.ports,
      dir,
      caFile: init.paths.tlsCert,
      gateway,
      async restart(configure) {
        await gateway.close();
        await reconfigure(configure);
        gateway = await start();
        server.gateway = gateway;
        server.ports = gateway.ports;
      },
      async stop() {
        await gateway.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
    return server;
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
