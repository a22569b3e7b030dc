// Argument helpers shared by command handlers: reading astrings, mailbox
// names (modified UTF-7, RFC 3501 §5.1.3) and resolving sequence sets against
// the session's view (RFC 3501 §6.4.8, §9 seq-number / sequence-set).
import { SealpostError } from '../../errors/index.ts';
import type { MailboxInfo, Uid } from '../../mailstore/types.ts';
import { expectAtom, expectList, expectString } from '../protocol/args.ts';
import { ImapParseError } from '../protocol/errors.ts';
import { normaliseRanges, parseSequenceSet, resolveSequenceSet, type SeqRange } from '../protocol/seqset.ts';
import type { Token } from '../protocol/types.ts';
import { decodeMailboxName, encodeMailboxName } from '../protocol/utf7.ts';
import type { SelectedMailbox } from '../selected.ts';
import type { Session } from '../session.ts';

export { ImapParseError };

/** An astring argument (atom, quoted string or literal) as text. */
export const astring = expectString;

/** An atom argument, upper-cased. */
export function atomArg(t: Token | undefined, what: string): string {
  return expectAtom(t, what).toUpperCase();
}

export const listArg = expectList;

export function numberArg(t: Token | undefined, what: string): number {
  const text = t?.type === 'atom' ? t.value : '';
  if (!/^\d{1,19}$/.test(text)) throw new ImapParseError(`Expected a number for ${what}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new ImapParseError(`${what} out of range`);
  return n;
}

export function expectArgs(args: Token[], min: number, max: number, usage: string): void {
  if (args.length < min || args.length > max) throw new ImapParseError(`Usage: ${usage}`);
}

/** A mailbox name argument, decoded to Unicode with INBOX canonicalised. */
export function mailboxArg(t: Token | undefined): string {
  const wire = astring(t, 'mailbox name');
  let name: string;
  try {
    name = decodeMailboxName(wire);
  } catch {
    throw new ImapParseError('Mailbox name is not valid modified UTF-7');
  }
  return canonicalMailboxName(name);
}

/** INBOX is case-insensitive (RFC 3501 §5.1), also as the first component of a path. */
export function canonicalMailboxName(name: string): string {
  if (/^inbox$/i.test(name)) return 'INBOX';
  if (/^inbox\//i.test(name)) return 'INBOX' + name.slice(5);
  return name;
}

export function wireMailboxName(name: string): string {
  return encodeMailboxName(name);
}

export function requireSelected(session: Session): SelectedMailbox {
  if (!session.selected) throw new ImapParseError('No mailbox selected');
  return session.selected;
}

/** Finds a mailbox of the logged-in account, or throws NO [NONEXISTENT]. */
export async function requireMailbox(session: Session, name: string): Promise<MailboxInfo> {
  const info = await session.store.getMailbox(session.account!.id, name);
  if (!info) throw new SealpostError('NOT_FOUND', `Mailbox doesn't exist: ${name}`);
  return info;
}

/** Parses a sequence set, answering BAD for bad syntax. */
export function sequenceSetArg(text: string): SeqRange[] {
  try {
    return parseSequenceSet(text);
  } catch (err) {
    if (err instanceof SealpostError) throw err;
    throw new ImapParseError(`Invalid sequence set: ${text.slice(0, 40)}`);
  }
}

/**
 * The UIDs a sequence set names in the selected mailbox, ascending.
 * byUid: the set holds UIDs (UID commands), else sequence numbers.
 * "*" is the largest number in use; for UIDs a range such as 10:* names
 * the last message even when its UID is below 10 (RFC 3501 §6.4.8).
 */
export function resolveSet(selected: SelectedMailbox, text: string, byUid: boolean): Uid[] {
  const ranges = sequenceSetArg(text);
  const uids = selected.uids;
  const n = uids.length;
  if (byUid) return resolveSequenceSet(ranges, uids, n > 0 ? uids[n - 1]! : 0) as Uid[];
  // RFC 3501 §9: a sequence number beyond the mailbox is an error, not an empty match.
  if (n === 0) throw new ImapParseError('Invalid message sequence number: mailbox is empty');
  for (const [, hi] of normaliseRanges(ranges, n)) {
    if (hi > n) throw new ImapParseError(`Invalid message sequence number: ${hi} (mailbox has ${n})`);
  }
  return resolveSequenceSet(ranges, uids.map((_, i) => i + 1), n).map((seq) => uids[seq - 1]!);
}
