// The attribute list of one "* n FETCH (...)" response (RFC 3501 §7.4.2,
// RFC 7162 §3.1.4.1 MODSEQ, RFC 3516 §4.2 BINARY) from a message's metadata,
// cached header / MIME tree and, only when asked for, its full bytes.
//
// Choices, matching Dovecot 2.3:
// - UID comes first whenever it is sent (Thunderbird relies on it);
// - section data always goes as a literal; a section that does not exist
//   (BODY[5] of a 2-part message, BODY[1.HEADER] of a text part) and a
//   partial starting past the end are the empty literal {0};
// - a partial answer is named by its origin only: BODY[]<0>.
import { extractSection } from '../../mime/section.ts';
import { splitHeader } from '../../mime/headers.ts';
import type { MessageSummary } from '../../mailstore/types.ts';
import type { MimeNode, SectionSpec } from '../../mime/types.ts';
import { formatInternalDate } from '../protocol/datetime.ts';
import type { ResponseValue } from '../protocol/types.ts';
import { binaryContent } from './binary.ts';
import { leafPath } from './parts.ts';
import { bodyStructureText } from '../../mime/bodystructure-text.ts';
import { envelopeText, EMPTY_ENVELOPE } from '../../mime/envelope-text.ts';
import { isTopHeaderSection, type FetchItem, type FetchPartial } from './items.ts';

/** What renderFetch reads: metadata always, the rest as fetchNeeds asked. */
export interface FetchInput {
  uid: number;
  flags: readonly string[];
  /** \Recent in this session (RFC 3501 §2.3.2) */
  recent: boolean;
  internalDate: Date;
  size: number;
  modSeq: number;
  structure?: MimeNode;
  /** cached ENVELOPE / BODYSTRUCTURE text; used instead of structure for those items */
  summary?: MessageSummary;
  /** the top-level header block including its ending blank line */
  header?: Uint8Array;
  /** the whole stored message */
  body?: Uint8Array;
}

export interface RenderOptions {
  /** send UID even if not asked for (UID FETCH, RFC 3501 §6.4.8) */
  uid?: boolean;
  /** send MODSEQ even if not asked for (CONDSTORE, RFC 7162 §3.1.4.1) */
  modSeq?: boolean;
  /** send FLAGS even if not asked for (\Seen was just set implicitly) */
  flags?: boolean;
}

const EMPTY = new Uint8Array(0);
const CRLF = Buffer.from('\r\n');

const atom = (value: string): ResponseValue => ({ type: 'atom', value });
const lit = (value: Uint8Array): ResponseValue => ({ type: 'literal', value });

function need<T>(value: T | undefined, item: string, what: string): T {
  // The caller loads what fetchNeeds says; a miss is a bug, not a client error.
  if (value === undefined) throw new Error(`renderFetch: ${item} needs the message ${what}`);
  return value;
}

function flagsValue(msg: FetchInput): ResponseValue {
  const out: ResponseValue[] = msg.flags.map(atom);
  if (msg.recent) out.push(atom('\\Recent'));
  return out;
}

function applyPartial(data: Uint8Array, partial: FetchPartial | null): Uint8Array {
  if (partial === null) return data;
  if (partial.start >= data.length) return EMPTY;
  const end = partial.length === undefined ? data.length : Math.min(data.length, partial.start + partial.length);
  return data.subarray(partial.start, end);
}

/** HEADER.FIELDS[.NOT] from a header block alone: the same bytes as
 *  mime/section.ts gives from the whole message, without needing the body. */
function headerFields(header: Uint8Array, names: readonly string[], keep: boolean): Uint8Array {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const chunks: Uint8Array[] = [];
  for (const f of splitHeader(header)) {
    if (wanted.has(f.lowerName) !== keep) continue;
    chunks.push(f.raw);
    const r = f.raw;
    if (r.length < 2 || r[r.length - 2] !== 0x0d || r[r.length - 1] !== 0x0a) chunks.push(CRLF);
  }
  chunks.push(CRLF);
  return Buffer.concat(chunks);
}

function topHeader(msg: FetchInput, item: string): Uint8Array {
  if (msg.header !== undefined) return msg.header;
  const body = need(msg.body, item, 'header or body');
  const structure = need(msg.structure, item, 'structure');
  return body.subarray(0, Math.min(structure.bodyStart, body.length));
}

