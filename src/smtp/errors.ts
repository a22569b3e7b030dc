// The one table from Sealpost error codes to SMTP replies (RFC 5321 §4.2,
// enhanced status codes RFC 3463). Anything not in the table is a bug:
// it becomes `451 4.3.0` and is logged with its stack.
import type { Logger } from 'pino';
import { SealpostError } from '../errors/index.ts';

/** An Error carrying the reply code smtp-server sends (it reads `responseCode`). */
export interface SmtpReplyError extends Error {
  responseCode: number;
}

export function smtpReply(code: number, text: string): SmtpReplyError {
  return Object.assign(new Error(text), { responseCode: code });
}

/** `text` is the reply; with `own: true` the error's message (which names the recipient) follows the enhanced code. */
const TABLE: Record<string, { code: number; text: string; own?: true }> = {
  AUTH_FAILED: { code: 535, text: '5.7.8 Authentication credentials invalid' },
  AUTH_THROTTLED: { code: 454, text: '4.7.0 Too many failed logins, try again later' },
  LIMIT: { code: 552, text: '5.3.4 Message size exceeds fixed limit' },
  NOT_FOUND: { code: 550, text: '5.1.1', own: true },
  INVALID: { code: 501, text: '5.5.4 Invalid arguments' },
  NOT_ALLOWED: { code: 550, text: '5.7.1 Not allowed' },
  // Secure pipeline (pipeline/errors.ts, relay/smarthost.ts, mailstore LOCKED).
  NO_KEY: { code: 550, text: '5.7.1', own: true },
  NO_RELAY: { code: 550, text: '5.1.1', own: true },
  SENDER_LOCKED: { code: 451, text: '4.7.0', own: true },
  LOCKED: { code: 451, text: '4.7.0', own: true },
  // The relay's message names the recipients and quotes the provider's reply (password scrubbed).
  RELAY_TEMPORARY: { code: 451, text: '4.4.1', own: true },
  RELAY_REJECTED: { code: 554, text: '5.7.1', own: true },
  // Another Sealpost node (pipeline/peers.ts): its key or record cannot be had now.
  PEER_KEY_UNAVAILABLE: { code: 451, text: '4.4.1', own: true },
  PEER_UNKNOWN_NODE: { code: 451, text: '4.4.1', own: true },
  // The sender's expiry request (pipeline/message.ts); 5.6.0: a problem with the message's content.
  EXPIRY_PAST: { code: 554, text: '5.6.0', own: true },
  EXPIRY_INVALID: { code: 554, text: '5.6.0', own: true },
  EXPIRY_OUTSIDE: { code: 554, text: '5.7.0', own: true },
  CUSTODY_UNAVAILABLE: { code: 451, text: '4.7.0', own: true },
  BLOCK_NOT_FOUND: { code: 451, text: '4.3.0 Storage error, try again later' },
  BLOCK_CORRUPT: { code: 451, text: '4.3.0 Storage error, try again later' },
  CHAIN_UNAVAILABLE: { code: 451, text: '4.3.0 Ledger unavailable, try again later' },
};

/** Replies are one line (RFC 5321 §4.2: multi-line replies need the code on each line). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 400);
}

/** Maps any thrown value to the reply for it. */
export function toSmtpError(error: unknown, log: Logger): SmtpReplyError {
  if (error instanceof SealpostError) {
    const entry = TABLE[error.code];
    if (entry !== undefined) return smtpReply(entry.code, entry.own === true ? `${entry.text} ${oneLine(error.message)}` : entry.text);
  }
  log.error({ err: error }, 'BUG: unexpected error in SMTP handler');
  return smtpReply(451, '4.3.0 Local error in processing, try again later');
}
