// BODY[section] extraction (RFC 3501 §6.4.5) from a message and its cached
// MIME tree. Part numbers walk multipart children; a message/rfc822 part's
// numbers walk its encapsulated message; a non-multipart message (top-level
// or encapsulated) has exactly one part, its body. <partial> is the caller's.

import { splitHeader } from './headers.ts';
import type { MimeNode, SectionSpec } from './types.ts';

const CRLF = Buffer.from('\r\n');

/** Sub-parts addressable below `node`, or null when it has none. */
function children(node: MimeNode): MimeNode[] | null {
  if (node.parts) return node.parts;
  if (node.message) return node.message.parts ?? [node.message];
  return null;
}

/** Resolve a part path; [] is the message itself. */
export function findPart(root: MimeNode, path: number[]): MimeNode | null {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i] as number;
    // At the top, a non-multipart message has one part: its body (itself).
    const list = i === 0 ? (root.parts ?? [root]) : children(node);
    if (list === null || !Number.isInteger(n) || n < 1 || n > list.length) return null;
    node = list[n - 1] as MimeNode;
  }
  return node;
}

function headerFields(raw: Uint8Array, msg: MimeNode, names: string[], keep: boolean): Uint8Array {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const chunks: Uint8Array[] = [];
  for (const f of splitHeader(raw.subarray(msg.start, msg.bodyStart))) {
    if (wanted.has(f.lowerName) !== keep) continue;
    chunks.push(f.raw);
    const r = f.raw;
    if (r.length < 2 || r[r.length - 2] !== 0x0d || r[r.length - 1] !== 0x0a) chunks.push(CRLF);
  }
  chunks.push(CRLF); // the blank line that ends a header
  return Buffer.concat(chunks);
}

/** Bytes of BODY[spec], or null when the section does not exist (the IMAP
 *  layer decides between "" and NIL). Returned arrays may be views into `raw`. */
export function extractSection(raw: Uint8Array, root: MimeNode, spec: SectionSpec): Uint8Array | null {
  const node = findPart(root, spec.path);
  if (node === null) return null;
  if (spec.text === null) {
    return spec.path.length === 0 ? raw : raw.subarray(node.bodyStart, node.end);
  }
  if (spec.text === 'MIME') {
    return spec.path.length === 0 ? null : raw.subarray(node.start, node.bodyStart);
  }
  // HEADER, HEADER.FIELDS[.NOT] and TEXT address a message: the top-level one,
  // or the message encapsulated in a message/rfc822 part.
  const msg = spec.path.length === 0 ? root : node.message;
  if (msg === undefined) return null;
  switch (spec.text) {
    case 'HEADER': return raw.subarray(msg.start, msg.bodyStart);
    case 'TEXT': return raw.subarray(msg.bodyStart, msg.end);
    case 'HEADER.FIELDS': return headerFields(raw, msg, spec.fields ?? [], true);
    case 'HEADER.FIELDS.NOT': return headerFields(raw, msg, spec.fields ?? [], false);
  }
  return null;
}
