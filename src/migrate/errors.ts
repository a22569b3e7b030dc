// Errors of the migration sources (mbox, Maildir, .eml): one class whose
// stable `code` names the condition, with the file and, for an mbox, the byte
// offset where it was met. Callers and tests check `code`, never the message.
import { SealpostError } from '../errors/index.ts';

export type MigrateErrorCode =
  /** the file or directory does not exist (or vanished while being read) */
  | 'MIGRATE_NOT_FOUND'
  /** the file does not start with a "From " line (RFC 4155): not an mbox */
  | 'MIGRATE_NOT_MBOX'
  /** the directory has neither cur/ nor new/ nor Maildir++ subfolders */
  | 'MIGRATE_NOT_MAILDIR'
  /** an .eml file is empty or does not start with a header field (RFC 5322 §2.2) */
  | 'MIGRATE_NOT_MESSAGE'
  /** one message is larger than `maxMessageSize` */
  | 'MIGRATE_TOO_LARGE'
  /** the file exists but cannot be read (permissions, a directory, I/O error) */
  | 'MIGRATE_UNREADABLE'
  // IMAP sources (imap-source.ts): `file` is the IMAP URL (RFC 5092) concerned,
  // imap://USER@HOST:PORT for the server, and never holds the password. They also
  // use MIGRATE_NOT_FOUND (a folder gone), MIGRATE_UNREADABLE (a folder or message
  // the server refuses to give) and MIGRATE_TOO_LARGE.
  /** the IMAP server cannot be reached (refused, timed out, unknown host, connection lost) */
  | 'MIGRATE_CONNECT_FAILED'
  /** TLS failed: handshake, an untrusted or mismatched certificate, or STARTTLS not offered */
  | 'MIGRATE_TLS_FAILED'
  /** the IMAP server refused the user name or password */
  | 'MIGRATE_AUTH_FAILED'
  /** a folder's UIDVALIDITY is not the one listed (the folder was recreated): its
   *  message ids no longer hold, so list the folders again */
  | 'MIGRATE_SOURCE_CHANGED';

export class MigrateError extends SealpostError {
  declare readonly code: MigrateErrorCode;
  /** the file or directory concerned, as the caller named it */
  readonly file: string;
  /** byte offset in `file` (an mbox message's "From " line), null when not meaningful */
  readonly offset: number | null;
  constructor(code: MigrateErrorCode, file: string, offset: number | null, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MigrateError';
    this.file = file;
    this.offset = offset;
  }
}

/** An fs error as a MigrateError: ENOENT is MIGRATE_NOT_FOUND, anything else
 *  (EACCES, EISDIR, EIO...) MIGRATE_UNREADABLE; the fs error is the cause. */
export function fsError(err: unknown, file: string, offset: number | null = null): MigrateError {
  if (err instanceof MigrateError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return new MigrateError('MIGRATE_NOT_FOUND', file, offset, `${file}: not found`, { cause: err });
  return new MigrateError('MIGRATE_UNREADABLE', file, offset, `${file}: cannot read (${code ?? String(err)})`, { cause: err });
}
