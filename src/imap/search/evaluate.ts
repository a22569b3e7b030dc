// Runs a SEARCH program against one message (RFC 3501 §6.4.4 semantics;
// RFC 7162 §3.1.5 MODSEQ). Strings match as case-insensitive substrings of
// decoded text: header values with RFC 2047 encoded-words decoded (so FROM
// finds display names and addresses alike), body text with its transfer
// encoding and charset undone. Dates compare whole days, time and zone
// ignored: INTERNALDATE's UTC day for BEFORE/ON/SINCE, the day written in the
// Date: header for SENT* (a message without a readable Date: never matches).
//
// Lazy-friendly: searchNeeds says what to load; prematch answers from
// metadata alone when it can (null: the answer needs header/body), so a
// caller can skip loading bodies of messages that already failed UNSEEN.
import { splitHeader } from '../../mime/headers.ts';
import { bodyText, decodeHeaderValue } from '../../mime/text.ts';
import type { MimeNode } from '../../mime/types.ts';
import { sequenceSetMatcher } from '../protocol/seqset.ts';
import type { SearchKey } from './types.ts';

export interface SearchInput {
  seq: number;
  uid: number;
  flags: readonly string[];
  recent: boolean;
  internalDate: Date;
  size: number;
  modSeq: number;
  /** top-level header block (or give body + structure) */
  header?: Uint8Array;
  structure?: MimeNode;
  body?: Uint8Array;
}

export interface SearchContext {
  /** what "*" means in a sequence set: the number of messages */
  maxSeq: number;
  /** what "*" means in a UID set: the highest UID in the mailbox */
  maxUid: number;
}

export interface SearchNeeds {
  header: boolean;
  structure: boolean;
  body: boolean;
}

const DAY_MS = 86_400_000;

/** What `key` needs loaded besides the metadata. */
export function searchNeeds(key: SearchKey): SearchNeeds {
  const n: SearchNeeds = { header: false, structure: false, body: false };
  const walk = (k: SearchKey): void => {
    switch (k.type) {
      case 'and': k.keys.forEach(walk); break;
      case 'or': walk(k.a); walk(k.b); break;
      case 'not': walk(k.key); break;
      case 'header': n.header = true; break;
      case 'date': if (k.field === 'sent') n.header = true; break;
      case 'body': n.structure = true; n.body = true; break;
      case 'text': n.header = true; n.structure = true; n.body = true; break;
      default: break;
    }
  };
  walk(key);
  return n;
}

/** A header field; `lower` is its decoded, lower-cased value once computed. */
interface Field {
  name: string;
  raw: string;
  lower: string | null;
}

/** RFC 2047-decoded, lower-cased value, computed once per field. */
function valueOf(f: Field): string {
  f.lower ??= decodeHeaderValue(f.raw).toLowerCase();
  return f.lower;
}

/** Per-message lazily computed views, shared by all keys of one evaluation. */
class View {
  readonly msg: SearchInput;
  private flagSet: Set<string> | null = null;
  private fieldList: Field[] | null | undefined;
  private text: string | null | undefined;
  private sent: number | null | undefined;
  private rawText: string | null | undefined;

  constructor(msg: SearchInput) {
    this.msg = msg;
  }

  flags(): Set<string> {
    this.flagSet ??= new Set(this.msg.flags.map((f) => f.toLowerCase()));
    return this.flagSet;
  }

  /** Header fields, names lower-cased; null when not loaded. Values are decoded on first use. */
  fields(): Field[] | null {
    if (this.fieldList !== undefined) return this.fieldList;
    const { header, body, structure } = this.msg;
    const bytes = header ?? (body && structure ? body.subarray(0, Math.min(structure.bodyStart, body.length)) : undefined);
    this.fieldList = bytes === undefined
      ? null
      : splitHeader(bytes).filter((f) => f.lowerName !== '').map((f) => ({ name: f.lowerName, raw: f.value, lower: null }));
    return this.fieldList;
  }

  /** The raw top-level header as lower-cased latin1 text; null when not loaded. */
  rawLower(): string | null {
    if (this.rawText !== undefined) return this.rawText;
    const { header } = this.msg;
    this.rawText = header ? Buffer.from(header.buffer, header.byteOffset, header.byteLength).toString('latin1').toLowerCase() : null;
    return this.rawText;
  }

  /** Decoded, lower-cased text of the body's text parts; null when not loaded. */
  bodyText(): string | null {
    if (this.text !== undefined) return this.text;
    const { body, structure } = this.msg;
    this.text = body && structure ? bodyText(body, structure).toLowerCase() : null;
    return this.text;
  }

