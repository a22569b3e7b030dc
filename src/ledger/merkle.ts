// Merkle trees of RFC 6962 §2.1 over leaf hashes: the Merkle Tree Hash (MTH),
// audit paths (§2.1.1) and their verification (RFC 9162 §2.1.3.2).
//
// MTH splits n leaves at the largest power of two k < n. Pairing the nodes
// of each level from the left and lifting an odd last node unchanged to the
// next level builds exactly that tree, so it is built bottom-up here: one
// pass, every level kept, and an audit path is one sibling per level.
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/index.ts';

export const HASH_SIZE = 32;

const NODE_PREFIX = new Uint8Array([0x01]);

/** MTH({}) = SHA-256 of the empty string (RFC 6962 §2.1). */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** An interior node: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * Every level of the tree over `leaves` (leaf hashes), leaves first, root
 * last. Levels are immutable once built: callers may cache them per batch.
 */
export function merkleLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leaves.slice()];
  let level = levels[0] as Uint8Array[];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashChildren(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    levels.push(next);
    level = next;
  }
  return levels;
}

/** MTH(D[n]) over leaf hashes; the empty tree has EMPTY_ROOT. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  const levels = merkleLevels(leaves);
  return (levels[levels.length - 1] as Uint8Array[])[0] as Uint8Array;
}

/**
 * PATH(m, D[n]) of RFC 6962 §2.1.1 from prebuilt levels: the sibling hashes
 * from the leaf up. A node without a sibling (odd last) adds nothing.
 * @throws ValidationError (field `index`) when index is outside the tree
 */
export function pathFromLevels(levels: readonly (readonly Uint8Array[])[], index: number): Uint8Array[] {
  const size = levels[0]?.length ?? 0;
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new ValidationError('index', `must be a leaf index below the tree size ${size}`);
  }
  const path: Uint8Array[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l] as readonly Uint8Array[];
    const sibling = i ^ 1;
    if (sibling < level.length) path.push(level[sibling] as Uint8Array);
    i = Math.floor(i / 2);
  }
  return path;
}

/**
 * The audit path of leaf `index` in the tree over `leaves`.
 * @throws ValidationError (field `index`) when index is outside the tree
 */
export function auditPath(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  return pathFromLevels(merkleLevels(leaves), index);
}

/**
 * The root that `path` leads to from `leaf` at `index` in a tree of `size`
 * leaves (RFC 9162 §2.1.3.2). Equal to the published root iff the leaf is in
 * that tree.
 * @throws ValidationError naming `index`, `size` or `path` when the proof
 *   cannot belong to such a tree (too long, too short, bad hash length)
 */
export function rootFromPath(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 1) throw new ValidationError('size', 'must be a positive integer');
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new ValidationError('index', `must be below the tree size ${size}`);
  if (leaf.length !== HASH_SIZE) throw new ValidationError('leaf', `must be ${HASH_SIZE} bytes`);
  // fn/sn are the leaf's and the last leaf's positions on the current level;
  // numbers stay exact up to 2^53, far beyond any batch.
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of path) {
    if (p.length !== HASH_SIZE) throw new ValidationError('path', `hashes must be ${HASH_SIZE} bytes`);
    if (sn === 0) throw new ValidationError('path', `is longer than a tree of ${size} leaves allows`);
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      // A right-edge node without a sibling is lifted unchanged: skip the levels it rises through.
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ValidationError('path', `is shorter than a tree of ${size} leaves needs`);
  return r;
}

/** True when `path` proves `leaf` at `index` in the tree of `size` leaves with `root`. Never throws. */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  try {
    return Buffer.from(rootFromPath(leaf, index, size, path)).equals(root);
  } catch {
    return false;
  }
}
