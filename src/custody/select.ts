// Deterministic custodian selection by rendezvous (highest random weight)
// hashing (Thaler & Ravishankar, "Using Name-Based Mappings to Increase Hit
// Rates", 1998): every node scores SHA-256(messageHash | nodeId) and the n
// highest scores hold the shares. Anyone with the message hash and the
// registry gets the same set, whatever the order of the list, so a sender
// cannot hand-pick colluding custodians; a node leaving or joining moves only
// the shares it held or now wins.
import { createHash } from 'node:crypto';
import { CustodyError } from './errors.ts';
import { MAX_THRESHOLD } from './pedersen.ts';

/** Bytes of the message hash: a SHA-256 digest, so the concatenation with the node id is unambiguous. */
export const MESSAGE_HASH_BYTES = 32;

/**
 * The n custodians for a message, highest score first.
 * Duplicate ids count once; ids in `exclude` never win.
 * @throws CustodyError CUSTODY_BAD_PARAMS when messageHash is not 32 bytes (field `messageHash`)
 *         or n is not an integer in 1..255 (field `n`);
 *         CUSTODY_TOO_FEW_NODES when fewer than n distinct eligible nodes remain
 */
export function selectCustodians(
  messageHash: Uint8Array,
  nodes: readonly { id: string }[],
  n: number,
  exclude: readonly string[] = [],
): string[] {
  if (!(messageHash instanceof Uint8Array) || messageHash.byteLength !== MESSAGE_HASH_BYTES) {
    throw new CustodyError('CUSTODY_BAD_PARAMS', `expected ${MESSAGE_HASH_BYTES} bytes`, { field: 'messageHash' });
  }
  if (!Number.isInteger(n) || n < 1 || n > MAX_THRESHOLD) {
    throw new CustodyError('CUSTODY_BAD_PARAMS', `must be an integer in 1..${MAX_THRESHOLD}`, { field: 'n' });
  }
  const excluded = new Set(exclude);
  const candidates = new Set<string>();
  for (const node of nodes) if (!excluded.has(node.id)) candidates.add(node.id);
  if (candidates.size < n) {
    throw new CustodyError('CUSTODY_TOO_FEW_NODES', `need ${n} custodians, ${candidates.size} eligible nodes`);
  }
  const scored = [...candidates].map((id) => ({
    id,
    score: createHash('sha256').update(messageHash).update(id, 'utf8').digest(),
  }));
  // Distinct ids give distinct scores short of a SHA-256 collision; the id
  // comparison only keeps the sort total.
  scored.sort((a, b) => Buffer.compare(b.score, a.score) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return scored.slice(0, n).map((s) => s.id);
}
