// MIME structure parser (RFC 2045 §5-6, RFC 2046 §5.1 multipart, §5.2
// message/rfc822, RFC 6532 message/global) producing the byte-offset tree that
// BODY[section], ENVELOPE and BODYSTRUCTURE (RFC 3501 §6.4.5, §7.4.2) need.
// Bodies are never decoded. It never throws: broken MIME gets a best-effort
// tree, choosing what Dovecot does where the RFCs are silent:
// - a header with no blank line after it is all header (empty body);
// - an unparseable Content-Type is ignored (text/plain; charset=us-ascii);
// - a missing closing boundary ends the last part at the end of the entity;
// - a multipart with no boundary parameter, or whose boundary never occurs,
//   gets one empty text/plain part at the end of its body (Dovecot's
//   EMPTY_BODYSTRUCTURE), so that every multipart has at least one part;
// - past MAX_DEPTH nesting levels or MAX_PARTS entities, parts are leaves:
//   a multipart or message node then has no `parts` / `message`;
// - message/rfc822 is parsed as a message whatever its transfer encoding.

import { splitHeader, parseHeaderParams, type HeaderField } from './headers.ts';
import { envelopeFromFields } from './envelope.ts';
import type { MimeNode, MimeParams } from './types.ts';

export const MAX_DEPTH = 64;
export const MAX_PARTS = 10_000;

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface Ctx { buf: Buffer; parts: number }

/** Body lines: the number of CRLF-terminated lines. A final line without CRLF
 *  is not counted: checked against Dovecot 2.3, which reports "first" (before
 *  a boundary) as 5 octets, 0 lines. */
function countLines(buf: Buffer, from: number, to: number): number {
  let lines = 0;
  const view = buf.subarray(from, to);
  for (let i = view.indexOf(LF); i !== -1; i = view.indexOf(LF, i + 1)) lines++;
  return lines;
}

/** First token of a header value (`base64 (comment)` -> `base64`). */
function firstToken(v: string): string {
  const m = /^[^\s;(]+/.exec(v);
  return m ? m[0] : '';
}

function isType(node: MimeNode, type: string, subtype?: string): boolean {
  return node.type.toLowerCase() === type && (subtype === undefined || node.subtype.toLowerCase() === subtype);
}

function leaf(start: number, bodyStart: number, end: number, type: string, subtype: string, params: MimeParams): MimeNode {
  return {
    start, bodyStart, end, type, subtype, params,
    id: null, description: null, encoding: '7BIT', md5: null, disposition: null,
    language: null, location: null, size: end - bodyStart, lines: 0,
  };
}

function applyHeaders(node: MimeNode, fields: HeaderField[], inDigest: boolean): void {
  let ct: string | undefined;
  const seen = new Set<string>();
  for (const f of fields) {
    if (!f.lowerName.startsWith('content-') || seen.has(f.lowerName)) continue;
    seen.add(f.lowerName); // first occurrence wins, as in Dovecot
    switch (f.lowerName) {
      case 'content-type': ct = f.value; break;
      case 'content-transfer-encoding': { const t = firstToken(f.value); if (t !== '') node.encoding = t; break; }
      case 'content-id': node.id = f.value; break;
      case 'content-description': node.description = f.value; break;
      case 'content-md5': node.md5 = f.value; break;
      case 'content-location': node.location = f.value; break;
      case 'content-language': {
        const langs = f.value.replace(/\([^)]*\)/g, '').split(/[\s,]+/).filter((s) => s !== '');
        node.language = langs.length > 0 ? langs : null;
        break;
      }
      case 'content-disposition': {
        const d = parseHeaderParams(f.value);
        if (TOKEN.test(d.value)) node.disposition = { type: d.value, params: d.params };
        break;
      }
    }
  }
  if (ct !== undefined) {
    const p = parseHeaderParams(ct);
    const slash = p.value.indexOf('/');
    const type = p.value.slice(0, slash).trim();
    const subtype = p.value.slice(slash + 1).trim();
    if (slash > 0 && TOKEN.test(type) && TOKEN.test(subtype)) {
      node.type = type;
      node.subtype = subtype;
      node.params = p.params;
      return;
    }
  }
  // Absent or unparseable: RFC 2045 §5.2 / RFC 2046 §5.1.5 defaults.
  if (inDigest) { node.type = 'message'; node.subtype = 'rfc822'; node.params = []; }
}

