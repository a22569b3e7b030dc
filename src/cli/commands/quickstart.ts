// `sealpost quickstart` (what `npm start` runs): on the first run initialise
// the default data directory with one account and print its settings with
// the generated password; on later runs just start and print the settings.
import fs from 'node:fs/promises';
import type { Gateway } from '../../app.ts';
import { dataPaths } from '../../config/paths.ts';
import { clientSettings } from '../output.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, print, type Command } from '../args.ts';
import { initWithAccount } from './init.ts';
import { runGateway, START_OPTIONS, startFlags } from './start.ts';

/** The first account's address unless SEALPOST_ADDRESS says otherwise (.localhost never leaves the machine, RFC 6761). */
export const DEFAULT_ADDRESS = 'me@sealpost.localhost';

export const help = `Usage: sealpost quickstart [--data-dir DIR] [start options]

What "npm start" runs. The first time, it creates the data directory with one
account (address from $SEALPOST_ADDRESS, default ${DEFAULT_ADDRESS}; display
name from $SEALPOST_NAME) and prints its mail client settings including the
generated password. Every time, it then starts the gateway (see sealpost start
--help for the port options).

Example:
  SEALPOST_ADDRESS=alice@example.org npm start`;

export const quickstartCommand: Command = {
  name: 'quickstart',
  summary: 'initialise on first run, then start (npm start)',
  help,
  async run(argv) {
    const { values } = parseCommand('quickstart', argv, { ...DATA_DIR_OPTION, ...START_OPTIONS });
    if (values.help === true) return print(help);
    const flags = startFlags('quickstart', values);
    const dataDir = dataDirFrom(values);
    let firstRun = false;
    try {
      await fs.access(dataPaths(dataDir).config);
    } catch {
      firstRun = true;
    }
    if (firstRun) {
      const address = process.env['SEALPOST_ADDRESS'] ?? DEFAULT_ADDRESS;
      const name = process.env['SEALPOST_NAME'];
      print('First run: creating the Sealpost data directory and your account.');
      const done = await initWithAccount(dataDir, { address, ...(name !== undefined ? { name } : {}) });
      print();
      // Settings are printed once the ports are bound (they may differ from the defaults).
      await runGateway(dataDir, flags, (gateway) => {
        print();
        print(`Account ${done.address}`);
        print(clientSettings({
          host: gateway.listen,
          ports: gateway.ports,
          address: done.address,
          ...(done.generatedPassword !== undefined ? { password: done.generatedPassword } : {}),
          tlsFingerprint: gateway.tlsFingerprint,
        }));
        print();
      });
      return;
    }
    await runGateway(dataDir, flags, (gateway) => printSettings(dataDir, gateway));
  },
};

async function printSettings(dataDir: string, gateway: Gateway): Promise<void> {
  for (const account of await gateway.node.accounts.listAccounts()) {
    print();
    print(`Account ${account.address}`);
    print(clientSettings({ host: gateway.listen, ports: gateway.ports, address: account.address, tlsFingerprint: gateway.tlsFingerprint }));
  }
  print();
  print(`Forgot a password? sealpost account passwd --data-dir ${dataDir} --address ADDR --old-password OLD`);
  print('  (or --force-new-key instead of --old-password, which also replaces the OpenPGP key)');
  print();
}
