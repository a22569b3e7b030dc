// Mailbox name rules shared by every MailStore backend (RFC 3501 §5.1):
// validation at the store's edge, the case-insensitive INBOX (§5.1 "INBOX is
// case-insensitive"), and the hierarchy arithmetic that rename (§6.3.5) needs.
import { ValidationError } from '../errors/index.ts';
import { MAILBOX_DELIMITER } from './types.ts';

export const MAX_MAILBOX_NAME = 255;

/** "inbox", "Inbox/x" -> "INBOX", "INBOX/x": the first component INBOX is case-insensitive. */
export function canonicalMailboxName(name: string): string {
  const cut = name.indexOf(MAILBOX_DELIMITER);
  const first = cut === -1 ? name : name.slice(0, cut);
  if (first.toUpperCase() !== 'INBOX' || first === 'INBOX') return name;
  return 'INBOX' + (cut === -1 ? '' : name.slice(cut));
}

/**
 * Validates a mailbox name given by a client and returns its canonical form.
 * @throws ValidationError (field "name") for an empty name, NUL/CR/LF, an empty
 *   component ("a//b", "/a"), a trailing delimiter, or more than 255 characters.
 */
export function validateMailboxName(name: string): string {
  if (name.length === 0) throw new ValidationError('name', 'mailbox name is empty');
  if (name.length > MAX_MAILBOX_NAME) throw new ValidationError('name', `mailbox name is longer than ${MAX_MAILBOX_NAME} characters`);
  if (/[\0\r\n]/.test(name)) throw new ValidationError('name', 'mailbox name contains NUL, CR or LF');
  if (name.endsWith(MAILBOX_DELIMITER)) throw new ValidationError('name', 'mailbox name ends with the hierarchy delimiter');
  if (name.split(MAILBOX_DELIMITER).some((part) => part.length === 0)) throw new ValidationError('name', 'mailbox name has an empty component');
  return canonicalMailboxName(name);
}

/** True when `name` is a strict descendant of `parent` ("a/b" of "a"). */
export function isDescendant(name: string, parent: string): boolean {
  return name.startsWith(parent + MAILBOX_DELIMITER);
}

/** The new name of `name` (the renamed mailbox or one of its descendants). */
export function renamedName(name: string, from: string, to: string): string {
  return name === from ? to : to + name.slice(from.length);
}

/** Sort order for LIST-like output: INBOX first, then by name. */
export function compareMailboxNames(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : 1;
}
