// `sealpost restore`: a lost machine's mail back on a new one, from the key
// backup alone (restore/restore.ts): the latest mailbox snapshot and every
// message it names, fetched from the peer nodes that replicate the account.
import fs from 'node:fs/promises';
import { restoreFromBackup } from '../../restore/restore.ts';
import { DATA_DIR_OPTION, dataDirFrom, parseCommand, passwordFlag, print, quietLogger, UsageError, type Command } from '../args.ts';
import { createProgressLine, formatDuration } from '../progress.ts';

export const help = `Usage: sealpost restore --backup FILE [--passphrase-file FILE] [--password PASS | --password-file FILE] [--data-dir DIR]

Restores an account from its key backup ("sealpost backup") into a new data
directory: every folder, every message and its flags as they were at the
last mailbox snapshot, except messages whose expiry has passed. The mail is
fetched from the peer nodes that replicate the account. Then start the
gateway ("sealpost start") and point a new mail client at it.

The backup's passphrase comes from --passphrase-file or SEALPOST_BACKUP_PASSPHRASE.
The restored account's client password is --password (or --password-file);
without it one is generated and printed. Interrupted? Run it again with the
same password: it finishes without duplicates.

Example:
  sealpost restore --backup alice.sealpost-backup.asc --data-dir ~/sealpost`;

const OPTIONS = { ...DATA_DIR_OPTION, backup: { type: 'string' }, 'passphrase-file': { type: 'string' }, password: { type: 'string' }, 'password-file': { type: 'string' } } as const;

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore an account on a new machine from its key backup',
  help,
  async run(argv) {
    const { values } = parseCommand('restore', argv, OPTIONS);
    if (values.help === true) return print(help);
    const file = values.backup;
    if (file === undefined || file === '') throw new UsageError('restore', 'give --backup FILE (written by sealpost backup)');
    let backup: Uint8Array;
    try {
      backup = await fs.readFile(file);
    } catch (error) {
      throw new UsageError('restore', `cannot read --backup ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const passphrase = (await passwordFlag('restore', { passphrase: undefined, 'passphrase-file': values['passphrase-file'] }, 'passphrase')) ?? process.env['SEALPOST_BACKUP_PASSPHRASE'];
    if (passphrase === undefined || passphrase === '') throw new UsageError('restore', 'the backup\'s passphrase is needed: give --passphrase-file FILE or set SEALPOST_BACKUP_PASSPHRASE');
    const password = await passwordFlag('restore', values, 'password');
    const progress = createProgressLine();
    try {
      const result = await restoreFromBackup({
        dataDir: dataDirFrom(values), backup, passphrase, logger: quietLogger(), ...(password === undefined ? {} : { password }),
        onProgress: (p) => progress.update(p),
      });
      progress.finish();
      print(`Restored ${result.account}: ${result.restored} message${result.restored === 1 ? '' : 's'} in ${result.folders} folders ` +
        `from the snapshot of ${new Date(result.snapshot.takenAt).toISOString()}, in ${formatDuration(result.elapsedMs)}` +
        `${result.already > 0 ? ` (${result.already} restored by an earlier run)` : ''}.`);
      if (result.expired > 0) print(`${result.expired} expired message${result.expired === 1 ? ' was' : 's were'} left out.`);
      if (result.expiring > 0) print(`${result.expiring} expiring message${result.expiring === 1 ? ' was' : 's were'} left out: too few of their custodians gave the key back; run the restore again later.`);
      if (result.failed > 0) print(`${result.failed} message${result.failed === 1 ? '' : 's'} could not be fetched from any replica; run the restore again later.`);
      if (result.generated) print(`Client password for ${result.account} (shown once): ${result.password}`);
      print(`Next: sealpost start${values['data-dir'] === undefined ? '' : ` --data-dir ${values['data-dir']}`}, then add the account to your mail client.`);
    } finally {
      progress.finish();
    }
  },
};
