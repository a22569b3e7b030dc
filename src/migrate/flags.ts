// IMAP flags (RFC 3501 §2.3.2) from what migration sources keep instead:
// Maildir info letters (cr.yp.to/proto/maildir.html, Dovecot's lowercase
// keyword letters with dovecot-keywords), and the mbox status headers that
// mail programs write: Status:/X-Status: (UW-IMAP, mutt, Dovecot),
// X-Keywords:/Keywords: (Dovecot, mutt) and X-Mozilla-Status:/X-Mozilla-Keys:
// (Thunderbird, the commonest source of mbox files).
import { normalizeFlags } from '../mailstore/flags.ts';
import type { HeaderField } from '../mime/headers.ts';

/** Maildir info letters (after ":2,") -> system flags. "P" (passed) has no IMAP flag. */
const MAILDIR_LETTERS: Readonly<Record<string, string>> = {
  R: '\\Answered',
  S: '\\Seen',
  T: '\\Deleted',
  D: '\\Draft',
  F: '\\Flagged',
};

/** Status: and X-Status: letters -> system flags. "O" (old: seen by the
 *  delivery program, not yet read) only means "not \Recent", which is no flag. */
const STATUS_LETTERS: Readonly<Record<string, string>> = {
  R: '\\Seen',
  A: '\\Answered',
  F: '\\Flagged',
  D: '\\Deleted',
  T: '\\Draft',
};

/** Thunderbird's X-Mozilla-Status bits (nsMsgMessageFlags.h). Expunged means
 *  deleted but not yet compacted away: kept, marked \Deleted. */
const MOZILLA_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x0001, '\\Seen'],
  [0x0002, '\\Answered'],
  [0x0004, '\\Flagged'],
  [0x0008, '\\Deleted'],
  [0x1000, '$Forwarded'],
];

// A keyword is an atom (RFC 3501 §9 flag-keyword): printable ASCII without
// SP and "(){%*\"\\]" (so never a "\" system flag).
const KEYWORD = /^[\x21-\x7e]+$/;
const ATOM_SPECIALS = /[(){%*"\\\]]/;

/** Whether `word` may be an IMAP keyword; anything else is dropped, not fixed up. */
export function isKeyword(word: string): boolean {
  return KEYWORD.test(word) && !ATOM_SPECIALS.test(word);
}

/** Keywords listed in a dovecot-keywords file ("<index> <keyword>" lines), by index. */
export function parseDovecotKeywords(text: string): Array<string | undefined> {
  const keywords: Array<string | undefined> = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\d{1,2}) (\S+)$/.exec(line);
    if (m && Number(m[1]) < 26 && isKeyword(m[2]!)) keywords[Number(m[1])] = m[2]!;
  }
  return keywords;
}

/** Flags from a Maildir info string (the part after ":2,"). Lowercase letters
 *  are keywords a = 0 ... z = 25 of `keywords`; letters with no entry are dropped. */
export function maildirInfoFlags(info: string, keywords: ReadonlyArray<string | undefined>): string[] {
  const flags: string[] = [];
  for (const letter of info) {
    const system = MAILDIR_LETTERS[letter];
    if (system !== undefined) flags.push(system);
    else if (letter >= 'a' && letter <= 'z') {
      const keyword = keywords[letter.charCodeAt(0) - 0x61];
      if (keyword !== undefined) flags.push(keyword);
    }
  }
  return normalizeFlags(flags);
}

/** Flags from an mbox message's header fields (they stay in the message). */
export function mboxHeaderFlags(fields: readonly HeaderField[]): string[] {
  const flags: string[] = [];
  for (const field of fields) {
    switch (field.lowerName) {
      case 'status':
      case 'x-status':
        for (const letter of field.value) {
          const flag = STATUS_LETTERS[letter];
          if (flag !== undefined) flags.push(flag);
        }
        break;
      case 'x-mozilla-status': {
        if (!/^[0-9a-f]{1,4}$/i.test(field.value)) break;
        const bits = Number.parseInt(field.value, 16);
        for (const [bit, flag] of MOZILLA_BITS) if ((bits & bit) !== 0) flags.push(flag);
        break;
      }
      case 'x-keywords':
      case 'keywords':
      case 'x-mozilla-keys':
        // Dovecot and Thunderbird separate with spaces, others with commas.
        for (const word of field.value.split(/[\s,]+/)) {
          if (isKeyword(word)) flags.push(word);
        }
        break;
    }
  }
  return normalizeFlags(flags);
}
