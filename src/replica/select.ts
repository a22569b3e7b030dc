// Which nodes replicate an account: rendezvous (highest random weight)
// hashing (Thaler & Ravishankar, "Using Name-Based Mappings to Increase Hit
// Rates", 1998) of the account tag over the registry's nodes. Every node
// scores SHA-256("sealpost/replica/select/v1\0" ‖ tag ‖ node id bytes) and the
// k highest hold the account. The owner computes the same set before and
// after losing its machine (the tag and the registry are all it needs), the
// order of the node list does not matter, and a node joining or leaving moves
// only the accounts it held or now wins. The prefix keeps these scores apart
// from custody's selection (custody/select.ts), so the nodes that hold a
// message's key shares are not for that reason the ones that hold its
// ciphertext.
import { createHash } from 'node:crypto';
import { parseNodeId } from '../registry/records.ts';
import { ReplicaError } from './errors.ts';
import { TAG_BYTES } from './types.ts';

/** Most replicas an account can have. */
export const MAX_REPLICAS = 64;

const SELECT_PREFIX = Buffer.from('sealpost/replica/select/v1\0', 'latin1');

/**
 * The replicas of `tag`, highest score first: the k best of `nodes` that are
 * not in `exclude` (the owner itself), or all of them when fewer are eligible.
 * Duplicate ids count once; ids that are not node ids (base64 of 32 bytes) are skipped.
 * @throws ReplicaError REPLICA_BAD_PARAMS when tag is not 32 bytes (field `tag`)
 *   or k is not an integer in 1..64 (field `k`)
 */
export function selectReplicas(tag: Uint8Array, nodes: Iterable<string>, k: number, exclude: Iterable<string> = []): string[] {
  checkTag(tag);
  checkK(k, 'k');
  const excluded = new Set(exclude);
  const scored = new Map<string, Buffer>();
  for (const id of nodes) {
    if (excluded.has(id) || scored.has(id)) continue;
    let raw: Uint8Array;
    try {
      raw = parseNodeId(id);
    } catch {
      continue;
    }
    scored.set(id, createHash('sha256').update(SELECT_PREFIX).update(tag).update(raw).digest());
  }
  // Distinct ids give distinct scores short of a SHA-256 collision; the id
  // comparison only keeps the sort total.
  return [...scored]
    .sort(([a, sa], [b, sb]) => Buffer.compare(sb, sa) || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, k)
    .map(([id]) => id);
}

/** @throws ReplicaError REPLICA_BAD_PARAMS (field `tag`) unless 32 bytes */
export function checkTag(tag: Uint8Array): void {
  if (!(tag instanceof Uint8Array) || tag.byteLength !== TAG_BYTES) throw new ReplicaError('REPLICA_BAD_PARAMS', `must be ${TAG_BYTES} bytes`, { field: 'tag' });
}

/** @throws ReplicaError REPLICA_BAD_PARAMS (field `field`) unless an integer in 1..64 */
export function checkK(k: number, field: string): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_REPLICAS) throw new ReplicaError('REPLICA_BAD_PARAMS', `must be an integer in 1..${MAX_REPLICAS}`, { field });
}
