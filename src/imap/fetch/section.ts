// The "[section]" of BODY[...] / BODY.PEEK[...] (RFC 3501 §6.4.5 and §9
// section-spec) and of BINARY[...] (RFC 3516 §4.2 section-binary): parsing
// the parser's section tokens into a SectionSpec plus the text the response
// echoes back (RFC 3501 §7.4.2: "BODY[section]<origin>").
import { ImapParseError } from '../protocol/errors.ts';
import type { Token } from '../protocol/types.ts';
import type { SectionSpec } from '../../mime/types.ts';

export interface ParsedSection {
  spec: SectionSpec;
  /** the section as the response names it, e.g. "1.HEADER.FIELDS (FROM TO)" */
  text: string;
}

const TEXT_PARTS = new Set(['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME']);
const NZ_NUMBER = /^[1-9]\d{0,9}$/;
const DIGITS = /^\d+$/;
/** RFC 5322 §3.6.8 ftext: printable ASCII except ":". */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const utf8 = new TextDecoder('utf-8');

/** "1.2.HEADER" -> path [1,2] and "HEADER"; "TEXT" -> [] and "TEXT". */
function splitPartPath(value: string): { path: number[]; rest: string } {
  const pieces = value.split('.');
  const path: number[] = [];
  let i = 0;
  for (; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (!DIGITS.test(p)) break;
    if (!NZ_NUMBER.test(p)) throw new ImapParseError(`Invalid section part number "${p}": part numbers start at 1`);
    path.push(Number(p));
  }
  return { path, rest: pieces.slice(i).join('.').toUpperCase() };
}

/** One header field name from the HEADER.FIELDS list, and how to echo it. */
function fieldName(t: Token): { name: string; echo: string } {
  if (t.type === 'atom' && t.section === undefined) {
    if (!FIELD_NAME.test(t.value)) throw new ImapParseError(`Invalid header field name "${t.value.slice(0, 30)}"`);
    return { name: t.value, echo: t.value.toUpperCase() };
  }
  if (t.type === 'string') {
    const name = utf8.decode(t.value);
    if (!FIELD_NAME.test(name)) throw new ImapParseError('Invalid header field name');
    // Echoed upper-cased and quoted as the client wrote it, as Dovecot does
    // ("BODY[HEADER.FIELDS (FROM "TO")]" for (from "To")); a literal becomes quoted.
    return { name, echo: `"${name.toUpperCase().replace(/["\\]/g, '\\$&')}"` };
  }
  throw new ImapParseError('HEADER.FIELDS expects header field names');
}

/**
 * BODY[section] contents as parsed tokens -> SectionSpec.
 * @throws {ImapParseError} on part number 0, an unknown text part, MIME on the
 *  top-level message, a missing or empty HEADER.FIELDS list, or trailing tokens
 */
export function parseBodySection(tokens: readonly Token[]): ParsedSection {
  if (tokens.length === 0) return { spec: { path: [], text: null }, text: '' };
  const first = tokens[0]!;
  if (first.type !== 'atom' || first.section !== undefined) throw new ImapParseError('Invalid section: expected a part number or HEADER/TEXT/MIME');
  const { path, rest } = splitPartPath(first.value);
  const pathText = path.join('.');
  if (rest === '') {
    if (tokens.length > 1) throw new ImapParseError('Invalid section: unexpected text after the part number');
    return { spec: { path, text: null }, text: pathText };
  }
  if (!TEXT_PARTS.has(rest)) throw new ImapParseError(`Invalid section text "${rest.slice(0, 30)}"`);
  const text = rest as NonNullable<SectionSpec['text']>;
  if (text === 'MIME' && path.length === 0) throw new ImapParseError('Invalid section: MIME needs a part number');
  const prefix = pathText === '' ? text : `${pathText}.${text}`;
  if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') {
    const list = tokens[1];
    if (list?.type !== 'list') throw new ImapParseError(`Invalid section: ${text} needs a list of field names`);
    if (list.items.length === 0) throw new ImapParseError(`Invalid section: ${text} needs at least one field name`);
    if (tokens.length > 2) throw new ImapParseError('Invalid section: unexpected text after the field list');
    const fields = list.items.map(fieldName);
    return {
      spec: { path, text, fields: fields.map((f) => f.name) },
      text: `${prefix} (${fields.map((f) => f.echo).join(' ')})`,
    };
  }
  if (tokens.length > 1) throw new ImapParseError(`Invalid section: unexpected text after ${text}`);
  return { spec: { path, text }, text: prefix };
}

/**
 * BINARY[part] contents -> part path ([] for the whole message).
 * @throws {ImapParseError} on anything but dot-separated non-zero part numbers
 */
export function parseBinarySection(tokens: readonly Token[]): number[] {
  if (tokens.length === 0) return [];
  const first = tokens[0]!;
  if (tokens.length > 1 || first.type !== 'atom' || first.section !== undefined) throw new ImapParseError('Invalid BINARY section: expected a part number');
  const { path, rest } = splitPartPath(first.value);
  if (rest !== '') throw new ImapParseError('Invalid BINARY section: only part numbers are allowed');
  return path;
}
