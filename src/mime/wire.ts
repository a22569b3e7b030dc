// IMAP string syntax written straight to protocol text (RFC 3501 §4.3, §9
// nstring / string), for ENVELOPE and BODYSTRUCTURE: they are built as one
// 'raw' string rather than a tree of values because FETCH ENVELOPE
// BODYSTRUCTURE over a whole mailbox is the hot path of a client's first sync,
// and because body-type-mpart puts no space between its parts (RFC 3501 §9
// "1*body SP media-subtype"), which the generic list compiler cannot express.
// The quoting rules are the compiler's (protocol/compiler.ts).

/** Longest string sent quoted; longer ones go as literals (compiler.ts MAX_QUOTED). */
const MAX_QUOTED = 1024;
/** CHAR minus NUL, CR, LF: what a quoted string may hold (RFC 3501 §9 TEXT-CHAR). */
const QUOTABLE = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const HAS_SPECIAL = /["\\]/;
const NEEDS_ESCAPE = /["\\]/g;

/** A string: quoted when short and 7-bit without CR/LF, a literal otherwise.
 *  Literal lengths count UTF-8 octets, as the compiler writes the text as UTF-8. */
export function imapString(s: string): string {
  if (s.length <= MAX_QUOTED && QUOTABLE.test(s)) {
    return HAS_SPECIAL.test(s) ? `"${s.replace(NEEDS_ESCAPE, '\\$&')}"` : `"${s}"`;
  }
  return `{${Buffer.byteLength(s, 'utf8')}}\r\n${s}`;
}

/** nstring: NIL for null. */
export function imapNString(s: string | null | undefined): string {
  return s === null || s === undefined ? 'NIL' : imapString(s);
}
