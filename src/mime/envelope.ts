// ENVELOPE fields (RFC 3501 §7.4.2) from a message header: address lists parsed
// per RFC 5322 §3.4 (mailboxes, groups, quoted names, comments, obsolete routes),
// leniently, the way Dovecot's message-address parser does.
//
// Choices, following Dovecot (imap-envelope uses its FILL_MISSING mode):
// - an address without a domain gets host "MISSING_DOMAIN", an empty local part
//   mailbox "MISSING_MAILBOX": a NIL host would make clients read the address
//   as a group marker (RFC 3501 §7.4.2);
// - a comment after a bare addr-spec (`a@b (Ann)`) becomes the display name;
// - quoted display names and local parts are unquoted; encoded-words are kept;
// - the first occurrence of each header is used; sender and reply-to fall back
//   to from when absent or empty.

import { splitHeader, type HeaderField } from './headers.ts';
import type { Envelope, EnvelopeAddress } from './types.ts';

type Tok =
  | { k: 'word'; v: string; ws: boolean } // atom or quoted string (unquoted)
  | { k: 'dlit'; v: string; ws: boolean } // [domain literal], brackets kept
  | { k: 'sp'; v: string; ws: boolean } // one of the specials < > @ , ; : .
  | { k: 'comment'; v: string; ws: boolean };

const SPECIALS = '<>@,;:.';

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let ws = false;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const ch = s[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') { ws = true; i++; continue; }
    if (ch === '"') {
      let v = '';
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        v += s[i];
        i++;
      }
      i++;
      out.push({ k: 'word', v, ws });
    } else if (ch === '(') {
      let depth = 1;
      let v = '';
      i++;
      while (i < n && depth > 0) {
        const c = s[i] as string;
        if (c === '\\' && i + 1 < n) { v += s[i + 1]; i += 2; continue; }
        if (c === '(') depth++;
        else if (c === ')') { depth--; if (depth === 0) { i++; break; } }
        v += c;
        i++;
      }
      out.push({ k: 'comment', v: v.trim(), ws });
      ws = true; // a comment separates words like whitespace does
      continue;
    } else if (ch === '[') {
      const close = s.indexOf(']', i);
      const stop = close === -1 ? n : close + 1;
      out.push({ k: 'dlit', v: s.slice(i, stop), ws });
      i = stop;
    } else if (SPECIALS.includes(ch)) {
      out.push({ k: 'sp', v: ch, ws });
      i++;
    } else {
      let j = i;
      while (j < n && !' \t\r\n"([<>@,;:.'.includes(s[j] as string)) j++;
      if (j === i) j++; // a stray ']' or ')': take it as a one-char word
      out.push({ k: 'word', v: s.slice(i, j), ws });
      i = j;
    }
    ws = false;
  }
  return out;
}

const isSp = (t: Tok | undefined, v: string): boolean => t !== undefined && t.k === 'sp' && t.v === v;

/** Display-name phrase: words joined by one space where the source had blanks. */
function phrase(toks: Tok[]): string | null {
  let s = '';
  for (const t of toks) {
    if (t.k === 'comment') continue;
    if (s !== '' && t.ws) s += ' ';
    s += t.v;
  }
  return s === '' ? null : s;
}

/** Local part / domain text: tokens concatenated with no blanks. */
function joined(toks: Tok[]): string {
  let s = '';
  for (const t of toks) if (t.k !== 'comment') s += t.v;
  return s;
}

function addrSpec(toks: Tok[], name: string | null, adl: string | null): EnvelopeAddress {
  let at = -1;
  for (let i = toks.length - 1; i >= 0; i--) if (isSp(toks[i], '@')) { at = i; break; }
  const local = joined(at === -1 ? toks : toks.slice(0, at));
  const domain = at === -1 ? '' : joined(toks.slice(at + 1));
  return { name, adl, mailbox: local === '' ? 'MISSING_MAILBOX' : local, host: domain === '' ? 'MISSING_DOMAIN' : domain };
}

