// The devnet's pure parts: anvil's dev accounts derived from the test
// mnemonic (BIP-39/32/44, EIP-55) against the keys anvil itself prints, the
// first run's plan (ports, accounts, passwords), and devnet.json validation.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checksumEthAddress, devAccount } from '../../src/devnet/dev-keys.ts';
import { applyDevnetSettings, custodyFor } from '../../src/devnet/node-dir.ts';
import { checkResume, planDevnet } from '../../src/devnet/plan.ts';
import { portIsFree } from '../../src/devnet/ports.ts';
import { readDevnetState, validateDevnetState, writeDevnetState } from '../../src/devnet/state.ts';
import { defaultConfig, validateConfig } from '../../src/config/config.ts';
import { ANVIL_KEY_0, ANVIL_KEY_1, startAnvil } from '../helpers/anvil.ts';

test('dev accounts are the ones anvil funds (its printed keys, its eth_accounts)', async (t) => {
  t.is(devAccount(0).privateKey, ANVIL_KEY_0);
  t.is(devAccount(1).privateKey, ANVIL_KEY_1);
  const anvil = await startAnvil({ accounts: 12 });
  t.teardown(() => anvil.stop());
  t.deepEqual(Array.from({ length: 12 }, (_, i) => devAccount(i).privateKey), anvil.privateKeys);
  const response = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_accounts', params: [] }) });
  const accounts = ((await response.json()) as { result: string[] }).result;
  t.deepEqual(accounts.map((a) => a.toLowerCase()), Array.from({ length: 12 }, (_, i) => devAccount(i).address.toLowerCase()));
  t.throws(() => devAccount(-1), { instanceOf: RangeError });
});

test('EIP-55 checksum matches the EIP\'s own examples', (t) => {
  for (const address of ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb']) {
    t.is(checksumEthAddress(address.toLowerCase()), address);
  }
});

test('a first-run plan: distinct free ports, one account and two dev accounts per node, none shared', async (t) => {
  const plan = await planDevnet({ nodes: 5 }, new Date('2026-01-02T03:04:05Z'));
  t.is(plan.nodes.length, 5);
  t.is(plan.createdAt, '2026-01-02T03:04:05.000Z');
  t.false(plan.chain.external);
  t.is(plan.chain.rpcUrl, `http://127.0.0.1:${plan.chain.port}`);
  t.true(plan.chain.accounts >= 11);
  const ports = [plan.chain.port, ...plan.nodes.flatMap((n) => [n.ports.smtp, n.ports.smtps, n.ports.imap, n.ports.imaps, n.p2pPort])];
  t.is(new Set(ports).size, 26, 'all ports distinct');
  for (const port of ports) t.true(await portIsFree(port));
  const accounts = [plan.chain.deployer, ...plan.nodes.flatMap((n) => [n.ledger.account, n.registry.account])];
  t.is(new Set(accounts).size, 11, 'no two writers share a dev account (nonce)');
  t.true(Math.max(...accounts) < plan.chain.accounts, 'every account is funded');
  t.is(new Set(plan.nodes.map((n) => n.password)).size, 5);
  for (const n of plan.nodes) {
    t.is(n.address, `user@node${n.node}.devnet.test`);
    t.is(n.password.length, 24);
    t.is(n.ledger.address, devAccount(n.ledger.account).address);
    t.is(n.ledger.contract, '');
  }
});

test('--base-port lays the ports out from the base; impossible counts and bases are refused', async (t) => {
  const plan = await planDevnet({ nodes: 2, basePort: 20000 });
  t.is(plan.chain.port, 20000);
  t.deepEqual(plan.nodes.map((n) => [n.ports.smtp, n.ports.smtps, n.ports.imap, n.ports.imaps, n.p2pPort]), [[20010, 20011, 20012, 20013, 20014], [20020, 20021, 20022, 20023, 20024]]);
  const external = await planDevnet({ nodes: 1, basePort: 20000, rpcUrl: 'http://127.0.0.1:8545' });
  t.true(external.chain.external);
  t.is(external.chain.port, 0);
  t.is(external.chain.rpcUrl, 'http://127.0.0.1:8545');
  for (const options of [{ nodes: 0 }, { nodes: 51 }, { nodes: 2, basePort: 65520 }, { nodes: 2, basePort: 80 }]) {
    const error = await t.throwsAsync(planDevnet(options));
    t.is((error as { code?: string }).code, 'DEVNET_MISMATCH', JSON.stringify(options));
  }
});

