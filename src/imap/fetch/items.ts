// FETCH data items (RFC 3501 §6.4.5; MODSEQ from RFC 7162 §3.1.4; BINARY,
// BINARY.PEEK and BINARY.SIZE from RFC 3516 §4.2): parsing the item argument
// into a list of FetchItem, and what a list of items needs loaded.
import { ImapParseError } from '../protocol/errors.ts';
import type { AtomToken, Token } from '../protocol/types.ts';
import { parseBinarySection, parseBodySection, type ParsedSection } from './section.ts';
import type { SectionSpec } from '../../mime/types.ts';

/** <start.length> of a partial fetch; the response names only <start>. */
export interface FetchPartial {
  start: number;
  length?: number;
}

/** Items answered from message metadata or the cached MIME tree. */
export type SimpleItemName =
  | 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE'
  | 'BODY' | 'BODYSTRUCTURE' | 'MODSEQ' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT';

export type FetchItem =
  | { kind: SimpleItemName }
  /** BODY[section]<partial> and BODY.PEEK[...]; `name` is the response's
   *  item name without the partial, e.g. "BODY[1.HEADER.FIELDS (FROM)]" */
  | { kind: 'BODY[]'; peek: boolean; section: SectionSpec; name: string; partial: FetchPartial | null }
  /** BINARY[part]<partial> and BINARY.PEEK[part]<partial> (RFC 3516) */
  | { kind: 'BINARY[]'; peek: boolean; path: number[]; name: string; partial: FetchPartial | null }
  /** BINARY.SIZE[part] (RFC 3516) */
  | { kind: 'BINARY.SIZE'; path: number[]; name: string };

const SIMPLE = new Set<string>([
  'UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT',
]);

const MACROS: Record<string, SimpleItemName[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

function partialOf(t: AtomToken): FetchPartial | null {
  if (!t.partial) return null;
  return t.partial.length === undefined ? { start: t.partial.start } : { start: t.partial.start, length: t.partial.length };
}

function parseOne(t: Token): FetchItem {
  if (t.type !== 'atom') throw new ImapParseError('Invalid FETCH item: expected an attribute name');
  const upper = t.value.toUpperCase();
  if (t.section === undefined) {
    if (t.partial) throw new ImapParseError(`Invalid FETCH item ${t.value}: a partial needs a section`);
    if (SIMPLE.has(upper)) return { kind: upper as SimpleItemName };
    if (upper in MACROS) throw new ImapParseError(`FETCH macro ${upper} cannot be used inside a list`);
    throw new ImapParseError(`Unknown FETCH item ${t.value.slice(0, 40)}`);
  }
  switch (upper) {
    case 'BODY':
    case 'BODY.PEEK': {
      const s: ParsedSection = parseBodySection(t.section);
      return { kind: 'BODY[]', peek: upper === 'BODY.PEEK', section: s.spec, name: `BODY[${s.text}]`, partial: partialOf(t) };
    }
    case 'BINARY':
    case 'BINARY.PEEK': {
      const path = parseBinarySection(t.section);
      return { kind: 'BINARY[]', peek: upper === 'BINARY.PEEK', path, name: `BINARY[${path.join('.')}]`, partial: partialOf(t) };
    }
    case 'BINARY.SIZE': {
      if (t.partial) throw new ImapParseError('BINARY.SIZE takes no partial');
      const path = parseBinarySection(t.section);
      return { kind: 'BINARY.SIZE', path, name: `BINARY.SIZE[${path.join('.')}]` };
    }
  }
  throw new ImapParseError(`Unknown FETCH item ${t.value.slice(0, 40)}[...]`);
}

/** Identity of an item for dropping duplicates ("UID UID", "BODY[] BODY.PEEK[]" are sent once). */
function itemKey(item: FetchItem): string {
  switch (item.kind) {
    case 'BODY[]':
    case 'BINARY[]':
      return `${item.name}<${item.partial ? `${item.partial.start}.${item.partial.length ?? ''}` : ''}>`;
    case 'BINARY.SIZE':
      return item.name;
    default:
      return item.kind;
  }
}

/**
 * The FETCH item argument: a macro (ALL, FAST, FULL), one item, or a
 * parenthesised list of items. Duplicates are dropped. An empty list is
 * refused, as Dovecot does.
 * @throws {ImapParseError} on an empty list, unknown items, malformed sections (part number 0,
 *  empty HEADER.FIELDS, MIME without a part) or a macro inside a list
 */
export function parseFetchItems(arg: Token | undefined): FetchItem[] {
  if (arg === undefined) throw new ImapParseError('Missing FETCH items');
  let raw: FetchItem[];
  if (arg.type === 'list') {
    if (arg.items.length === 0) throw new ImapParseError('FETCH item list is empty');
    raw = arg.items.map(parseOne);
  } else if (arg.type === 'atom' && arg.section === undefined && !arg.partial && arg.value.toUpperCase() in MACROS) {
    raw = MACROS[arg.value.toUpperCase()]!.map((kind) => ({ kind }));
  } else {
    raw = [parseOne(arg)];
  }
  const index = new Map<string, number>();
  const out: FetchItem[] = [];
  for (const item of raw) {
    const key = itemKey(item);
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(item);
      continue;
    }
    // BODY[x] and BODY.PEEK[x] answer under the same name: send the data once
    // but keep the non-PEEK one's \Seen effect.
    const prev = out[at]!;
    if ((prev.kind === 'BODY[]' || prev.kind === 'BINARY[]') && (item.kind === 'BODY[]' || item.kind === 'BINARY[]') && !item.peek) {
      out[at] = { ...prev, peek: false };
    }
  }
  return out;
}

