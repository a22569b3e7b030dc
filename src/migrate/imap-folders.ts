// The folders of an IMAP account as Sealpost names them, for the IMAP reader
// (imap-source.ts): plain functions over a LIST answer (RFC 3501 §6.3.8,
// RFC 5258), so the rules can be read and tested without a server.
//
// Selectable only: a mailbox LIST marks \Noselect or \NonExistent (RFC 5258
// §3.4, a parent that exists only as part of a child's name) holds no mail and
// is left out. Its children keep their full names.
//
// Names: the decoded (Unicode) path without the personal namespace prefix
// ("INBOX." on Courier and Cyrus), split at the server's delimiter and joined
// with "/" (MAILBOX_DELIMITER). A "/" inside one component on a server whose
// delimiter is not "/" ("a/b" in "INBOX.a/b") would create a level that is not
// there, so it becomes "_"; so do control characters, and an empty component
// (a stray "..") becomes "_" (Sealpost refuses empty components). INBOX is
// case-insensitive (RFC 3501 §5.1) and always "INBOX".
//
// Special use (RFC 6154), one folder per use, mapped to Sealpost's own folders:
// \Sent -> "Sent", \Drafts -> "Drafts", \Trash -> "Trash", \Junk -> "Junk",
// \Archive -> "Archive". A use comes from the LIST attribute (also the XLIST
// spelling \Spam for \Junk). For a use no listed folder carries as an
// attribute, a top-level folder (or one directly under Gmail's "[Gmail]" or
// "[Google Mail]") is taken by its name, compared case-insensitively with
// WELL_KNOWN below (English, German, French, Spanish, Italian, Dutch,
// Russian, Nordic, Polish and the names Outlook, Apple Mail, Yahoo and Gmail
// use). This goes a little beyond "names only when the server has no
// SPECIAL-USE": Dovecot always announces SPECIAL-USE yet marks only what its
// admin configured, and a user's "Spam" should still land in Junk.
// When several folders claim one use, the order is: attribute before name,
// a folder already called by the Sealpost name ("Junk" before "Spam"),
// shallower before deeper, then listing order. The first wins; the others keep
// their plain names and no special use.
//
// Children of a renamed folder move with it ("Sent Items/2019" ->
// "Sent/2019"). Names stay unique: a folder whose name is taken (a plain
// "Sent" beside a \Sent "Sent Items") gets " (2)", " (3)"... on its last level.
//
// Virtual folders: \All and \Flagged (Gmail's "All Mail" and "Starred"), and
// \Important (RFC 8457; Gmail's "Important") show messages that also lie in
// other folders; reading them would import every message twice. They are
// marked `virtual`; imap-source.ts leaves them out unless an include glob
// names them without wildcards.
import { compareMailboxNames } from '../mailstore/names.ts';
import { DEFAULT_MAILBOXES, MAILBOX_DELIMITER, type SpecialUse } from '../mailstore/types.ts';

/** One LIST answer line, decoded (as imapflow gives it). */
export interface ListedMailbox {
  /** the mailbox name, decoded from modified UTF-7, with the server's delimiter */
  path: string;
  /** the hierarchy delimiter; null for a flat namespace (RFC 3501 NIL) */
  delimiter: string | null;
  /** LIST attributes as the server sent them: "\\Noselect", "\\Sent", "\\HasChildren"... */
  attributes: readonly string[];
  subscribed: boolean;
}

export interface NamedMailbox extends ListedMailbox {
  /** the Sealpost name: Unicode, "/" between levels, unique in the listing */
  name: string;
  specialUse: SpecialUse | null;
  /** \All, \Flagged or \Important: its messages also lie in other folders */
  virtual: boolean;
}

/** Sealpost's folder for each special use: "Sent", "Drafts", ... */
const TARGET: ReadonlyMap<SpecialUse, string> = new Map(
  DEFAULT_MAILBOXES.flatMap((m) => (m.specialUse === null ? [] : [[m.specialUse, m.name] as const])),
);

/** LIST attributes (lower case) that give a special use; \Spam is Gmail's XLIST word. */
const ATTRIBUTES: ReadonlyMap<string, SpecialUse> = new Map([
  ['\\sent', '\\Sent'],
  ['\\drafts', '\\Drafts'],
  ['\\trash', '\\Trash'],
  ['\\junk', '\\Junk'],
  ['\\spam', '\\Junk'],
  ['\\archive', '\\Archive'],
]);

/** Attributes of views over other folders (RFC 6154 \All, \Flagged; RFC 8457 \Important; XLIST spellings). */
const VIRTUAL = new Set(['\\all', '\\allmail', '\\flagged', '\\starred', '\\important']);

