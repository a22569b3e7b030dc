// Types of the migration sources: what an mbox, Maildir or .eml reader yields
// and the options they share. Readers only read; the import pipeline decides
// where messages go (DESIGN.md, "migrate/ ... same path as inbound").
import type { MigrateError } from './errors.ts';

/** One message read from a source. */
export interface SourceMessage {
  /** the message bytes as the source holds them, except every line ending is
   *  CRLF (RFC 5322 §2.1); mbox ">From " quoting is undone */
  raw: Uint8Array;
  /** IMAP system flags ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
   *  "\\Draft") and keywords ("$Label1"), canonical and without duplicates;
   *  never "\\Recent" */
  flags: string[];
  /** INTERNALDATE to give the message, or null when the source has none
   *  (the importer then uses the time of import) */
  internalDate: Date | null;
  /** stable id of the message within the source, for resumable and
   *  idempotent imports: an mbox's byte offset of the "From " line (decimal),
   *  a Maildir's "<folder>/<unique name>", an .eml file's absolute path */
  sourceId: string;
  /** raw.byteLength */
  size: number;
}

/** A message from a Maildir, with the folder it lies in. */
export interface MaildirSourceMessage extends SourceMessage {
  /** folder name with "/" as hierarchy separator: "INBOX", "Sent", "Archive/2020" */
  folder: string;
}

/** One folder of a Maildir++ tree. */
export interface MaildirFolder {
  /** Unicode name with "/" as hierarchy separator; the root is "INBOX" */
  name: string;
  /** absolute path of the folder's directory (the one holding cur/ and new/) */
  path: string;
  /** listed in the Maildir's subscriptions file; true for INBOX, and for every
   *  folder when the Maildir has no subscriptions file */
  subscribed: boolean;
}

/** Options every reader takes. */
export interface SourceOptions {
  /** largest message, in bytes after CRLF normalisation; default 64 MiB */
  maxMessageSize?: number;
  /**
   * Called for a message that cannot be imported (MIGRATE_TOO_LARGE,
   * MIGRATE_UNREADABLE, MIGRATE_NOT_FOUND for a file that vanished,
   * MIGRATE_NOT_MESSAGE), which is then skipped and reading goes on. Without
   * it the iterator throws that error, so no message is ever dropped silently.
   * Errors that make the whole source unusable (MIGRATE_NOT_MBOX, a missing
   * mbox or Maildir) are always thrown.
   */
  onSkip?: (error: MigrateError) => void;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