test('checkResume refuses a different node count or chain and accepts what the directory holds', async (t) => {
  const plan = await planDevnet({ nodes: 2 });
  t.notThrows(() => checkResume(plan, {}, '/d'));
  t.notThrows(() => checkResume(plan, { nodes: 2 }, '/d'));
  for (const options of [{ nodes: 3 }, { rpcUrl: 'http://127.0.0.1:8545' }]) {
    t.throws(() => checkResume(plan, options, '/d'), { code: 'DEVNET_MISMATCH' } as never, JSON.stringify(options));
  }
});

test('devnet.json: written 0600 and read back; a bad field is named with DEVNET_STATE', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-devnet-state-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.is(await readDevnetState(dir), null);
  const plan = await planDevnet({ nodes: 2 });
  await writeDevnetState(dir, plan);
  t.is(fs.statSync(path.join(dir, 'devnet.json')).mode & 0o777, 0o600);
  t.deepEqual(await readDevnetState(dir), plan);

  const broken: Array<[string, (s: Record<string, any>) => void]> = [
    ['version', (s) => { s['version'] = 2; }],
    ['chain.rpcUrl', (s) => { s['chain'].rpcUrl = 'ws://x'; }],
    ['nodes[1].ports.imap', (s) => { s['nodes'][1].ports.imap = 70000; }],
    ['nodes[0].dataDir', (s) => { s['nodes'][0].dataDir = '../elsewhere'; }],
    ['nodes[0].ledger.contract', (s) => { s['nodes'][0].ledger.contract = '0x12'; }],
    ['nodes[1].node', (s) => { s['nodes'][1].node = 1; }],
    ['nodes[0].registry.account', (s) => { s['nodes'][0].registry.account = s['nodes'][0].ledger.account; }],
    ['nodes', (s) => { s['nodes'] = []; }],
  ];
  for (const [field, breakIt] of broken) {
    const copy = JSON.parse(JSON.stringify(plan)) as Record<string, any>;
    breakIt(copy);
    const error = t.throws(() => validateDevnetState(copy, 'devnet.json'));
    t.is((error as { code?: string }).code, 'DEVNET_STATE', field);
    t.true(error?.message.includes(field), `${field}: ${error?.message}`);
  }
  fs.writeFileSync(path.join(dir, 'devnet.json'), '{not json');
  const unreadable = await t.throwsAsync(readDevnetState(dir));
  t.is((unreadable as { code?: string }).code, 'DEVNET_STATE');
});

test('node settings: evm ledger and evm registry with different key files, fixed loopback ports, majority custody', async (t) => {
  const plan = await planDevnet({ nodes: 2, basePort: 30000 });
  plan.chain.registry = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
  const node = plan.nodes[1];
  if (node === undefined) return t.fail();
  node.ledger.contract = '0x8464135c8F25Da09e49BC8782676a84730C318bC';
  const config = defaultConfig();
  applyDevnetSettings(config, plan, node, '/devnet/node-2');
  t.notThrows(() => validateConfig(config));
  t.deepEqual(config.ports, { smtp: 30020, smtps: 30021, imap: 30022, imaps: 30023 });
  t.is(config.listen, '127.0.0.1');
  t.like(config.ledger, { backend: 'evm', evm: { rpcUrl: plan.chain.rpcUrl, contract: node.ledger.contract, privateKeyFile: '/devnet/node-2/ledger-evm.key' } });
  t.true(config.network.enabled);
  t.deepEqual(config.network.listen, ['/ip4/127.0.0.1/tcp/30024']);
  t.like(config.network.registry, { backend: 'evm', evm: { rpcUrl: plan.chain.rpcUrl, contract: plan.chain.registry, privateKeyFile: '/devnet/node-2/registry-evm.key' } });
  t.deepEqual(config.network.custody, { n: 2, t: 2 });
  t.deepEqual([1, 3, 5, 9].map(custodyFor), [{ n: 1, t: 1 }, { n: 3, t: 2 }, { n: 5, t: 3 }, { n: 5, t: 3 }]);
});