function sectionData(spec: SectionSpec, msg: FetchInput, item: string): Uint8Array {
  if (isTopHeaderSection(spec)) {
    const header = topHeader(msg, item);
    if (spec.text === 'HEADER') return header;
    return headerFields(header, spec.fields ?? [], spec.text === 'HEADER.FIELDS');
  }
  const body = need(msg.body, item, 'body');
  if (spec.path.length === 0 && spec.text === null) return body;
  const root = need(msg.structure, item, 'structure');
  return extractSection(body, root, { ...spec, path: leafPath(root, spec.path) }) ?? EMPTY;
}

/** A literal8 (RFC 3516 §4.2) when the data holds NUL, else a plain literal. */
function binaryValue(data: Uint8Array): ResponseValue {
  if (!data.includes(0)) return lit(data);
  return { type: 'raw', value: Buffer.concat([Buffer.from(`~{${data.length}}\r\n`), data]) };
}

function itemValue(item: FetchItem, msg: FetchInput): [string, ResponseValue] {
  switch (item.kind) {
    case 'UID': return ['UID', msg.uid];
    case 'FLAGS': return ['FLAGS', flagsValue(msg)];
    case 'INTERNALDATE': return ['INTERNALDATE', { type: 'string', value: formatInternalDate(msg.internalDate) }];
    case 'RFC822.SIZE': return ['RFC822.SIZE', msg.size];
    case 'MODSEQ': return ['MODSEQ', [msg.modSeq]];
    case 'ENVELOPE': {
      if (msg.summary) return ['ENVELOPE', { type: 'raw', value: msg.summary.envelope }];
      const s = need(msg.structure, 'ENVELOPE', 'structure');
      return ['ENVELOPE', { type: 'raw', value: envelopeText(s.envelope ?? EMPTY_ENVELOPE) }];
    }
    case 'BODY': return ['BODY', { type: 'raw', value: bodyStructureText(need(msg.structure, 'BODY', 'structure'), false) }];
    case 'BODYSTRUCTURE':
      if (msg.summary) return ['BODYSTRUCTURE', { type: 'raw', value: msg.summary.bodyStructure }];
      return ['BODYSTRUCTURE', { type: 'raw', value: bodyStructureText(need(msg.structure, 'BODYSTRUCTURE', 'structure'), true) }];
    case 'RFC822': return ['RFC822', lit(need(msg.body, 'RFC822', 'body'))];
    case 'RFC822.HEADER': return ['RFC822.HEADER', lit(topHeader(msg, 'RFC822.HEADER'))];
    case 'RFC822.TEXT': return ['RFC822.TEXT', lit(sectionData({ path: [], text: 'TEXT' }, msg, 'RFC822.TEXT'))];
    case 'BODY[]': {
      const data = applyPartial(sectionData(item.section, msg, item.name), item.partial);
      return [item.partial ? `${item.name}<${item.partial.start}>` : item.name, lit(data)];
    }
    case 'BINARY[]': {
      const content = binaryContent(need(msg.body, item.name, 'body'), need(msg.structure, item.name, 'structure'), item.path) ?? EMPTY;
      const data = applyPartial(content, item.partial);
      return [item.partial ? `${item.name}<${item.partial.start}>` : item.name, binaryValue(data)];
    }
    case 'BINARY.SIZE': {
      const content = binaryContent(need(msg.body, item.name, 'body'), need(msg.structure, item.name, 'structure'), item.path);
      return [item.name, content?.length ?? 0];
    }
  }
}

/**
 * The FETCH attribute list [name, value, name, value, ...] for `items`.
 * UID is first whenever present; FLAGS and MODSEQ are appended when `opts`
 * asks for them and the items did not.
 * @throws {UnknownCteError} for BINARY of a part with an undecodable encoding
 * @throws {Error} when the caller did not load what fetchNeeds asked for (a bug)
 */
export function renderFetch(items: readonly FetchItem[], msg: FetchInput, opts: RenderOptions = {}): ResponseValue[] {
  const out: ResponseValue[] = [];
  let hasFlags = false;
  let hasModSeq = false;
  if (opts.uid === true || items.some((i) => i.kind === 'UID')) out.push(atom('UID'), msg.uid);
  for (const item of items) {
    if (item.kind === 'UID') continue;
    if (item.kind === 'FLAGS') hasFlags = true;
    if (item.kind === 'MODSEQ') hasModSeq = true;
    const [name, value] = itemValue(item, msg);
    out.push(atom(name), value);
  }
  if (opts.flags === true && !hasFlags) out.push(atom('FLAGS'), flagsValue(msg));
  if (opts.modSeq === true && !hasModSeq) out.push(atom('MODSEQ'), [msg.modSeq]);
  return out;
}
