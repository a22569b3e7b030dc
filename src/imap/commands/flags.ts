// Flag lists in commands (RFC 3501 §2.3.2, §9 flag-list): system flags are
// case-insensitive and canonicalised; keywords are atoms kept as sent.
import type { Token } from '../protocol/types.ts';
import { ImapParseError } from './util.ts';

const SYSTEM: Record<string, string> = {
  '\\SEEN': '\\Seen',
  '\\ANSWERED': '\\Answered',
  '\\FLAGGED': '\\Flagged',
  '\\DELETED': '\\Deleted',
  '\\DRAFT': '\\Draft',
};

/** RFC 3501 atom-specials minus "\\" (checked separately) plus "]" (not in flag-keyword). */
const KEYWORD = /^[^\s(){%*"\\\]\x00-\x1f\x7f]+$/;

/** Parses a flag list (or one bare flag); \Recent is dropped (it cannot be stored, RFC 3501 §2.3.2). */
export function parseFlagList(t: Token | undefined): string[] {
  if (!t) throw new ImapParseError('Missing flag list');
  const items = t.type === 'list' ? t.items : [t];
  const out: string[] = [];
  for (const item of items) {
    if (item.type !== 'atom' || item.section || item.partial) throw new ImapParseError('Flags must be atoms');
    const f = item.value;
    if (f.startsWith('\\')) {
      const canon = SYSTEM[f.toUpperCase()];
      if (canon) out.push(canon);
      else if (f.toUpperCase() !== '\\RECENT') throw new ImapParseError(`Invalid system flag ${f.slice(0, 30)}`);
    } else if (KEYWORD.test(f) && f.length <= 100) out.push(f);
    else throw new ImapParseError(`Invalid keyword ${f.slice(0, 30)}`);
  }
  return [...new Set(out)];
}
