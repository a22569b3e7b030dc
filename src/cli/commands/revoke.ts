// `sealpost revoke`: the sender withdraws an expiring message before its
// expiry. The message's custodians delete their key shares now (each records a
// signed deletion receipt), so nobody who has not read it yet ever can; copies
// already decrypted by the recipients' nodes still leave at the expiry.
import { revokeExpiring } from '../../app.ts';
import { CommandFailed, DATA_DIR_OPTION, dataDirFrom, parseCommand, print, quietLogger, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost revoke [--data-dir DIR] --message-id ID

Revokes an expiring message this node sent (a message with an Expires: or
Expiry-Date: field, or "[expires …]" in its subject), before its expiry: every
custodian holding a share of its key is asked to delete it now. Recipients who
have not read the message yet never will; copies already read still leave
every mailbox at the expiry. Needs network.enabled (custodians); works while
the gateway runs.

Exit status: 0 when every custodian deleted its share (or had already), 1
when some could not be reached (run it again later).

Example:
  sealpost revoke --message-id 20261201.abc@example.org`;

const OPTIONS = { ...DATA_DIR_OPTION, 'message-id': { type: 'string' } } as const;

export const revokeCommand: Command = {
  name: 'revoke',
  summary: 'delete the key of an expiring message you sent, now',
  help,
  async run(argv) {
    const { values } = parseCommand('revoke', argv, OPTIONS, 0);
    if (values.help === true) return print(help);
    const messageId = values['message-id'];
    if (messageId === undefined || messageId.trim() === '') throw new UsageError('revoke', 'give --message-id ID (the Message-ID of the expiring message you sent)');
    const outcome = await revokeExpiring({ dataDir: dataDirFrom(values), messageId, logger: quietLogger() });
    const failed = Object.entries(outcome.failures);
    print(`revoked ${outcome.cid}: ${outcome.deleted} custodian${outcome.deleted === 1 ? '' : 's'} deleted their share now` +
      `${outcome.alreadyGone > 0 ? `, ${outcome.alreadyGone} had already` : ''}`);
    for (const [custodian, code] of failed) print(`not reached: custodian ${custodian} (${code})`);
    if (failed.length > 0) {
      print('run it again later to reach the others');
      throw new CommandFailed();
    }
  },
};
