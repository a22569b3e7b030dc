// BINARY[part] and BINARY.SIZE[part] (RFC 3516 §4.2, §4.3): a part's content
// with its Content-Transfer-Encoding undone (base64, quoted-printable;
// 7bit/8bit/binary pass through). An encoding the server cannot decode is
// NO [UNKNOWN-CTE] (RFC 3516 §4.2).
import * as libqp from 'libqp';
import { SealpostError } from '../../errors/index.ts';
import { findPart } from '../../mime/section.ts';
import type { MimeNode } from '../../mime/types.ts';
import { leafPath } from './parts.ts';

/** The part's Content-Transfer-Encoding is not one we can decode (answer NO [UNKNOWN-CTE]). */
export class UnknownCteError extends SealpostError {
  constructor(encoding: string) {
    super('UNKNOWN_CTE', `Cannot decode Content-Transfer-Encoding ${encoding.slice(0, 40)}`);
    this.name = 'UnknownCteError';
  }
}

const IDENTITY = new Set(['7bit', '8bit', 'binary', '']);

/**
 * Decoded content of part `path` of the message (`raw` + its tree), or null
 * when there is no such part. [] is the whole message, undecoded.
 * @throws {UnknownCteError} for an encoding other than 7bit, 8bit, binary, base64, quoted-printable
 */
export function binaryContent(raw: Uint8Array, root: MimeNode, path: readonly number[]): Uint8Array | null {
  if (path.length === 0) return raw;
  const node = findPart(root, leafPath(root, path));
  if (node === null) return null;
  const body = raw.subarray(node.bodyStart, node.end);
  // Composite types cannot be encoded other than identity (RFC 2045 §6.4).
  if (node.parts || node.message) return body;
  const enc = node.encoding.trim().toLowerCase();
  if (IDENTITY.has(enc)) return body;
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (enc === 'base64') return Buffer.from(buf.toString('latin1'), 'base64');
  if (enc === 'quoted-printable') return libqp.decode(buf);
  throw new UnknownCteError(node.encoding);
}
