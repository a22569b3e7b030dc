// Message flag rules shared by every MailStore backend (RFC 3501 §2.3.2):
// system flags are matched case-insensitively and stored in their canonical
// spelling, keywords keep the spelling first sent, \Recent is session state and
// never stored, and STORE's +FLAGS / -FLAGS / FLAGS (§6.4.6) are computed here.
import { ValidationError } from '../errors/index.ts';
import type { FlagMode } from './types.ts';

export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;

const CANONICAL = new Map<string, string>(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

// flag = "\" atom / atom (RFC 3501 §9): no CTL, SP, atom-specials or "]"
// (resp-specials). A space would also break the space-joined storage form.
const FLAG_RE = /^\\?[^\x00-\x20\x7f(){%*"\\\]]+$/;

/**
 * Canonicalises and de-duplicates a flag list; drops \Recent.
 * @throws ValidationError (field "flags") for a flag that is not an atom.
 */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const flag of flags) {
    if (!FLAG_RE.test(flag)) throw new ValidationError('flags', `invalid flag ${JSON.stringify(flag)}`);
    const key = flag.toLowerCase();
    if (key === '\\recent' || seen.has(key)) continue;
    seen.add(key);
    out.push(CANONICAL.get(key) ?? flag);
  }
  return out;
}

/** Whether `flags` (already normalised) contains `flag`, case-insensitively. */
export function hasFlag(flags: readonly string[], flag: string): boolean {
  const key = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === key);
}

/**
 * The flags after a STORE, or null when the message's flags would not change.
 * `current` and `given` must already be normalised.
 */
export function applyFlags(current: readonly string[], mode: FlagMode, given: readonly string[]): string[] | null {
  const currentKeys = new Set(current.map((f) => f.toLowerCase()));
  const givenKeys = new Set(given.map((f) => f.toLowerCase()));
  if (mode === 'add') {
    const added = given.filter((f) => !currentKeys.has(f.toLowerCase()));
    return added.length === 0 ? null : [...current, ...added];
  }
  if (mode === 'remove') {
    const kept = current.filter((f) => !givenKeys.has(f.toLowerCase()));
    return kept.length === current.length ? null : kept;
  }
  const same = currentKeys.size === givenKeys.size && [...givenKeys].every((k) => currentKeys.has(k));
  return same ? null : [...given];
}
