// `sealpost account add|list|passwd`: manage the accounts on this node.
import { checkPassword, normaliseAddress } from '../../accounts/service.ts';
import { openNode } from '../../app.ts';
import { checkFlag, DATA_DIR_OPTION, dataDirFrom, parseCommand, quietLogger, passwordFlag, print, UsageError, type Command } from '../args.ts';
import { ACCOUNT_OPTIONS } from './init.ts';

export const help = `Usage: sealpost account <add|list|passwd> [options] [--data-dir DIR]

  sealpost account add --address ADDR [--name NAME] [--password PASS | --password-file FILE]
      Adds an account with its default folders and OpenPGP key pair.
      Without --password a password is generated and printed once.

  sealpost account list
      Lists the accounts with their key fingerprints.

  sealpost account passwd --address ADDR [--password NEW | --password-file FILE]
                          (--old-password OLD | --old-password-file FILE | --force-new-key)
      Sets a new client password (generated when not given). The account's
      private key is encrypted with the password, so the old password is
      needed to re-encrypt it. If the old password is lost, --force-new-key
      replaces the key pair with a new one (mail encrypted to the old key
      can then no longer be read).

Examples:
  sealpost account add --address bob@example.org --name "Bob"
  sealpost account passwd --address bob@example.org --old-password-file old.txt`;

const OPTIONS = {
  ...DATA_DIR_OPTION,
  ...ACCOUNT_OPTIONS,
  'old-password': { type: 'string' },
  'old-password-file': { type: 'string' },
  'force-new-key': { type: 'boolean' },
} as const;

export const accountCommand: Command = {
  name: 'account',
  summary: 'add, list or change the password of accounts',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand('account', argv, OPTIONS, 1);
    if (values.help === true) return print(help);
    const sub = positionals[0];
    if (sub === undefined) throw new UsageError('account', 'say what to do: account add, account list or account passwd');
    if (sub !== 'add' && sub !== 'list' && sub !== 'passwd') throw new UsageError('account', `unknown action "${sub}" (expected add, list or passwd)`);
    const allowed: Record<string, readonly string[]> = {
      add: ['address', 'name', 'password', 'password-file'],
      list: [],
      passwd: ['address', 'password', 'password-file', 'old-password', 'old-password-file', 'force-new-key'],
    };
    for (const key of Object.keys(values)) {
      if (key !== 'data-dir' && key !== 'help' && !(allowed[sub] ?? []).includes(key)) throw new UsageError('account', `--${key} does not apply to account ${sub}`);
    }
    const password = await passwordFlag('account', values, 'password');
    const oldPassword = await passwordFlag('account', values, 'old-password');
    if (sub !== 'list') {
      if (values.address === undefined) throw new UsageError('account', `--address is required for account ${sub}`);
      const address = values.address;
      checkFlag('account', () => normaliseAddress(address));
      if (password !== undefined) checkFlag('account', () => checkPassword(password));
    }
    if (sub === 'passwd' && oldPassword === undefined && values['force-new-key'] !== true) {
      throw new UsageError('account', 'account passwd needs --old-password (or --old-password-file) to re-encrypt the key, or --force-new-key to replace it');
    }
    if (sub === 'passwd' && oldPassword !== undefined && values['force-new-key'] === true) {
      throw new UsageError('account', 'give --old-password or --force-new-key, not both');
    }

    const node = await openNode({ dataDir: dataDirFrom(values), logger: quietLogger() });
    try {
      if (sub === 'list') {
        const accounts = await node.accounts.listAccounts();
        if (accounts.length === 0) return print('No accounts. Add one with: sealpost account add --address ADDR');
        for (const account of accounts) {
          const secrets = await node.store.getSecrets(account.id);
          const name = account.name === '' ? '' : `  "${account.name}"`;
          print(`${account.address}${name}  key ${secrets.fingerprint}  created ${account.createdAt.toISOString()}`);
        }
        return;
      }
      const address = values.address ?? '';
      if (sub === 'add') {
        const created = await node.accounts.createAccount({
          address,
          ...(values.name !== undefined ? { name: values.name } : {}),
          ...(password !== undefined ? { password } : {}),
        });
        print(`Account ${created.account.address} created; OpenPGP key ${created.fingerprint}`);
        if (created.generated) print(`Password: ${created.password}   (shown only this once)`);
        print(`User name for IMAP and SMTP: ${created.account.address}`);
        return;
      }
      const change = await node.accounts.changePassword(address, password, {
        ...(oldPassword !== undefined ? { oldPassword } : {}),
        ...(values['force-new-key'] === true ? { forceNewKey: true } : {}),
      });
      print(`Password of ${normaliseAddress(address)} changed.`);
      if (change.newKey) print(`A NEW OpenPGP key pair replaced the old one: ${change.fingerprint}`);
      else print(`The OpenPGP key ${change.fingerprint} was re-encrypted with the new password.`);
      if (change.generated) print(`New password: ${change.password}   (shown only this once)`);
    } finally {
      await node.close();
    }
  },
};
