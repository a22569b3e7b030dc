// Maps errors to tagged IMAP replies (RFC 3501 §7.1; response codes from
// RFC 5530). One table: a SealpostError's code decides the reply; anything
// else is a bug, answered NO [SERVERBUG] and logged.
import type { Logger } from 'pino';
import { SealpostError } from '../errors/index.ts';
import type { CommandResult } from './commands/types.ts';

const BY_CODE: Record<string, { status: 'NO' | 'BAD'; code?: string }> = {
  IMAP_PARSE: { status: 'BAD' },
  INVALID: { status: 'BAD' },
  NOT_FOUND: { status: 'NO', code: 'NONEXISTENT' },
  ALREADY_EXISTS: { status: 'NO', code: 'ALREADYEXISTS' },
  NOT_ALLOWED: { status: 'NO', code: 'CANNOT' },
  LIMIT: { status: 'NO', code: 'LIMIT' },
  AUTH_FAILED: { status: 'NO', code: 'AUTHENTICATIONFAILED' },
  AUTH_THROTTLED: { status: 'NO', code: 'UNAVAILABLE' },
  BAD_CHARSET: { status: 'NO', code: 'BADCHARSET (UTF-8 US-ASCII)' },
  UNKNOWN_CTE: { status: 'NO', code: 'UNKNOWN-CTE' },
  // the account's cache key is not in memory yet: try again after a login
  LOCKED: { status: 'NO', code: 'UNAVAILABLE' },
  // the body was sealed under a key the account no longer has
  UNREADABLE: { status: 'NO', code: 'CORRUPTION' },
};

export function errorToResult(err: unknown, log: Logger, command: string): CommandResult {
  if (err instanceof SealpostError) {
    const mapped = BY_CODE[err.code];
    if (mapped) {
      const text = oneLine(err.message);
      return mapped.code ? { status: mapped.status, code: mapped.code, text } : { status: mapped.status, text };
    }
  }
  log.error({ err, command }, 'IMAP command failed with an unexpected error');
  return { status: 'NO', code: 'SERVERBUG', text: 'Internal error, the server log has details' };
}

/** Reply text must be one line of printable characters. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\0]+/g, ' ').slice(0, 400);
}
