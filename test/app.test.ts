// app.ts: the gateway wires SMTP and IMAP listeners on loopback, reports
// the ports bound for port 0, refuses a non-loopback address from the config,
// and closes cleanly.
import test from 'ava';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { initDataDir, startGateway } from '../src/app.ts';
import { saveConfig } from '../src/config/config.ts';
import { silentLogger } from '../src/log.ts';
import { createFakeStore } from './helpers/fake-store.ts';

const ANY = { smtp: 0, smtps: 0, imap: 0, imaps: 0 };

async function tempDataDir(t: { teardown(fn: () => void): void }): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-app-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await initDataDir(dir);
  return dir;
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => undefined);
    socket.once('data', (d: Buffer) => {
      resolve(d.toString('latin1'));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

test('startGateway binds four loopback ports and greets on the plain ones; close frees them', async (t) => {
  const dataDir = await tempDataDir(t);
  const gateway = await startGateway({ dataDir, ports: ANY, logger: silentLogger(), store: createFakeStore() });
  t.is(gateway.listen, '127.0.0.1');
  const ports = Object.values(gateway.ports);
  t.is(new Set(ports).size, 4);
  for (const p of ports) t.true(p > 0);
  t.regex(await greeting(gateway.ports.smtp), /^220 /);
  t.regex(await greeting(gateway.ports.imap), /^\* OK /);
  t.regex(gateway.tlsFingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  await gateway.close();
  await t.throwsAsync(greeting(gateway.ports.smtp), { code: 'ECONNREFUSED' });
});

test('a port in use is a ListenError and nothing stays open', async (t) => {
  const dataDir = await tempDataDir(t);
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const busy = (blocker.address() as net.AddressInfo).port;
  await t.throwsAsync(startGateway({ dataDir, ports: { ...ANY, imap: busy }, logger: silentLogger(), store: createFakeStore() }), { code: 'LISTEN_FAILED', message: /already in use/ });
});

test('a non-loopback listen address from config.json is refused unless given explicitly', async (t) => {
  const dataDir = await tempDataDir(t);
  const config = JSON.parse(fs.readFileSync(path.join(dataDir, 'config.json'), 'utf8'));
  await saveConfig(path.join(dataDir, 'config.json'), { ...config, listen: '0.0.0.0' });
  await t.throwsAsync(startGateway({ dataDir, ports: ANY, logger: silentLogger(), store: createFakeStore() }), { code: 'NOT_ALLOWED' });
});

test('an uninitialised data dir is NOT_FOUND', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-app-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await t.throwsAsync(startGateway({ dataDir: dir, ports: ANY, logger: silentLogger(), store: createFakeStore() }), { code: 'NOT_FOUND' });
});
