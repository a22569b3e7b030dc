// Test helper: a real Sealpost gateway in this process on OS-picked loopback
// ports, with accounts created, shaped like startDovecot's result so the same
// peer-driven scenarios (mbsyncScenario, raw IMAP tests) run against either:
//   const server = await startSealpost({ users: [{ user, password }] });
//   await mbsyncScenario(t, { host: server.host, port: server.ports.imap, user, pass: password, tls: 'none' });
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initDataDir, openNode, startGateway } from '../../src/app.ts';
import type { PortsConfig } from '../../src/config/config.ts';
import { silentLogger } from '../../src/log.ts';

export interface SealpostServer {
  host: '127.0.0.1';
  /** the bound ports: imap is STARTTLS (plaintext LOGIN allowed on loopback), imaps implicit TLS */
  ports: PortsConfig;
  dir: string;
  /** the gateway's self-signed certificate (PEM), to trust in clients */
  caFile: string;
  stop(): Promise<void>;
}

/** Initialises a temp data dir with the given accounts and starts the gateway on it. */
export async function startSealpost(options: { users: ReadonlyArray<{ user: string; password: string }> }): Promise<SealpostServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-test-'));
  try {
    const init = await initDataDir(dir);
    const node = await openNode({ dataDir: dir, logger: silentLogger() });
    try {
      for (const { user, password } of options.users) await node.accounts.createAccount({ address: user, password });
    } finally {
      await node.close();
    }
    const gateway = await startGateway({ dataDir: dir, ports: { smtp: 0, smtps: 0, imap: 0, imaps: 0 }, logger: silentLogger() });
    return {
      host: '127.0.0.1',
      ports: gateway.ports,
      dir,
      caFile: init.paths.tlsCert,
      async stop() {
        await gateway.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