/** True when a BODY[] section is the top-level header or some of its fields:
 *  those are served from the cached header block, without the body. */
export function isTopHeaderSection(spec: SectionSpec): boolean {
  return spec.path.length === 0 && (spec.text === 'HEADER' || spec.text === 'HEADER.FIELDS' || spec.text === 'HEADER.FIELDS.NOT');
}

export interface FetchNeeds {
  /** the cached MIME tree (ENVELOPE, BODYSTRUCTURE, section offsets) */
  structure: boolean;
  /** the cached top-level header block */
  header: boolean;
  /** the cached ENVELOPE and BODYSTRUCTURE protocol text */
  summary: boolean;
  /** the full message bytes */
  body: boolean;
  /** the fetch sets \Seen (RFC 3501 §6.4.5: BODY[...] without .PEEK, RFC822, RFC822.TEXT; RFC 3516 BINARY[...]) */
  setsSeen: boolean;
  /** MODSEQ was asked for (RFC 7162 §3.1.4.1) */
  modSeq: boolean;
}

/** What the caller must load for `items`, and whether \Seen gets set. */
export function fetchNeeds(items: readonly FetchItem[]): FetchNeeds {
  const n: FetchNeeds = { structure: false, header: false, summary: false, body: false, setsSeen: false, modSeq: false };
  for (const item of items) {
    switch (item.kind) {
      case 'ENVELOPE':
      case 'BODYSTRUCTURE':
        n.summary = true;
        break;
      case 'BODY':
        n.structure = true;
        break;
      case 'MODSEQ':
        n.modSeq = true;
        break;
      case 'RFC822.HEADER':
        n.header = true;
        break;
      case 'RFC822':
        n.body = true;
        n.setsSeen = true;
        break;
      case 'RFC822.TEXT':
        n.body = true;
        n.structure = true;
        n.setsSeen = true;
        break;
      case 'BODY[]':
        if (!item.peek) n.setsSeen = true;
        if (isTopHeaderSection(item.section)) {
          n.header = true;
        } else {
          n.body = true;
          // BODY[] is the whole message; anything else needs offsets.
          if (item.section.path.length > 0 || item.section.text !== null) n.structure = true;
        }
        break;
      case 'BINARY[]':
        if (!item.peek) n.setsSeen = true;
        n.body = true;
        n.structure = true;
        break;
      case 'BINARY.SIZE':
        n.body = true;
        n.structure = true;
        break;
      default:
        break;
    }
  }
  return n;
}
