// Test double for the submission server's Submitter: plain local delivery to
// each recipient's INBOX in a MailStore (the gateway uses the secure pipeline,
// pipeline/outbound.ts). Keeps test/smtp about the SMTP protocol alone.
import { NotFoundError } from '../../src/errors/index.ts';
import type { MailStore } from '../../src/mailstore/types.ts';
import type { Submitter } from '../../src/smtp/types.ts';

export function createLocalSubmitter(store: MailStore): Submitter {
  let n = 0;
  return {
    async checkRecipient(_user, address) {
      if ((await store.getAccount(address)) === null) throw new NotFoundError('account', `<${address}>: Recipient not on this Sealpost node`);
    },
    async submit(submission) {
      for (const rcpt of submission.recipients) {
        const account = await store.getAccount(rcpt);
        if (account === null) throw new NotFoundError('account', `no account ${rcpt}`);
        const inbox = await store.getMailbox(account.id, 'INBOX');
        if (inbox === null) throw new NotFoundError('mailbox', `${rcpt} has no INBOX`);
        await store.append(inbox.id, { raw: submission.raw, flags: [] });
      }
      return { id: `local-${++n}` };
    },
  };
}
