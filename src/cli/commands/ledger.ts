// `sealpost ledger deploy`: deploys the anchoring contract (compiled from
// contracts/SealpostAnchor.sol with solc-js) to an EVM chain and switches the
// node's ledger to it (config.json ledger.backend = "evm").
import path from 'node:path';
import { dataPaths } from '../../config/paths.ts';
import { loadConfig, saveConfig } from '../../config/config.ts';
import { deployAnchorContract, readPrivateKeyFile } from '../../ledger/evm/anchorer.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, print, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost ledger deploy [--data-dir DIR] --private-key-file FILE [--rpc-url URL]

Deploys Sealpost's anchoring contract to an EVM chain and makes it this
node's ledger: from then on message records are batched into Merkle trees
and each batch root is written to the contract in one transaction.

  --rpc-url URL            the chain node's JSON-RPC endpoint
                           (default: config ledger.evm.rpcUrl, http://127.0.0.1:8545)
  --private-key-file FILE  a file with the 0x-prefixed private key of the account
                           that pays for deployment and anchoring (mode 0600)

Restart the gateway afterwards. Example with a local anvil node:
  anvil --host 127.0.0.1 --port 8545 --state ~/sealpost/chain.json &
  sealpost ledger deploy --private-key-file ~/sealpost/evm.key`;

const OPTIONS = { ...DATA_DIR_OPTION, 'rpc-url': { type: 'string' }, 'private-key-file': { type: 'string' } } as const;

export const ledgerCommand: Command = {
  name: 'ledger',
  summary: 'deploy the anchoring contract to an EVM chain',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand('ledger', argv, OPTIONS, 1);
    if (values.help === true) return print(help);
    if (positionals[0] !== 'deploy') throw new UsageError('ledger', positionals[0] === undefined ? 'missing subcommand (deploy)' : `unknown subcommand "${positionals[0]}"`);
    const keyFile = values['private-key-file'];
    if (keyFile === undefined) throw new UsageError('ledger', '--private-key-file is required');
    const paths = dataPaths(dataDirFrom(values));
    const config = await loadConfig(paths.config);
    const rpcUrl = values['rpc-url'] ?? config.ledger.evm.rpcUrl;
    const privateKey = await readPrivateKeyFile(keyFile);
    const deployed = await deployAnchorContract({ rpcUrl, privateKey });
    config.ledger.backend = 'evm';
    config.ledger.evm = { ...config.ledger.evm, rpcUrl, contract: deployed.address, privateKeyFile: path.resolve(keyFile) };
    await saveConfig(paths.config, config);
    print(`Deployed the anchoring contract at ${deployed.address}`);
    print(`  chain ${deployed.chainId}, block ${deployed.block}, transaction ${deployed.tx}`);
    print(`The ledger of ${paths.dir} now anchors to it (restart the gateway if it runs).`);
  },
};
