// `sealpost backup`: the key backup a restore on a new machine starts from
// (backup/create.ts, backup/format.ts): the account's key, the node's
// identity and the settings that find the ledger, registry and peers, in one
// file encrypted with a passphrase (an OpenPGP message gpg can open too).
import fs from 'node:fs/promises';
import { createBackup } from '../../backup/create.ts';
import { generateBackupPassphrase, writeBackup } from '../../backup/format.ts';
import { loadConfig } from '../../config/config.ts';
import { dataPaths } from '../../config/paths.ts';
import { connectControl } from '../../control/client.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, passwordFlag, print, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost backup --account ADDR --out FILE [--passphrase-file FILE] [--data-dir DIR]

Writes the key backup of the account ADDR to FILE: its OpenPGP key, this
node's identity, and the settings that find the ledger, the registry and the
peer nodes. With the peer network, that file and its passphrase are ALL a
restore on a new machine needs ("sealpost restore"): the mail itself is kept
by the peer nodes that replicate this account. Keep the file and the
passphrase safe and apart: together they open the account.

The passphrase comes from --passphrase-file (its first line, at least 12
characters); without it one is generated and printed once.
The account's password (the one your mail client uses) unlocks its key:
--account-password-file FILE, or the environment variable SEALPOST_PASSWORD.

A node outside a network (the embedded defaults) keeps its mail on this
machine only: the backup then restores nothing but the key. Copy the data
directory elsewhere as well, or join a network.

Example:
  sealpost backup --account alice@example.org --out ~/alice.sealpost-backup.asc`;

const OPTIONS = { ...DATA_DIR_OPTION, account: { type: 'string' }, out: { type: 'string' }, 'passphrase-file': { type: 'string' }, 'account-password-file': { type: 'string' } } as const;

export const backupCommand: Command = {
  name: 'backup',
  summary: 'write the key backup a restore on a new machine needs',
  help,
  async run(argv) {
    const { values } = parseCommand('backup', argv, OPTIONS);
    if (values.help === true) return print(help);
    const account = values.account;
    if (account === undefined || account === '') throw new UsageError('backup', 'give --account ADDR');
    const out = values.out;
    if (out === undefined || out === '') throw new UsageError('backup', 'give --out FILE (where to write the backup)');
    const password = (await passwordFlag('backup', { 'account-password-file': values['account-password-file'] }, 'account-password')) ?? process.env['SEALPOST_PASSWORD'];
    if (password === undefined || password === '') throw new UsageError('backup', 'the account\'s password is needed to unlock its key: give --account-password-file FILE or set SEALPOST_PASSWORD');
    const given = await passwordFlag('backup', { passphrase: undefined, 'passphrase-file': values['passphrase-file'] }, 'passphrase');
    if (given !== undefined && given.length < 12) throw new UsageError('backup', 'the passphrase must be at least 12 characters');
    const passphrase = given ?? generateBackupPassphrase();
    const dataDir = dataDirFrom(values);
    const paths = dataPaths(dataDir);
    const config = await loadConfig(paths.config);
    // A running gateway takes a fresh snapshot first, so the backup's restore point is now.
    const client = await connectControl(paths.controlSocket).catch(() => null);
    if (client !== null) {
      await client.call('/v1/history/snapshot', { account }).catch(() => undefined);
      client.close();
    }
    const contents = await createBackup({ dataDir, account, password, passphrase });
    const armored = await writeBackup(contents, passphrase);
    try {
      await fs.writeFile(out, armored, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError('backup', `${out} exists already: choose another --out (a backup is never overwritten)`);
      throw error;
    }
    print(`Wrote the key backup of ${contents.account.address} to ${out}.`);
    if (given === undefined) print(`Passphrase (shown once, write it down): ${passphrase}`);
    print('This file and its passphrase are all that a restore needs: keep both safe, and apart.');
    if (!config.network.enabled) {
      print('WARNING: this node is not in a peer network, so no other node keeps its mail. If this machine is lost,');
      print('the backup restores the key but no messages. Also copy the data directory (' + dataDir + ') elsewhere.');
    }
  },
};
