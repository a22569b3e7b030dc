// The restore half of the `migrate` part of `npm run bench`: three gateways
// (compiled CLI, child processes) sharing a local registry, with
// network.replicas = 2; the N-message mailbox is imported from Dovecot into
// the first node through its running gateway; `sealpost backup` takes a
// snapshot and waits while the two replicas pin every ciphertext; the first
// node is stopped and its data directory deleted; `sealpost restore` into a
// new directory is timed from start to exit (target: under 60 s).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DovecotServer } from '../test/helpers/dovecot.ts';
import { makeTempDir, removeTempDir, startGatewayChild, type GatewayChild } from './servers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PASS = 'bench-password';

export interface RestoreResult {
  /** import through the running gateway, whole process */
  importMs: number;
  /** the backup, with the snapshot and its replication */
  backupMs: number;
  restoreMs: number;
  restored: number;
  summary: string;
}

function run(args: readonly string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${args.slice(1, 3).join(' ')} failed (${String(error.code ?? error.signal)}):\n${stdout}\n${stderr.slice(-4000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

export async function runRestore(options: { messages: number; dovecot: DovecotServer; user: string; password: string; out: string; log: (line: string) => void }): Promise<RestoreResult> {
  const { log } = options;
  const { initDataDir, openNode } = await import('../src/app.ts');
  const { loadConfig, saveConfig } = await import('../src/config/config.ts');
  const { silentLogger } = await import('../src/log.ts');
  const compiled = path.join(ROOT, 'dist/cli/main.js');
  const cli = fs.existsSync(compiled) ? compiled : path.join(ROOT, 'src/cli/main.ts');
  const shared = makeTempDir('sealpost-bench-restore-');
  const registryFile = path.join(shared, 'registry.db');
  const names = ['owner', 'replica1', 'replica2'] as const;
  const dirs = Object.fromEntries(names.map((n) => [n, path.join(shared, n)])) as Record<(typeof names)[number], string>;
  const gateways = new Map<string, GatewayChild>();
  try {
    for (const name of names) {
      const { paths } = await initDataDir(dirs[name]);
      const config = await loadConfig(paths.config);
      config.network.enabled = true;
      config.network.registry.path = registryFile;
      config.network.replicas = 2;
      config.network.custody = { n: 2, t: 1 };
      await saveConfig(paths.config, config);
      const node = await openNode({ dataDir: dirs[name], logger: silentLogger() });
      try {
        await node.accounts.createAccount({ address: `${name}@example.org`, password: PASS });
      } finally {
        await node.close();
      }
    }
    for (const name of names) gateways.set(name, await startGatewayChild(dirs[name], { gatewayChild: false, log: path.join(options.out, `restore-${name}.log`) }));
    // Every node registered before the owner picks its replicas.
    const { openLocalRegistry } = await import('../src/registry/local.ts');
    const registry = openLocalRegistry({ path: registryFile });
    const deadline = Date.now() + 60_000;
    while ((await registry.listNodes()).length < names.length) {
      if (Date.now() > deadline) throw new Error('the three nodes did not register within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await registry.close();

    const passwordFile = path.join(shared, 'old.pass');
    fs.writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
    let started = performance.now();
    await run([cli, 'import', 'imap', '--data-dir', dirs.owner, '--account', 'owner@example.org', '--host', options.dovecot.host, '--port', String(options.dovecot.port),
      '--plain', '--user', options.user, '--password-file', passwordFile], { SEALPOST_PASSWORD: PASS });
    const importMs = performance.now() - started;
    log(`  import through the running gateway: ${(importMs / 1000).toFixed(1)} s`);

    const passphraseFile = path.join(shared, 'backup.pass');
    fs.writeFileSync(passphraseFile, 'benchmark backup passphrase\n', { mode: 0o600 });
    const backupFile = path.join(shared, 'owner.backup.asc');
    started = performance.now();
    await run([cli, 'backup', '--data-dir', dirs.owner, '--account', 'owner@example.org', '--out', backupFile, '--passphrase-file', passphraseFile], { SEALPOST_PASSWORD: PASS });
    const backupMs = performance.now() - started;
    log(`  snapshot, replication to 2 replicas and backup: ${(backupMs / 1000).toFixed(1)} s`);

    await gateways.get('owner')?.stop();
    gateways.delete('owner');
    fs.rmSync(dirs.owner, { recursive: true, force: true });
    const restoredDir = path.join(shared, 'restored');
    started = performance.now();
    const { stdout } = await run([cli, 'restore', '--backup', backupFile, '--passphrase-file', passphraseFile, '--password', PASS, '--data-dir', restoredDir], {});
    const restoreMs = performance.now() - started;
    const summary = stdout.split('\n').find((l) => l.startsWith('Restored')) ?? stdout.trim();
    log(`  restore: ${(restoreMs / 1000).toFixed(1)} s — ${summary}`);
    const restored = Number(/: (\d+) messages? in/.exec(summary)?.[1] ?? NaN);
    if (restored !== options.messages) throw new Error(`the restore brought back ${restored} of ${options.messages} messages: ${stdout}`);
    return { importMs, backupMs, restoreMs, restored, summary };
  } finally {
    await Promise.all([...gateways.values()].map((g) => g.stop().catch(() => undefined)));
    removeTempDir(shared);
  }
}
