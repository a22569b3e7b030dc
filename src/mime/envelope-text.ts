// FETCH ENVELOPE (RFC 3501 §7.4.2 and §9 "envelope"): date, subject, from,
// sender, reply-to, to, cc, bcc, in-reply-to, message-id. Values go out as
// the message has them (encoded-words not decoded), as Dovecot sends them.
// Written as protocol text (see wire.ts for why); lives in mime/ so that the
// mail store can cache it at delivery.
import type { Envelope, EnvelopeAddress } from './types.ts';
import { imapNString } from './wire.ts';

function address(a: EnvelopeAddress): string {
  return `(${imapNString(a.name)} ${imapNString(a.adl)} ${imapNString(a.mailbox)} ${imapNString(a.host)})`;
}

/** "(" 1*address ")" / nil; addresses follow each other without a space, as in RFC 3501's grammar and Dovecot. */
function addressList(list: readonly EnvelopeAddress[] | null): string {
  if (list === null || list.length === 0) return 'NIL';
  let out = '(';
  for (const a of list) out += address(a);
  return out + ')';
}

/** The envelope as protocol text: "(date subject (from) ... message-id)". */
export function envelopeText(env: Envelope): string {
  return `(${imapNString(env.date)} ${imapNString(env.subject)} ${addressList(env.from)} ${addressList(env.sender)} ${addressList(env.replyTo)} `
    + `${addressList(env.to)} ${addressList(env.cc)} ${addressList(env.bcc)} ${imapNString(env.inReplyTo)} ${imapNString(env.messageId)})`;
}

/** An envelope of all NIL, for a message whose tree has none (should not happen). */
export const EMPTY_ENVELOPE: Envelope = {
  date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null,
};

