// Helpers for command handlers reading parser tokens (RFC 3501 §9: astring,
// nil, atom, parenthesised list). Each throws ImapParseError (answered BAD)
// naming what it expected, so handlers stay short.
import { ImapParseError } from './errors.ts';
import type { AtomToken, Token } from './types.ts';

const utf8 = new TextDecoder('utf-8');

function describe(t: Token | undefined): string {
  if (!t) return 'nothing';
  if (t.type === 'list') return 'a list';
  if (t.type === 'string') return t.literal ? 'a literal' : 'a quoted string';
  return `"${t.value.slice(0, 30)}"`;
}

/** The text of an atom, or a quoted string / literal decoded as UTF-8.
 * @throws {ImapParseError} for a list or a missing token */
export function tokenText(t: Token | undefined): string {
  if (t?.type === 'atom') return t.value;
  if (t?.type === 'string') return utf8.decode(t.value);
  throw new ImapParseError(`Expected text, got ${describe(t)}`);
}

/** True for the atom NIL (any case). A quoted "NIL" is a string, not nil. */
export function isNil(t: Token | undefined): boolean {
  return t?.type === 'atom' && t.section === undefined && t.value.toUpperCase() === 'NIL';
}

/** A plain atom (no section); returns its value as sent.
 * @throws {ImapParseError} naming `what` */
export function expectAtom(t: Token | undefined, what: string): string {
  if (t?.type !== 'atom' || t.section !== undefined) throw new ImapParseError(`Expected ${what}, got ${describe(t)}`);
  return t.value;
}

/** An atom that may carry a FETCH section / partial.
 * @throws {ImapParseError} naming `what` */
export function expectAtomToken(t: Token | undefined, what: string): AtomToken {
  if (t?.type !== 'atom') throw new ImapParseError(`Expected ${what}, got ${describe(t)}`);
  return t;
}

/** An astring (atom, quoted string or literal) as UTF-8 text.
 * @throws {ImapParseError} naming `what` */
export function expectString(t: Token | undefined, what: string): string {
  if (t?.type === 'string') return utf8.decode(t.value);
  if (t?.type === 'atom' && t.section === undefined) return t.value;
  throw new ImapParseError(`Expected ${what}, got ${describe(t)}`);
}

/** The items of a parenthesised list.
 * @throws {ImapParseError} naming `what` */
export function expectList(t: Token | undefined, what: string): Token[] {
  if (t?.type !== 'list') throw new ImapParseError(`Expected a parenthesised ${what}, got ${describe(t)}`);
  return t.items;
}
