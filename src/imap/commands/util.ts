// Argument helpers shared by command handlers: reading astrings, mailbox
// names (modified UTF-7, RFC 3501 §5.1.3) and resolving sequence sets against
// the session's view (RFC 3501 §6.4.8, §9 seq-number / sequence-set).
import { SealpostError } from '../../errors/index.ts';
import type { MailboxInfo, Uid } from '../../mailstore/types.ts';
import { ImapParseError } from '../protocol/errors.ts';
import { parseSequenceSet } from '../protocol/seqset.ts';
import type { Token } from '../protocol/types.ts';
import { decodeMailboxName, encodeMailboxName } from '../protocol/utf7.ts';
import type { SelectedMailbox } from '../selected.ts';
import type { Session } from '../session.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });

export { ImapParseError };

/** An astring argument (atom, quoted string or literal) as text. */
export function astring(t: Token | undefined, what: string): string {
  if (!t) throw new ImapParseError(`Missing ${what}`);
  if (t.type === 'atom') {
    if (t.section || t.partial) throw new ImapParseError(`Invalid ${what}`);
    return t.value;
  }
  if (t.type === 'string') return decoder.decode(t.value);
  throw new ImapParseError(`Expected ${what}, got a list`);
}

/** An atom argument, upper-cased. */
export function atomArg(t: Token | undefined, what: string): string {
  if (!t || t.type !== 'atom') throw new ImapParseError(`Expected ${what}`);
  return t.value.toUpperCase();
}

export function listArg(t: Token | undefined, what: string): Token[] {
  if (!t || t.type !== 'list') throw new ImapParseError(`Expected a parenthesised ${what}`);
  return t.items;
}

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

/**
 * The UIDs a sequence set names in the selected mailbox, ascending.
 * byUid: the set holds UIDs (UID commands), else sequence numbers.
 * "*" is the largest number in use; for UIDs a range such as 10:* names
 * the last message even when its UID is below 10 (RFC 3501 §6.4.8).
 */
export function resolveSet(selected: SelectedMailbox, text: string, byUid: boolean): Uid[] {
  let ranges;
  try {
    ranges = parseSequenceSet(text);
  } catch (err) {
    if (err instanceof SealpostError) throw err;
    throw new ImapParseError(`Invalid sequence set: ${text.slice(0, 40)}`);
  }
  const uids = selected.uids;
  const n = uids.length;
  if (n === 0) {
    // RFC 3501: a sequence-number set on an empty mailbox is invalid; UID sets are just empty.
    if (!byUid) throw new ImapParseError('Invalid message sequence number: mailbox is empty');
    return [];
  }
  const maxUid = uids[n - 1]!;
  const picked = new Set<Uid>();
  for (const r of ranges) {
    if (byUid) {
      let a = r.start === '*' ? maxUid : r.start;
      let b = r.end === '*' ? maxUid : r.end;
      if (a > b) [a, b] = [b, a];
      // Binary search the first uid >= a, then walk to b.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (uids[mid]! < a) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < n && uids[i]! <= b; i++) picked.add(uids[i]!);
    } else {
      let a = r.start === '*' ? n : r.start;
      let b = r.end === '*' ? n : r.end;
      if (a > b) [a, b] = [b, a];
      if (b > n) throw new ImapParseError(`Invalid message sequence number: ${b} (mailbox has ${n})`);
      for (let i = a; i <= b; i++) picked.add(uids[i - 1]!);
    }
  }
  return [...picked].sort((x, y) => x - y);
}
