// The protocol layer's one error: malformed client input (RFC 3501 §7.1.5,
// answered with BAD). Carries the command tag when it could be read, so the
// session can answer tagged rather than untagged.
import { SealpostError } from '../../errors/index.ts';

export class ImapParseError extends SealpostError {
  /** the command's tag, or null when even the tag was unreadable */
  readonly tag: string | null;
  constructor(message: string, tag: string | null = null, options?: { cause?: unknown }) {
    super('IMAP_PARSE', message, options);
    this.name = 'ImapParseError';
    this.tag = tag;
  }
}

/** RFC 3501 §9: tag = 1*<any ASTRING-CHAR except "+">. */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

// ASTRING-CHAR is ATOM-CHAR plus "]"; ATOM-CHAR is CHAR minus ( ) { SP CTL % * " \ ].
const TAG_RE = /^[\x21\x23-\x24\x26-\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]{1,64}$/;