  /** Day number of the Date: header as written; null when absent or unreadable; undefined when not loaded. */
  sentDay(): number | null | undefined {
    if (this.sent !== undefined) return this.sent;
    const fields = this.fields();
    if (fields === null) return undefined;
    const date = fields.find((f) => f.name === 'date');
    this.sent = date ? parseDateDay(date.raw) : null;
    return this.sent;
  }
}

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
// RFC 5322 §3.3 date: [day-of-week ","] day month year, with obsolete 2/3-digit years (§4.3).
const DATE_RE = /(?:^|[\s,])(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\b/;

/** The calendar day written in an RFC 5322 date (its own zone), as days since 1970-01-01. */
export function parseDateDay(value: string): number | null {
  const m = DATE_RE.exec(value.toLowerCase());
  if (!m) return null;
  const month = MONTHS[m[2]!];
  if (month === undefined) return null;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const day = Number(m[1]);
  if (day < 1 || day > 31) return null;
  const d = new Date(Date.UTC(2000, month, day));
  d.setUTCFullYear(year);
  return Math.floor(d.getTime() / DAY_MS);
}

type Tri = boolean | null;
type Pred = (v: View) => Tri;

function compareDay(day: number, op: 'before' | 'on' | 'since', want: number): boolean {
  return op === 'before' ? day < want : op === 'on' ? day === want : day >= want;
}

/** Rough cost, so that AND tries metadata keys before text scans. */
function cost(k: SearchKey): number {
  switch (k.type) {
    case 'and': return Math.max(0, ...k.keys.map(cost));
    case 'or': return Math.max(cost(k.a), cost(k.b));
    case 'not': return cost(k.key);
    case 'header': return 1;
    case 'date': return k.field === 'sent' ? 1 : 0;
    case 'body':
    case 'text': return 2;
    default: return 0;
  }
}

function compile(key: SearchKey, ctx: SearchContext): Pred {
  switch (key.type) {
    case 'all': return () => true;
    case 'and': {
      const preds = [...key.keys].sort((a, b) => cost(a) - cost(b)).map((k) => compile(k, ctx));
      return (v) => {
        let unknown = false;
        for (const p of preds) {
          const r = p(v);
          if (r === false) return false;
          if (r === null) unknown = true;
        }
        return unknown ? null : true;
      };
    }
    case 'or': {
      const [first, second] = cost(key.a) <= cost(key.b) ? [key.a, key.b] : [key.b, key.a];
      const a = compile(first, ctx);
      const b = compile(second, ctx);
      return (v) => {
        const ra = a(v);
        if (ra === true) return true;
        const rb = b(v);
        if (rb === true) return true;
        return ra === null || rb === null ? null : false;
      };
    }
    case 'not': {
      const p = compile(key.key, ctx);
      return (v) => {
        const r = p(v);
        return r === null ? null : !r;
      };
    }
    case 'flag': return (v) => v.flags().has(key.flag) === key.set;
    case 'recent': return (v) => v.msg.recent === key.set;
    case 'size': return (v) => (key.op === 'larger' ? v.msg.size > key.size : v.msg.size < key.size);
    case 'modseq': return (v) => v.msg.modSeq >= key.modSeq;
    case 'seq': {
      const m = sequenceSetMatcher(key.ranges, ctx.maxSeq);
      return (v) => m(v.msg.seq);
    }
    case 'uid': {
      const m = sequenceSetMatcher(key.ranges, ctx.maxUid);
      return (v) => m(v.msg.uid);
    }
    case 'date':
      if (key.field === 'internal') {
        return (v) => compareDay(Math.floor(v.msg.internalDate.getTime() / DAY_MS), key.op, key.day);
      }
      return (v) => {
        const day = v.sentDay();
        if (day === undefined) return null;
        return day !== null && compareDay(day, key.op, key.day);
      };
    case 'header': {
      const needle = key.value.toLowerCase();
      // Folding only happens at white space and ASCII survives every charset
      // and transfer form except encoded-words, so a needle of printable ASCII
      // without spaces that is absent from the raw header cannot match: this
      // skips splitting and decoding for most messages of a mailbox-wide search.
      const quick = /^[\x21-\x7e]+$/.test(needle);
      return (v) => {
        if (quick) {
          const raw = v.rawLower();
          if (raw !== null && !raw.includes(needle) && !raw.includes('=?')) return false;
        }
        const fields = v.fields();
        if (fields === null) return null;
        return fields.some((f) => f.name === key.field && valueOf(f).includes(needle));
      };
    }
    case 'body': {
      const needle = key.value.toLowerCase();
      return (v) => {
        const text = v.bodyText();
        return text === null ? null : text.includes(needle);
      };
    }
    case 'text': {
      const needle = key.value.toLowerCase();
      return (v) => {
        const fields = v.fields();
        const text = v.bodyText();
        if (fields === null || text === null) return null;
        return fields.some((f) => `${f.name}: ${valueOf(f)}`.includes(needle))
          || text.includes(needle);
      };
    }
  }
}

/** A compiled search: prematch answers from what is loaded (null: needs more), matches insists on an answer. */
export interface CompiledSearch {
  prematch(msg: SearchInput): boolean | null;
  matches(msg: SearchInput): boolean;
}

/** Compile once per SEARCH, then run per message. */
export function compileSearch(key: SearchKey, ctx: SearchContext): CompiledSearch {
  const pred = compile(key, ctx);
  return {
    prematch: (msg) => pred(new View(msg)),
    matches: (msg) => {
      const r = pred(new View(msg));
      // The caller loads what searchNeeds says; null means it did not (a bug).
      if (r === null) throw new Error('search: message header/body not loaded although searchNeeds asked for it');
      return r;
    },
  };
}

const cache = new WeakMap<SearchKey, { ctx: SearchContext; compiled: CompiledSearch }>();

function cached(key: SearchKey, ctx: SearchContext): CompiledSearch {
  const hit = cache.get(key);
  if (hit && hit.ctx.maxSeq === ctx.maxSeq && hit.ctx.maxUid === ctx.maxUid) return hit.compiled;
  const compiled = compileSearch(key, { maxSeq: ctx.maxSeq, maxUid: ctx.maxUid });
  cache.set(key, { ctx: { maxSeq: ctx.maxSeq, maxUid: ctx.maxUid }, compiled });
  return compiled;
}

/**
 * Does `msg` satisfy `key`? The compiled form is cached per key object.
 * @throws {Error} when data that searchNeeds(key) asked for is missing (a caller bug)
 */
export function matches(key: SearchKey, msg: SearchInput, ctx: SearchContext): boolean {
  return cached(key, ctx).matches(msg);
}

/** The answer from metadata alone when possible; null when header/body must be loaded first. */
export function prematch(key: SearchKey, msg: SearchInput, ctx: SearchContext): boolean | null {
  return cached(key, ctx).prematch(msg);
}
