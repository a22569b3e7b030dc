// `sealpost status`: the data directory, its accounts with per-folder message
// counts, and whether a gateway is running on it.
import fs from 'node:fs/promises';
import { openNode } from '../../app.ts';
import { dataPaths } from '../../config/paths.ts';
import { readTlsMaterial } from '../../crypto/tls.ts';
import { portsLine } from '../output.ts';
import { readRunningGateway } from '../state.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, quietLogger, print, type Command } from '../args.ts';

export const help = `Usage: sealpost status [--data-dir DIR]

Shows the data directory, the accounts with the number of messages in each
folder, the TLS certificate fingerprint, and whether a gateway is running.

Example:
  sealpost status --data-dir ~/sealpost`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'show accounts, folders and whether the gateway runs',
  help,
  async run(argv) {
    const { values } = parseCommand('status', argv, DATA_DIR_OPTION);
    if (values.help === true) return print(help);
    const dataDir = dataDirFrom(values);
    const paths = dataPaths(dataDir);
    print(`Data directory: ${dataDir}`);
    try {
      await fs.access(paths.config);
    } catch {
      print('Not initialised. Create it with: sealpost init --address ADDR' + (values['data-dir'] !== undefined ? ` --data-dir ${dataDir}` : ''));
      return;
    }
    const running = await readRunningGateway(paths.gatewayState);
    print(running === null ? 'Gateway: not running' : `Gateway: running (pid ${running.pid}) since ${running.startedAt}\n  ${portsLine(running.listen, running.ports)}`);
    try {
      print(`TLS certificate SHA-256: ${(await readTlsMaterial(paths.tlsDir)).fingerprint256}`);
    } catch {
      print('TLS certificate: missing (run sealpost init again to create it)');
    }
    const node = await openNode({ dataDir, logger: quietLogger() });
    try {
      const accounts = await node.accounts.listAccounts();
      print(`Accounts: ${accounts.length}`);
      for (const account of accounts) {
        print(`  ${account.address}${account.name === '' ? '' : ` "${account.name}"`}`);
        const mailboxes = await node.store.listMailboxes(account.id);
        const counts: string[] = [];
        for (const mailbox of mailboxes) {
          const st = await node.store.status(mailbox.id);
          counts.push(`${mailbox.name} ${st.messages}${st.unseen > 0 ? ` (${st.unseen} unseen)` : ''}`);
        }
        print(`    ${counts.join(', ')}`);
      }
    } finally {
      await node.close();
    }
  },
};
