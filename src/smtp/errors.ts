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

const TABLE: Record<string, { code: number; text: string }> = {
  AUTH_FAILED: { code: 535, text: '5.7.8 Authentication credentials invalid' },
  AUTH_THROTTLED: { code: 454, text: '4.7.0 Too many failed logins, try again later' },
  LIMIT: { code: 552, text: '5.3.4 Message size exceeds fixed limit' },
  NOT_FOUND: { code: 550, text: '5.1.1 Mailbox unavailable' },
  INVALID: { code: 501, text: '5.5.4 Invalid arguments' },
  NOT_ALLOWED: { code: 550, text: '5.7.1 Not allowed' },
};

/** Maps any thrown value to the reply for it. */
export function toSmtpError(error: unknown, log: Logger): SmtpReplyError {
  if (error instanceof SealpostError) {
    const entry = TABLE[error.code];
    if (entry !== undefined) return smtpReply(entry.code, entry.text);
  }
  log.error({ err: error }, 'BUG: unexpected error in SMTP handler');
  return smtpReply(451, '4.3.0 Local error in processing, try again later');
}
