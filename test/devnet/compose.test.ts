// docker-compose.yml, the devnet for a real deployment: it validates with
// `docker compose config -q` (or docker-compose v1) where a compose CLI is
// installed (skipped otherwise), and what it publishes is bound to the
// host's loopback only, on the ports `sealpost devnet --base-port 11000` gives.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { basePortLayout } from '../../src/devnet/ports.ts';

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** `docker compose` (v2 plugin), else `docker-compose` (v1), else null. */
async function findCompose(): Promise<string[] | null> {
  if ((await run('docker', ['compose', 'version'])).code === 0) return ['docker', 'compose'];
  if ((await run('docker-compose', ['version'])).code === 0) return ['docker-compose'];
  return null;
}

const compose = await findCompose();
const text = fs.readFileSync('docker-compose.yml', 'utf8');

(compose === null ? test.skip : test)(`docker-compose.yml validates with ${compose?.join(' ') ?? 'docker compose (skipped: no docker compose CLI on this machine)'} config -q`, async (t) => {
  if (compose === null) return;
  const [command = '', ...args] = compose;
  const result = await run(command, [...args, '-f', 'docker-compose.yml', 'config', '-q']);
  t.is(result.code, 0, result.stderr);
  const full = await run(command, [...args, '-f', 'docker-compose.yml', 'config']);
  for (const service of ['chain', 'setup', 'gateway-1', 'gateway-2', 'gateway-3', 'gateway-4', 'gateway-5']) t.regex(full.stdout, new RegExp(`^  ${service}:`, 'm'), service);
});

test('docker-compose.yml publishes only on 127.0.0.1, on the --base-port 11000 layout, and sets up 5 nodes', (t) => {
  const mappings = [...text.matchAll(/^\s+- "([^"]*:\d+(?:-\d+)?)"$/gm)].map((m) => m[1] ?? '');
  t.true(mappings.length > 0);
  for (const m of mappings) t.regex(m, /^127\.0\.0\.1:/, `${m} is bound to loopback`);
  const layout = basePortLayout(11000, 5);
  t.true(mappings.includes(`127.0.0.1:${layout.chain - 11000 + 8545}:8545`), 'the chain');
  for (let i = 1; i <= 5; i++) {
    const [smtp = 0, , , imaps = 0] = layout.node(i);
    t.true(mappings.includes(`127.0.0.1:${smtp}-${imaps}:${smtp}-${imaps}`), `node ${i}'s mail ports`);
    t.regex(text, new RegExp(`"start", "--data-dir", "/devnet/node-${i}"`));
  }
  t.regex(text, /"devnet", "--nodes", "5", "--dir", "\/devnet", "--rpc-url", "http:\/\/127\.0\.0\.1:8545", "--base-port", "11000", "--prepare"/);
  t.false(/^\s+network_mode: host/m.test(text), 'never the host network');
});