/** One mailbox from its tokens (no top-level comma inside). */
function mailbox(toks: Tok[]): EnvelopeAddress | null {
  if (toks.every((t) => t.k === 'comment')) return null;
  const lt = toks.findIndex((t) => isSp(t, '<'));
  if (lt !== -1) {
    let gt = toks.findIndex((t, i) => i > lt && isSp(t, '>'));
    if (gt === -1) gt = toks.length;
    let inner = toks.slice(lt + 1, gt);
    // Obsolete route `<@a,@b:user@host>` (RFC 5322 §4.4) goes to adl.
    let adl: string | null = null;
    const colon = inner.findIndex((t) => isSp(t, ':'));
    if (isSp(inner[0], '@') && colon !== -1) {
      adl = joined(inner.slice(0, colon));
      inner = inner.slice(colon + 1);
    }
    const name = phrase(toks.slice(0, lt));
    if (inner.length === 0 && name === null) return null;
    return addrSpec(inner, name, adl);
  }
  const comments = toks.filter((t) => t.k === 'comment' && t.v !== '');
  const name = comments.length > 0 ? (comments[comments.length - 1] as Tok).v : null;
  return addrSpec(toks.filter((t) => t.k !== 'comment'), name, null);
}

/** Parse an address-list header value. Returns null when it holds no address. */
export function parseAddressList(value: string): EnvelopeAddress[] | null {
  const toks = tokenize(value);
  const out: EnvelopeAddress[] = [];
  let i = 0;
  let inGroup = false;
  while (i < toks.length) {
    // Collect one item up to a top-level ',' or ';' (angle brackets nest a route's commas).
    let j = i;
    let angle = false;
    let groupColon = -1;
    for (; j < toks.length; j++) {
      const t = toks[j] as Tok;
      if (t.k !== 'sp') continue;
      if (t.v === '<') angle = true;
      else if (t.v === '>') angle = false;
      else if (!angle && t.v === ',') break;
      else if (!angle && t.v === ';' && inGroup) break;
      else if (!angle && t.v === ':' && !inGroup && groupColon === -1) { groupColon = j; break; }
    }
    if (groupColon !== -1) {
      out.push({ name: null, adl: null, mailbox: phrase(toks.slice(i, groupColon)) ?? '', host: null });
      inGroup = true;
      i = groupColon + 1;
      continue;
    }
    const item = toks.slice(i, j).filter((t) => !isSp(t, ';'));
    const addr = item.length > 0 ? mailbox(item) : null;
    if (addr) out.push(addr);
    if (isSp(toks[j], ';') && inGroup) {
      out.push({ name: null, adl: null, mailbox: null, host: null });
      inGroup = false;
    }
    i = j + 1;
  }
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null }); // unterminated group
  return out.length > 0 ? out : null;
}

/** ENVELOPE from already split header fields (parse.ts has them at hand). */
export function envelopeFromFields(fields: HeaderField[]): Envelope {
  const first = new Map<string, string>();
  for (const f of fields) if (!first.has(f.lowerName)) first.set(f.lowerName, f.value);
  const str = (name: string): string | null => first.get(name) ?? null;
  const list = (name: string): EnvelopeAddress[] | null => {
    const v = first.get(name);
    return v === undefined ? null : parseAddressList(v);
  };
  const from = list('from');
  return {
    date: str('date'),
    subject: str('subject'),
    from,
    sender: list('sender') ?? from,
    replyTo: list('reply-to') ?? from,
    to: list('to'),
    cc: list('cc'),
    bcc: list('bcc'),
    inReplyTo: str('in-reply-to'),
    messageId: str('message-id'),
  };
}

/** ENVELOPE of a message from its header bytes (RFC 3501 §7.4.2). Never throws. */
export function parseEnvelope(headerBytes: Uint8Array): Envelope {
  return envelopeFromFields(splitHeader(headerBytes));
}
