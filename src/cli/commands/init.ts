// `sealpost init`: creates the data directory, config, TLS certificate and
// the first account, then prints the mail client settings.
import { checkPassword, normaliseAddress } from '../../accounts/service.ts';
import { initDataDir, openNode } from '../../app.ts';
import type { PortsConfig } from '../../config/config.ts';
import { clientSettings } from '../output.ts';
import { checkFlag, DATA_DIR_OPTION, dataDirFrom, parseCommand, passwordFlag, print, quietLogger, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost init --address ADDR [--name NAME] [--password PASS | --password-file FILE] [--data-dir DIR]

Creates the data directory (mode 0700) with its config, a self-signed TLS
certificate for localhost, and the first account with its OpenPGP key pair.
Without --password a strong password is generated and printed once.

Options:
  --address ADDR        the account's mail address (also its user name)
  --name NAME           display name for the account and its key
  --password PASS       client password (at least 8 characters)
  --password-file FILE  read the password from the first line of FILE
  --data-dir DIR        data directory (default: $SEALPOST_HOME, else
                        $XDG_DATA_HOME/sealpost, else ~/.local/share/sealpost)

Example:
  sealpost init --data-dir ~/sealpost --address alice@example.org --name "Alice"`;

/** The flags that describe a new account (init and account add share them). */
export const ACCOUNT_OPTIONS = {
  address: { type: 'string' },
  name: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
} as const;

const OPTIONS = { ...DATA_DIR_OPTION, ...ACCOUNT_OPTIONS } as const;

export interface Initialised {
  address: string;
  /** set when the password was generated (print it once) */
  generatedPassword?: string;
  fingerprint: string;
  tlsFingerprint: string;
  /** listen address and ports from the config */
  host: string;
  ports: PortsConfig;
}

/** Initialises `dataDir` (kept if present) and creates one account in it. */
export async function initWithAccount(dataDir: string, input: { address: string; name?: string; password?: string }): Promise<Initialised> {
  const init = await initDataDir(dataDir);
  const node = await openNode({ dataDir, logger: quietLogger() });
  try {
    const created = await node.accounts.createAccount(input);
    print(`Sealpost data directory: ${init.paths.dir}`);
    print(`Account ${created.account.address} created; OpenPGP key ${created.fingerprint}`);
    print('(the private key is encrypted with the account password)');
    return {
      address: created.account.address,
      ...(created.generated ? { generatedPassword: created.password } : {}),
      fingerprint: created.fingerprint,
      tlsFingerprint: init.tls.fingerprint256,
      host: init.config.listen,
      ports: init.config.ports,
    };
  } finally {
    await node.close();
  }
}

export const initCommand: Command = {
  name: 'init',
  summary: 'create the data directory, TLS certificate and first account',
  help,
  async run(argv) {
    const { values } = parseCommand('init', argv, OPTIONS);
    if (values.help === true) return print(help);
    if (values.address === undefined) throw new UsageError('init', '--address is required');
    const password = await passwordFlag('init', values, 'password');
    // Check what the user typed before anything is written to disk.
    const address = values.address;
    checkFlag('init', () => normaliseAddress(address));
    if (password !== undefined) checkFlag('init', () => checkPassword(password));
    const dataDir = dataDirFrom(values);
    const done = await initWithAccount(dataDir, {
      address: values.address,
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    print();
    print(clientSettings({
      host: done.host,
      ports: done.ports,
      address: done.address,
      ...(done.generatedPassword !== undefined ? { password: done.generatedPassword } : {}),
      tlsFingerprint: done.tlsFingerprint,
    }));
    print();
    print(`Next: sealpost start --data-dir ${dataDir}`);
  },
};