/** Well-known folder names (lower case, NFC) of servers and clients without special-use attributes. */
const WELL_KNOWN: Readonly<Record<SpecialUse, readonly string[]>> = {
  '\\Sent': [
    'sent', 'sent items', 'sent messages', 'sent mail', 'sent-mail', 'sentmail',
    'gesendet', 'gesendete elemente', 'gesendete objekte', 'gesendete nachrichten',
    'envoyés', 'éléments envoyés', 'messages envoyés', 'enviados', 'elementos enviados',
    'posta inviata', 'inviati', 'verzonden', 'verzonden items', 'verzonden berichten',
    'отправленные', 'skickat', 'skickade objekt', 'sendt', 'sendte elementer', 'sendt post',
    'lähetetyt', 'wysłane', 'elementy wysłane', 'odeslané',
  ],
  '\\Drafts': [
    'drafts', 'draft', 'entwürfe', 'brouillons', 'borradores', 'bozze', 'concepten',
    'черновики', 'utkast', 'kladder', 'luonnokset', 'wersje robocze', 'koncepty',
  ],
  '\\Trash': [
    'trash', 'deleted', 'deleted items', 'deleted messages', 'bin', 'papierkorb',
    'gelöschte elemente', 'gelöschte objekte', 'corbeille', 'éléments supprimés',
    'papelera', 'elementos eliminados', 'cestino', 'posta eliminata', 'prullenbak',
    'verwijderde items', 'корзина', 'удаленные', 'удалённые', 'papperskorgen',
    'borttagna objekt', 'papirkurv', 'slettede elementer', 'roskakori', 'kosz',
    'elementy usunięte', 'koš',
  ],
  '\\Junk': [
    'junk', 'junk e-mail', 'junk email', 'junk mail', 'spam', 'bulk mail',
    'spamverdacht', 'unerwünscht', 'courrier indésirable', 'indésirables',
    'correo no deseado', 'posta indesiderata', 'ongewenste e-mail', 'спам',
    'нежелательная почта', 'skräppost', 'uønsket e-post', 'roskaposti', 'wiadomości-śmieci',
  ],
  '\\Archive': ['archive', 'archives', 'archiv', 'archief', 'archivio', 'archivo', 'архив', 'arkiv', 'arkisto', 'archiwum'],
};

const NAME_INDEX: ReadonlyMap<string, SpecialUse> = new Map(
  (Object.entries(WELL_KNOWN) as Array<[SpecialUse, readonly string[]]>).flatMap(([use, names]) => names.map((n) => [n, use] as const)),
);

/** Gmail's folder that holds its system labels; names are matched under it too. */
const GMAIL_ROOTS = new Set(['[gmail]', '[google mail]']);

interface Entry {
  mailbox: ListedMailbox;
  index: number;
  /** name levels after prefix removal and clean-up */
  levels: string[];
  plain: string;
  attributeUse: SpecialUse | null;
  nameUse: SpecialUse | null;
  virtual: boolean;
}

/**
 * Names the selectable mailboxes of a listing as Sealpost folders (see the
 * file header for the rules). Returns them INBOX first, then by name (so a
 * parent comes before its children).
 */
export function nameMailboxes(listed: readonly ListedMailbox[], namespacePrefix = ''): NamedMailbox[] {
  const entries: Entry[] = [];
  listed.forEach((mailbox, index) => {
    const attributes = new Set(mailbox.attributes.map((a) => a.toLowerCase()));
    if (attributes.has('\\noselect') || attributes.has('\\nonexistent')) return;
    const levels = nameLevels(mailbox.path, mailbox.delimiter, namespacePrefix);
    let attributeUse: SpecialUse | null = null;
    for (const a of attributes) attributeUse ??= ATTRIBUTES.get(a) ?? null;
    const virtual = [...attributes].some((a) => VIRTUAL.has(a));
    entries.push({ mailbox, index, levels, plain: levels.join(MAILBOX_DELIMITER), attributeUse, nameUse: virtual ? null : nameUse(levels), virtual });
  });

  // One winner per special use: attribute first, and names only for a use no attribute claims.
  const claimedByAttribute = new Set(entries.flatMap((e) => (e.attributeUse === null || e.virtual ? [] : [e.attributeUse])));
  const winners = new Map<Entry, SpecialUse>();
  for (const [use, target] of TARGET) {
    const candidates = entries.filter((e) => e.plain !== 'INBOX' && !e.virtual && !winners.has(e) &&
      (claimedByAttribute.has(use) ? e.attributeUse === use : e.nameUse === use));
    candidates.sort((a, b) => rank(a, target) - rank(b, target) || a.levels.length - b.levels.length || a.index - b.index);
    if (candidates[0] !== undefined) winners.set(candidates[0], use);
  }

  // INBOX, then the special-use winners, then the rest parents first: a child's name starts with its parent's.
  const order = [...entries].sort((a, b) => phase(a) - phase(b) || a.levels.length - b.levels.length || a.index - b.index);
  function phase(e: Entry): number {
    return e.plain === 'INBOX' ? 0 : winners.has(e) ? 1 : 2;
  }
  const claimed = new Set<string>();
  const finalName = new Map<string, string>(); // plain name -> Sealpost name, for children
  const out: NamedMailbox[] = [];
  for (const e of order) {
    const use = winners.get(e) ?? null;
    let base: string;
    if (use !== null) base = TARGET.get(use)!;
    else if (e.levels.length === 1) base = e.plain;
    else {
      const parentPlain = e.levels.slice(0, -1).join(MAILBOX_DELIMITER);
      base = (finalName.get(parentPlain) ?? parentPlain) + MAILBOX_DELIMITER + e.levels.at(-1)!;
    }
    const name = unique(base, claimed);
    claimed.add(name);
    if (!finalName.has(e.plain)) finalName.set(e.plain, name);
    out.push({ ...e.mailbox, name, specialUse: use, virtual: e.virtual });
  }
  return out.sort((a, b) => compareMailboxNames(a.name, b.name));
}

