// SEARCH arguments -> SearchProgram: RFC 3501 §6.4.4 (every search key,
// CHARSET, parenthesised lists), RFC 7162 §3.1.5 (MODSEQ with its optional
// entry name and type, which are accepted and ignored: we keep one MODSEQ per
// message) and RFC 4731 §3.1 (RETURN (MIN MAX COUNT ALL) before the criteria).
// Keys are case-insensitive; strings are astrings decoded as UTF-8.
import { SealpostError } from '../../errors/index.ts';
import { parseSearchDate } from '../protocol/datetime.ts';
import { ImapParseError } from '../protocol/errors.ts';
import { parseSequenceSet } from '../protocol/seqset.ts';
import type { Token } from '../protocol/types.ts';
import type { SearchKey, SearchProgram, SearchReturn } from './types.ts';

export type { SearchKey, SearchProgram, SearchReturn } from './types.ts';

/** CHARSET names SEARCH accepts (answered in [BADCHARSET (...)] otherwise). */
export const SEARCH_CHARSETS = ['UTF-8', 'US-ASCII'] as const;

/** SEARCH CHARSET other than UTF-8 / US-ASCII: the session answers NO [BADCHARSET (UTF-8 US-ASCII)] (RFC 3501 §6.4.4). */
export class BadCharsetError extends SealpostError {
  readonly charset: string;
  constructor(charset: string) {
    super('BAD_CHARSET', `Unsupported charset ${charset.slice(0, 40)}`);
    this.name = 'BadCharsetError';
    this.charset = charset;
  }
}

const DAY_MS = 86_400_000;
const MAX_MODSEQ = 2 ** 63 - 1;
const SEQ_SET = /^[0-9*:,]+$/;
const utf8 = new TextDecoder('utf-8');

const FLAG_KEYS: Record<string, { flag: string; set: boolean }> = {
  ANSWERED: { flag: '\\answered', set: true },
  DELETED: { flag: '\\deleted', set: true },
  DRAFT: { flag: '\\draft', set: true },
  FLAGGED: { flag: '\\flagged', set: true },
  SEEN: { flag: '\\seen', set: true },
  UNANSWERED: { flag: '\\answered', set: false },
  UNDELETED: { flag: '\\deleted', set: false },
  UNDRAFT: { flag: '\\draft', set: false },
  UNFLAGGED: { flag: '\\flagged', set: false },
  UNSEEN: { flag: '\\seen', set: false },
};

const HEADER_KEYS: Record<string, string> = { FROM: 'from', TO: 'to', CC: 'cc', BCC: 'bcc', SUBJECT: 'subject' };

const DATE_KEYS: Record<string, { field: 'internal' | 'sent'; op: 'before' | 'on' | 'since' }> = {
  BEFORE: { field: 'internal', op: 'before' },
  ON: { field: 'internal', op: 'on' },
  SINCE: { field: 'internal', op: 'since' },
  SENTBEFORE: { field: 'sent', op: 'before' },
  SENTON: { field: 'sent', op: 'on' },
  SENTSINCE: { field: 'sent', op: 'since' },
};

