// config/: data directory resolution (XDG Base Directory) and config.json
// validation, defaults and atomic saving.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, loadConfig, saveConfig, validateConfig } from '../../src/config/config.ts';
import { resolveDataDir } from '../../src/config/paths.ts';

test('data dir: flag, then SEALPOST_HOME, then XDG_DATA_HOME, then ~/.local/share', (t) => {
  const env = { HOME: '/home/u', XDG_DATA_HOME: '/xdg', SEALPOST_HOME: '/sp' };
  t.is(resolveDataDir('/flag', env), '/flag');
  t.is(resolveDataDir(undefined, env), '/sp');
  t.is(resolveDataDir(undefined, { HOME: '/home/u', XDG_DATA_HOME: '/xdg' }), '/xdg/sealpost');
  t.is(resolveDataDir(undefined, { HOME: '/home/u', XDG_DATA_HOME: 'relative' }), '/home/u/.local/share/sealpost');
  t.is(resolveDataDir(undefined, { HOME: '/home/u' }), '/home/u/.local/share/sealpost');
  t.is(resolveDataDir('rel', env), path.resolve('rel'));
});

test('defaults are the documented ports on loopback with 25 MiB messages', (t) => {
  const c = defaultConfig();
  t.is(c.listen, '127.0.0.1');
  t.deepEqual(c.ports, { smtp: 1587, smtps: 1465, imap: 1143, imaps: 1993 });
  t.is(c.limits.maxMessageSize, 25 * 1024 * 1024);
});

test('validation names the bad field', (t) => {
  t.throws(() => validateConfig({ version: 2 }), { code: 'INVALID', message: /^version/ });
  t.throws(() => validateConfig({ version: 1, ports: { imap: 'x' } }), { message: /^ports\.imap:/ });
  t.throws(() => validateConfig({ version: 1, ports: { imap: 70000 } }), { message: /^ports\.imap:/ });
  t.throws(() => validateConfig({ version: 1, limits: { auth: { lockoutMs: -1 } } }), { message: /^limits\.auth\.lockoutMs:/ });
  t.throws(() => validateConfig({ version: 1, logLevel: 'loud' }), { message: /^logLevel:/ });
  t.throws(() => validateConfig({ version: 1, prots: {} }), { message: /^prots: unknown setting/ });
  t.throws(() => validateConfig([]), { message: /^config:/ });
});

test('missing fields take their defaults', (t) => {
  const c = validateConfig({ version: 1, ports: { imap: 0 } });
  t.is(c.ports.imap, 0);
  t.is(c.ports.smtp, 1587);
  t.is(c.limits.auth.maxFailuresPerUser, 5);
});

test('save is 0600 and round-trips; load reports missing and broken files', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-config-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  await t.throwsAsync(loadConfig(file), { code: 'NOT_FOUND' });
  const config = { ...defaultConfig(), logLevel: 'debug' as const };
  await saveConfig(file, config);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.deepEqual(await loadConfig(file), config);
  t.deepEqual(fs.readdirSync(dir), ['config.json'], 'no temp file left behind');
  fs.writeFileSync(file, '{ nope');
  await t.throwsAsync(loadConfig(file), { code: 'INVALID', message: /^config:/ });
});
