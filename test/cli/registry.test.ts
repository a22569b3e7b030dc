// `sealpost registry deploy|use` against a real anvil: deploy puts a
// SealpostRegistry on the chain and switches the node to the network; use
// joins an existing one on another node; a wrong address or a missing flag is
// refused with a message a person understands.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config/config.ts';
import { startAnvil } from '../helpers/anvil.ts';
import { sealpostCli } from '../helpers/cli.ts';

test('registry deploy, then use from a second node; a bad address and a missing flag are refused', async (t) => {
  const anvil = await startAnvil();
  t.teardown(() => anvil.stop());
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-registry-cli-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const keyFile = path.join(root, 'registry.key');
  fs.writeFileSync(keyFile, `${anvil.privateKeys[1]}\n`, { mode: 0o600 });
  const dirs = ['one', 'two'].map((n) => path.join(root, n));
  for (const dir of dirs) {
    const init = await sealpostCli(['init', '--data-dir', dir, '--address', `me@${path.basename(dir)}.test`, '--password', 'a-long-password-1']);
    t.is(init.code, 0, init.stderr);
  }
  const [one = '', two = ''] = dirs;

  const deployed = await sealpostCli(['registry', 'deploy', '--data-dir', one, '--private-key-file', keyFile, '--rpc-url', anvil.rpcUrl]);
  t.is(deployed.code, 0, deployed.stderr);
  const address = /Deployed the registry at (0x[0-9a-fA-F]{40})/.exec(deployed.stdout)?.[1] ?? '';
  t.regex(address, /^0x/);
  const config = await loadConfig(path.join(one, 'config.json'));
  t.true(config.network.enabled);
  t.like(config.network.registry, { backend: 'evm', evm: { rpcUrl: anvil.rpcUrl, contract: address, privateKeyFile: keyFile } });

  const used = await sealpostCli(['registry', 'use', '--data-dir', two, '--contract', address, '--private-key-file', keyFile, '--rpc-url', anvil.rpcUrl]);
  t.is(used.code, 0, used.stderr);
  t.is((await loadConfig(path.join(two, 'config.json'))).network.registry.evm.contract, address);

  const wrong = await sealpostCli(['registry', 'use', '--data-dir', two, '--contract', `0x${'12'.repeat(20)}`, '--private-key-file', keyFile, '--rpc-url', anvil.rpcUrl]);
  t.not(wrong.code, 0);
  t.regex(wrong.stderr, /no contract at 0x/);
  const missing = await sealpostCli(['registry', 'use', '--data-dir', two, '--private-key-file', keyFile]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /use needs --contract ADDRESS/);
});
