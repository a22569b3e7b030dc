// Part numbers of BODY[section] / BINARY[section] (RFC 3501 §6.4.5): the
// Dovecot reading of "a single-part entity has exactly one part, itself".
import type { MimeNode } from '../../mime/types.ts';

/**
 * A single-part entity has one part, itself (RFC 3501 §6.4.5 says so for the
 * message; Dovecot applies it at every depth: BODY[2.2.1] of a text/html part
 * 2.2 is that part). mime/section.ts applies it at the top only, so trailing
 * ".1"s below a leaf are dropped here: [2, 2, 1] -> [2, 2].
 */
export function leafPath(root: MimeNode, path: readonly number[]): number[] {
  let node: MimeNode | undefined = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i]!;
    const list: MimeNode[] | undefined = i === 0
      ? (root.parts ?? [root])
      : node.parts ?? (node.message ? (node.message.parts ?? [node.message]) : undefined);
    if (list === undefined) {
      // node is a leaf: "1" names it again, anything else does not exist.
      if (path.slice(i).every((p) => p === 1)) return path.slice(0, i);
      return [...path];
    }
    node = list[n - 1];
    if (node === undefined) return [...path];
  }
  return [...path];
}