/** 0 for an attribute on a folder called Sealpost's way already, up to 3 for a name that differs. */
function rank(e: Entry, target: string): number {
  return (e.attributeUse !== null ? 0 : 2) + (e.levels.at(-1)?.toLowerCase() === target.toLowerCase() ? 0 : 1);
}

/** The special use a well-known name gives, for a top-level folder or one directly under [Gmail]. */
function nameUse(levels: readonly string[]): SpecialUse | null {
  const leaf = levels.at(-1);
  if (leaf === undefined) return null;
  if (levels.length === 2 && !GMAIL_ROOTS.has(levels[0]!.toLowerCase())) return null;
  if (levels.length > 2) return null;
  return NAME_INDEX.get(leaf.trim().toLowerCase().normalize('NFC')) ?? null;
}

/** `base`, or `base (2)`, `base (3)`... whichever is not taken yet. */
function unique(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** The cleaned name levels of a decoded path (see the file header). */
export function nameLevels(path: string, delimiter: string | null, namespacePrefix = ''): string[] {
  if (path.toUpperCase() === 'INBOX') return ['INBOX'];
  let rest = path;
  if (namespacePrefix !== '' && rest.startsWith(namespacePrefix) && rest.length > namespacePrefix.length) rest = rest.slice(namespacePrefix.length);
  const raw = delimiter === null || delimiter === '' ? [rest] : rest.split(delimiter);
  const levels = raw.map((level) => {
    const clean = level.replace(/[\x00-\x1f\x7f]/g, '_').replaceAll(MAILBOX_DELIMITER, '_');
    return clean === '' ? '_' : clean;
  });
  if (levels[0]!.toUpperCase() === 'INBOX') levels[0] = 'INBOX';
  return levels;
}

/**
 * Whether an include glob matches a folder: `*` matches any characters
 * (levels too), `%` any within one level (RFC 3501 §6.3.8 LIST wildcards),
 * everything else itself; a leading INBOX level matches case-insensitively.
 * Tried against the Sealpost name (levels split by "/") and against the
 * server's path (levels split by its delimiter).
 */
function globMatches(pattern: string, folder: { name: string; path: string; delimiter: string | null }): boolean {
  return globRegExp(pattern, MAILBOX_DELIMITER).test(inboxFirst(folder.name, MAILBOX_DELIMITER)) ||
    globRegExp(pattern, folder.delimiter).test(inboxFirst(folder.path, folder.delimiter));
}

/**
 * Whether a folder is read: without `include`, every folder but the virtual
 * ones; with it, a folder some glob matches, and a virtual one only when a
 * glob without wildcards names it ("*" is not a wish to import All Mail).
 */
export function isIncluded(folder: Pick<NamedMailbox, 'name' | 'path' | 'delimiter' | 'virtual'>, include?: readonly string[]): boolean {
  if (include === undefined) return !folder.virtual;
  return include.some((glob) => (!folder.virtual || !/[*%]/.test(glob)) && globMatches(glob, folder));
}

function globRegExp(pattern: string, delimiter: string | null): RegExp {
  const level = delimiter === null || delimiter === '' ? '.*' : `[^${escapeRegExp(delimiter)}]*`;
  let source = '';
  for (const c of inboxFirst(pattern, delimiter)) source += c === '*' ? '.*' : c === '%' ? level : escapeRegExp(c);
  return new RegExp(`^${source}$`, 's');
}

/** `s` with a first level spelled INBOX in any case written "INBOX". */
function inboxFirst(s: string, delimiter: string | null): string {
  const cut = delimiter === null || delimiter === '' ? -1 : s.indexOf(delimiter);
  const first = cut === -1 ? s : s.slice(0, cut);
  return first.toUpperCase() === 'INBOX' ? 'INBOX' + s.slice(first.length) : s;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
