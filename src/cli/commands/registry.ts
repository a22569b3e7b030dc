// `sealpost registry deploy|use`: the node registry of a Sealpost network on
// an EVM chain (contracts/SealpostRegistry.sol). `deploy` creates one (the
// first node of a network does this once); `use` points this node at an
// existing one. Both switch the node to the network (config network.*).
import path from 'node:path';
import { dataPaths } from '../../config/paths.ts';
import { loadConfig, saveConfig } from '../../config/config.ts';
import { readPrivateKeyFile } from '../../ledger/evm/anchorer.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, print, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost registry deploy [--data-dir DIR] --private-key-file FILE [--rpc-url URL]
       sealpost registry use [--data-dir DIR] --contract ADDRESS --private-key-file FILE [--rpc-url URL]

The registry lists the nodes of a Sealpost network and the addresses each
serves, and carries the network's (stealth) announcements. "deploy" puts a new
one on the chain; "use" joins one that exists. Either way this node is then in
the network (network.enabled) with that registry.

  --rpc-url URL            the chain node's JSON-RPC endpoint
                           (default: config network.registry.evm.rpcUrl, http://127.0.0.1:8545)
  --private-key-file FILE  the 0x-prefixed private key (mode 0600) of the account
                           that registers this node and posts its announcements;
                           use another account than the ledger's (separate nonces)
  --contract ADDRESS       (use) the SealpostRegistry address

Restart the gateway afterwards.`;

const OPTIONS = { ...DATA_DIR_OPTION, 'rpc-url': { type: 'string' }, 'private-key-file': { type: 'string' }, contract: { type: 'string' } } as const;

export const registryCommand: Command = {
  name: 'registry',
  summary: 'deploy or join the network registry on an EVM chain',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand('registry', argv, OPTIONS, 1);
    if (values.help === true) return print(help);
    const sub = positionals[0];
    if (sub !== 'deploy' && sub !== 'use') throw new UsageError('registry', sub === undefined ? 'missing subcommand (deploy or use)' : `unknown subcommand "${sub}"`);
    const keyFile = values['private-key-file'];
    if (keyFile === undefined) throw new UsageError('registry', '--private-key-file is required');
    if (sub === 'use' && values.contract === undefined) throw new UsageError('registry', 'use needs --contract ADDRESS');
    if (sub === 'deploy' && values.contract !== undefined) throw new UsageError('registry', 'deploy makes a new contract: leave out --contract (or use "registry use")');
    const paths = dataPaths(dataDirFrom(values));
    const config = await loadConfig(paths.config);
    const rpcUrl = values['rpc-url'] ?? config.network.registry.evm.rpcUrl;
    const privateKey = await readPrivateKeyFile(keyFile);
    const { deployRegistry, openEvmRegistry } = await import('../../registry/evm.ts');
    let contract: string;
    if (sub === 'deploy') {
      const deployed = await deployRegistry({ rpcUrl, privateKey });
      contract = deployed.address;
      print(`Deployed the registry at ${deployed.address}`);
      print(`  chain ${deployed.chainId}, block ${deployed.block}, transaction ${deployed.tx}`);
    } else {
      contract = values.contract ?? '';
      // Refuses an address with no registry there (and checks the chain answers).
      const registry = await openEvmRegistry({ rpcUrl, contract, privateKey });
      await registry.close();
      print(`Using the registry at ${contract}`);
    }
    config.network.enabled = true;
    config.network.registry = { ...config.network.registry, backend: 'evm', evm: { rpcUrl, contract, privateKeyFile: path.resolve(keyFile) } };
    await saveConfig(paths.config, config);
    print(`${paths.dir} is now in that network (restart the gateway if it runs).`);
  },
};
