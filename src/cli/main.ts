// The `sealpost` command line: dispatches to one file per command in
// commands/, turns errors into short messages and exit codes
// (0 ok, 1 failure, 2 usage mistake). No stack traces for user mistakes.
import { SealpostError } from '../errors/index.ts';
import { CommandFailed, print, UsageError, type Command } from './args.ts';
import { accountCommand } from './commands/account.ts';
import { devnetCommand } from './commands/devnet.ts';
import { backupCommand } from './commands/backup.ts';
import { importCommand } from './commands/import.ts';
import { restoreCommand } from './commands/restore.ts';
import { initCommand } from './commands/init.ts';
import { keysCommand } from './commands/keys.ts';
import { quickstartCommand } from './commands/quickstart.ts';
import { registryCommand } from './commands/registry.ts';
import { revokeCommand } from './commands/revoke.ts';
import { startCommand } from './commands/start.ts';
import { statusCommand } from './commands/status.ts';
import { ledgerCommand } from './commands/ledger.ts';
import { verifyCommand } from './commands/verify.ts';

const COMMANDS: Command[] = [initCommand, startCommand, accountCommand, keysCommand, statusCommand, quickstartCommand, verifyCommand, importCommand, backupCommand, restoreCommand, revokeCommand, ledgerCommand, registryCommand, devnetCommand];

export const HELP = `Sealpost: a secure mail gateway for your mail client on localhost.

Usage: sealpost <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}

Every command takes --data-dir DIR (default: $SEALPOST_HOME, else
$XDG_DATA_HOME/sealpost, else ~/.local/share/sealpost) and --help;
devnet takes --dir DIR, the directory of a whole local network.

Examples:
  sealpost init --data-dir ~/sealpost --address alice@example.org --name "Alice"
  sealpost start --data-dir ~/sealpost
  sealpost account add --data-dir ~/sealpost --address bob@example.org
  sealpost status --data-dir ~/sealpost
  sealpost devnet --nodes 5 --dir ~/sealpost-devnet

Then add the account to Thunderbird or Outlook with the printed settings:
IMAP 127.0.0.1 port 1143 (STARTTLS) or 1993 (SSL/TLS), SMTP 127.0.0.1 port
1587 (STARTTLS) or 1465 (SSL/TLS), user name = the account's address.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    print(topic?.help ?? HELP);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (command === undefined) throw new UsageError('', `unknown command "${name}"`);
    await command.run(rest);
    return 0;
  } catch (error) {
    if (error instanceof CommandFailed) return 1;
    if (error instanceof UsageError) {
      process.stderr.write(`sealpost${error.command === '' ? '' : ` ${error.command}`}: ${error.message}\n`);
      process.stderr.write(`Run "sealpost ${error.command === '' ? '' : `${error.command} `}--help" for usage.\n`);
      return 2;
    }
    if (error instanceof SealpostError) {
      process.stderr.write(`sealpost: ${error.message}\n`);
      if (error.code === 'NOT_FOUND' && /config/.test(error.message)) {
        process.stderr.write('The data directory is not initialised: run "sealpost init --address ADDR" first.\n');
      }
      return 1;
    }
    process.stderr.write(`sealpost: unexpected error: ${(error as Error).message ?? String(error)}\n`);
    if (process.env['SEALPOST_DEBUG'] !== undefined) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return 1;
  }
}

// Run when executed directly (node src/cli/main.ts, bin/sealpost.js imports it with an argument marker).
if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
