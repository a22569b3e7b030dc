// `sealpost devnet --prepare --rpc-url URL --base-port N`: what
// docker-compose.yml's setup step runs against a chain it does not own —
// node directories, accounts and contracts made, no process left running,
// idempotent on a second run; and the usage mistakes that exit 2.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasCode } from '../../src/devnet/rpc.ts';
import { readDevnetState } from '../../src/devnet/state.ts';
import { startAnvil } from '../helpers/anvil.ts';
import { sealpostCli } from '../helpers/cli.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-devnet-prep-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'net');
}

test('--prepare on an external chain makes the directories and contracts, starts nothing, and is idempotent', async (t) => {
  t.timeout(180_000);
  const anvil = await startAnvil({ accounts: 10 });
  t.teardown(() => anvil.stop());
  const dir = tempDir(t);
  const args = ['devnet', '--nodes', '2', '--dir', dir, '--rpc-url', anvil.rpcUrl, '--base-port', '41000', '--prepare', '--json'];
  const run = await sealpostCli(args);
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.deepEqual(lines.at(-1), { prepared: true });
  t.like(lines[0], { node: 1, pid: null, address: 'user@node1.devnet.test', smtp: '127.0.0.1:41010', imap: '127.0.0.1:41012', dataDir: path.join(dir, 'node-1') });
  t.like(lines[1], { node: 2, pid: null, address: 'user@node2.devnet.test', smtp: '127.0.0.1:41020', imap: '127.0.0.1:41022', dataDir: path.join(dir, 'node-2') });
  t.false(fs.existsSync(path.join(dir, 'running.json')), 'nothing left running');
  t.false(fs.existsSync(path.join(dir, 'anvil.log')), 'no anvil of its own');

  const state = await readDevnetState(dir);
  if (state === null) return t.fail('no devnet.json');
  t.true(state.chain.external);
  t.is(state.chain.rpcUrl, anvil.rpcUrl);
  t.true(await hasCode(anvil.rpcUrl, state.chain.registry));
  for (const node of state.nodes) {
    t.true(await hasCode(anvil.rpcUrl, node.ledger.contract));
    const config = JSON.parse(fs.readFileSync(path.join(dir, node.dataDir, 'config.json'), 'utf8')) as { ledger: { evm: { rpcUrl: string; contract: string } }; ports: Record<string, number> };
    t.is(config.ledger.evm.rpcUrl, anvil.rpcUrl);
    t.is(config.ledger.evm.contract, node.ledger.contract);
    t.is(config.ports['smtp'], 41000 + 10 * node.node);
  }
  // The account exists with the password devnet.json holds.
  const list = await sealpostCli(['account', 'list', '--data-dir', path.join(dir, 'node-2')]);
  t.regex(list.stdout, /^user@node2\.devnet\.test/m);

  const before = fs.readFileSync(path.join(dir, 'devnet.json'), 'utf8');
  const again = await sealpostCli(args);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, run.stdout, 'same settings');
  t.false(again.stderr.includes('Deploying'), 'nothing deployed twice');
  t.is(fs.readFileSync(path.join(dir, 'devnet.json'), 'utf8'), before);

  // A chain that lost the contracts is told apart from one that has them.
  await anvil.stop();
  const fresh = await startAnvil({ port: anvil.port });
  t.teardown(() => fresh.stop());
  const lost = await sealpostCli(args);
  t.is(lost.code, 1);
  t.regex(lost.stderr, /has no code at 0x[0-9a-fA-F]{40}/);
});

test('usage mistakes exit 2 and create nothing', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [[], /--dir is required/],
    [['--dir', dir, '--nodes', 'five'], /--nodes must be a number from 1 to 50/],
    [['--dir', dir, '--nodes', '51'], /--nodes must be a number from 1 to 50/],
    [['--dir', dir, '--base-port', '0'], /--base-port must not be 0/],
    [['--dir', dir, '--rpc-url', 'ws://127.0.0.1:8545'], /--rpc-url must be an http\(s\) URL/],
    [['--dir', dir, '--data-dir', dir], /Unknown option '--data-dir'/],
  ];
  const runs = await Promise.all(cases.map(([args]) => sealpostCli(['devnet', ...args])));
  for (const [i, [args, message]] of cases.entries()) {
    t.is(runs[i]?.code, 2, args.join(' '));
    t.regex(runs[i]?.stderr ?? '', message);
  }
  const missing = await sealpostCli(['devnet', '--dir', dir, '--anvil', path.join(dir, 'no-such-anvil')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /is not an executable file/);
  t.false(fs.existsSync(dir));
  const help = await sealpostCli(['help', 'devnet']);
  t.true(help.stdout.startsWith('Usage: sealpost devnet --dir DIR'));
  t.regex((await sealpostCli(['--help'])).stdout, /devnet +a local network/);
});