/** Parse one entity spanning [start, end). `withEnvelope` marks a message root. */
function parseEntity(ctx: Ctx, start: number, end: number, depth: number, inDigest: boolean, withEnvelope: boolean): MimeNode {
  const { buf } = ctx;
  ctx.parts++;
  let headerEnd: number;
  let bodyStart: number;
  if (buf[start] === CR && buf[start + 1] === LF && start + 2 <= end) {
    headerEnd = start; // empty header
    bodyStart = start + 2;
  } else {
    const idx = buf.subarray(start, end).indexOf(CRLFCRLF);
    if (idx === -1) { headerEnd = end; bodyStart = end; } else { headerEnd = start + idx + 2; bodyStart = start + idx + 4; }
  }
  const fields = splitHeader(buf.subarray(start, headerEnd));
  const node = leaf(start, bodyStart, end, 'text', 'plain', [['charset', 'us-ascii']]);
  applyHeaders(node, fields, inDigest);
  if (withEnvelope) node.envelope = envelopeFromFields(fields);

  const canNest = depth < MAX_DEPTH && ctx.parts < MAX_PARTS;
  if (isType(node, 'multipart') && canNest) {
    const boundary = node.params.find(([k]) => k === 'boundary')?.[1];
    node.parts = boundary ? parseMultipart(ctx, bodyStart, end, boundary, depth, isType(node, 'multipart', 'digest')) : [];
    if (node.parts.length === 0) node.parts.push(leaf(end, end, end, 'text', 'plain', [['charset', 'us-ascii']]));
  } else if (isType(node, 'message') && (isType(node, 'message', 'rfc822') || isType(node, 'message', 'global'))) {
    if (canNest) node.message = parseEntity(ctx, bodyStart, end, depth + 1, false, true);
    node.lines = countLines(buf, bodyStart, end);
  } else if (isType(node, 'text')) {
    node.lines = countLines(buf, bodyStart, end);
  }
  return node;
}

/** If a delimiter line for `delim` starts at `at`, return where the next part
 *  begins (past the line's CRLF) and whether it is the close delimiter. */
function delimiterAt(buf: Buffer, at: number, end: number, delim: Buffer): { next: number; close: boolean } | null {
  if (at + delim.length > end || buf.compare(delim, 0, delim.length, at, at + delim.length) !== 0) return null;
  let q = at + delim.length;
  let close = false;
  if (q + 1 < end && buf[q] === 0x2d && buf[q + 1] === 0x2d) { close = true; q += 2; }
  while (q < end && (buf[q] === 0x20 || buf[q] === 0x09)) q++; // transport padding, RFC 2046 §5.1.1
  if (q === end) return { next: end, close };
  if (buf[q] === CR && q + 1 < end && buf[q + 1] === LF) return { next: q + 2, close };
  return null;
}

/** Split a multipart body into its parts (RFC 2046 §5.1.1): the CRLF before a
 *  delimiter belongs to the delimiter; preamble and epilogue are dropped. */
function parseMultipart(ctx: Ctx, bodyStart: number, end: number, boundary: string, depth: number, digest: boolean): MimeNode[] {
  const { buf } = ctx;
  const delim = Buffer.from('--' + boundary, 'utf8');
  const needle = Buffer.concat([Buffer.from('\r\n'), delim]);
  const region = buf.subarray(0, end);
  const parts: MimeNode[] = [];
  let partStart = -1; // -1 while still in the preamble
  let pos = bodyStart;
  let hit = delimiterAt(buf, bodyStart, end, delim);
  let lineCrlf = bodyStart; // where the current delimiter's leading CRLF starts
  if (!hit) {
    for (;;) {
      const idx = region.indexOf(needle, pos);
      if (idx === -1) break;
      const h = delimiterAt(buf, idx + 2, end, delim);
      if (h) { hit = h; lineCrlf = idx; break; }
      pos = idx + 2;
    }
  }
  while (hit) {
    if (partStart !== -1) {
      parts.push(parseEntity(ctx, partStart, Math.max(partStart, lineCrlf), depth + 1, digest, false));
      if (ctx.parts >= MAX_PARTS) return parts;
    }
    if (hit.close) return parts;
    partStart = hit.next;
    hit = null;
    // Search from the CRLF that ended the delimiter line, so that a delimiter
    // right after it closes an empty part (lenient, as Dovecot).
    let from = Math.max(bodyStart, partStart - 2);
    for (;;) {
      const idx = region.indexOf(needle, from);
      if (idx === -1) break;
      const h = delimiterAt(buf, idx + 2, end, delim);
      if (h) { hit = h; lineCrlf = idx; break; }
      from = idx + 1;
    }
  }
  // No closing delimiter: the last part runs to the end of the entity.
  if (partStart !== -1) parts.push(parseEntity(ctx, partStart, end, depth + 1, digest, false));
  return parts;
}

/** Parse a CRLF-normalised message into its MIME tree. Never throws. */
export function parseMessage(raw: Uint8Array): MimeNode {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return parseEntity({ buf, parts: 0 }, 0, buf.length, 0, false, true);
}