/** Reads keys from a token list, left to right. */
class KeyReader {
  private readonly tokens: readonly Token[];
  pos = 0;

  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }

  get done(): boolean {
    return this.pos >= this.tokens.length;
  }

  private next(what: string): Token {
    const t = this.tokens[this.pos++];
    if (t === undefined) throw new ImapParseError(`SEARCH: missing ${what}`);
    return t;
  }

  private astring(key: string): string {
    const t = this.next(`argument of ${key}`);
    if (t.type === 'string') return utf8.decode(t.value);
    if (t.type === 'atom' && t.section === undefined) return t.value;
    throw new ImapParseError(`SEARCH: ${key} expects a string`);
  }

  private atom(key: string): string {
    const t = this.next(`argument of ${key}`);
    if (t.type !== 'atom' || t.section !== undefined) throw new ImapParseError(`SEARCH: ${key} expects an atom`);
    return t.value;
  }

  private number(key: string, max: number): number {
    const text = this.atom(key);
    if (!/^\d{1,20}$/.test(text)) throw new ImapParseError(`SEARCH: ${key} expects a number`);
    const n = Number(text);
    if (n > max) throw new ImapParseError(`SEARCH: ${key} number out of range`);
    return n;
  }

  private day(key: string): number {
    // A date may come quoted ("1-Feb-1994") as well as bare (RFC 3501 §9 date).
    return Math.floor(parseSearchDate(this.astring(key)).getTime() / DAY_MS);
  }

  /** One search-key (RFC 3501 §9), recursing into NOT, OR and lists. */
  key(): SearchKey {
    const t = this.next('search key');
    if (t.type === 'list') {
      if (t.items.length === 0) throw new ImapParseError('SEARCH: empty parenthesised list');
      const inner = new KeyReader(t.items);
      const keys: SearchKey[] = [];
      while (!inner.done) keys.push(inner.key());
      return keys.length === 1 ? keys[0]! : { type: 'and', keys };
    }
    if (t.type === 'string' || t.section !== undefined) throw new ImapParseError('SEARCH: expected a search key');
    const name = t.value.toUpperCase();
    const flag = FLAG_KEYS[name];
    if (flag) return { type: 'flag', flag: flag.flag, set: flag.set };
    const header = HEADER_KEYS[name];
    if (header) return { type: 'header', field: header, value: this.astring(name) };
    const date = DATE_KEYS[name];
    if (date) return { type: 'date', field: date.field, op: date.op, day: this.day(name) };
    switch (name) {
      case 'ALL': return { type: 'all' };
      case 'NEW': return { type: 'and', keys: [{ type: 'recent', set: true }, { type: 'flag', flag: '\\seen', set: false }] };
      case 'OLD': return { type: 'recent', set: false };
      case 'RECENT': return { type: 'recent', set: true };
      case 'KEYWORD':
      case 'UNKEYWORD':
        return { type: 'flag', flag: this.atom(name).toLowerCase(), set: name === 'KEYWORD' };
      case 'HEADER': {
        const field = this.astring('HEADER');
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) throw new ImapParseError('SEARCH: HEADER expects a header field name');
        return { type: 'header', field: field.toLowerCase(), value: this.astring('HEADER') };
      }
      case 'BODY': return { type: 'body', value: this.astring(name) };
      case 'TEXT': return { type: 'text', value: this.astring(name) };
      case 'LARGER': return { type: 'size', op: 'larger', size: this.number(name, Number.MAX_SAFE_INTEGER) };
      case 'SMALLER': return { type: 'size', op: 'smaller', size: this.number(name, Number.MAX_SAFE_INTEGER) };
      case 'NOT': return { type: 'not', key: this.key() };
      case 'OR': {
        const a = this.key();
        return { type: 'or', a, b: this.key() };
      }
      case 'UID': return { type: 'uid', ranges: parseSequenceSet(this.atom('UID')) };
      case 'MODSEQ': return this.modSeq();
    }
    if (SEQ_SET.test(t.value)) return { type: 'seq', ranges: parseSequenceSet(t.value) };
    if (t.value === '$') throw new ImapParseError('SEARCH: $ (SEARCHRES) is not supported');
    throw new ImapParseError(`SEARCH: unknown search key ${t.value.slice(0, 30)}`);
  }

  /** MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162 §3.1.5). */
  private modSeq(): SearchKey {
    const t = this.tokens[this.pos];
    if (t?.type === 'string') {
      this.pos++;
      const type = this.atom('MODSEQ entry type').toLowerCase();
      if (type !== 'priv' && type !== 'shared' && type !== 'all') throw new ImapParseError('SEARCH: MODSEQ entry type must be priv, shared or all');
    }
    return { type: 'modseq', modSeq: this.number('MODSEQ', MAX_MODSEQ) };
  }
}

function parseReturn(t: Token | undefined): SearchReturn {
  if (t?.type !== 'list') throw new ImapParseError('SEARCH: RETURN expects a parenthesised list');
  const r: SearchReturn = { min: false, max: false, count: false, all: false };
  for (const item of t.items) {
    if (item.type !== 'atom' || item.section !== undefined) throw new ImapParseError('SEARCH: invalid RETURN option');
    const name = item.value.toUpperCase();
    if (name === 'MIN') r.min = true;
    else if (name === 'MAX') r.max = true;
    else if (name === 'COUNT') r.count = true;
    else if (name === 'ALL') r.all = true;
    else throw new ImapParseError(`SEARCH: unsupported RETURN option ${item.value.slice(0, 20)}`);
  }
  // RFC 4731 §3.1: RETURN () is the same as RETURN (ALL).
  if (!r.min && !r.max && !r.count) r.all = true;
  return r;
}

/**
 * SEARCH / UID SEARCH arguments (everything after the command name).
 * `opts.utf8` is whether UTF8=ACCEPT is enabled (RFC 6855 §3); strings are
 * UTF-8 either way, so it changes nothing today and stays for the session's sake.
 * @throws {BadCharsetError} for a CHARSET other than UTF-8 / US-ASCII
 * @throws {ImapParseError} for unknown keys, missing or malformed arguments, no criteria
 */
export function parseSearch(args: readonly Token[], opts: { utf8: boolean }): SearchProgram {
  void opts;
  let pos = 0;
  let returnOpts: SearchReturn | undefined;
  const isAtom = (t: Token | undefined, name: string): boolean => t?.type === 'atom' && t.section === undefined && t.value.toUpperCase() === name;
  if (isAtom(args[pos], 'RETURN')) {
    returnOpts = parseReturn(args[pos + 1]);
    pos += 2;
  }
  let charset: string | null = null;
  if (isAtom(args[pos], 'CHARSET')) {
    const t = args[pos + 1];
    if (t === undefined || t.type === 'list' || (t.type === 'atom' && t.section !== undefined)) throw new ImapParseError('SEARCH: CHARSET expects a charset name');
    charset = (t.type === 'string' ? utf8.decode(t.value) : t.value).toUpperCase();
    if (!(SEARCH_CHARSETS as readonly string[]).includes(charset)) throw new BadCharsetError(charset);
    pos += 2;
  }
  const reader = new KeyReader(args.slice(pos));
  if (reader.done) throw new ImapParseError('SEARCH: missing search criteria');
  const keys: SearchKey[] = [];
  while (!reader.done) keys.push(reader.key());
  const key: SearchKey = keys.length === 1 ? keys[0]! : { type: 'and', keys };
  return returnOpts === undefined ? { charset, key } : { charset, key, returnOpts };
}
