// Account replication as the rest of Sealpost sees it: an owner node has the
// ciphertexts and mailbox snapshots of each of its accounts pinned by k peer
// nodes (replicas), chosen from the registry by rendezvous hashing of the
// account's tag (select.ts), so that losing the machine loses nothing; a
// restore on a new machine with the same node key asks those replicas for the
// account's latest snapshot pointer. Protocol '/sealpost/replica/1.0.0'
// (wire.ts) over network/rpc.ts; the replica side is service.ts, the owner
// side client.ts, the replica's records store.ts (SQLite).
//
// Names: an account is known to replicas only by its 32-byte tag, chosen by
// the owner (an HMAC of the account's fingerprint), so replicas never learn
// addresses. Everything a replica keeps is keyed by (owner node id, tag):
// the owner is the node the Noise handshake authenticated, never a field of
// the request, so no node can read or change another node's entries.
import type { Cid } from '../storage/types.ts';

/** The libp2p protocol replicas serve. */
export const REPLICA_PROTOCOL = '/sealpost/replica/1.0.0';

/** Bytes of an account tag. */
export const TAG_BYTES = 32;

/** Replicas per account unless configured otherwise. */
export const DEFAULT_REPLICAS = 3;

/** The account's latest mailbox snapshot as its owner published it. */
export interface SnapshotPointer {
  /** the owner's counter, 0..2^53 − 1: a replica keeps the highest */
  seq: number;
  /** the snapshot object */
  cid: Cid;
}

/**
 * A pointer with the owner's Ed25519 signature (wire.ts pointerSigningBytes):
 * a replica can keep or withhold a pointer, not forge one, so the worst a
 * replica can do to a restore is offer an older snapshot, and the restore
 * takes the highest seq any replica offers.
 */
export interface SignedPointer extends SnapshotPointer {
  /** 64 bytes */
  sig: Uint8Array;
}

/** What a replica keeps of (owner, tag), as its `status` answer says. */
export interface HoldingStatus {
  /** CIDs held for this owner and tag */
  held: number;
  /** their total size in octets, or null when the replica does not know every size */
  bytes: number | null;
  pointer: SignedPointer | null;
}

/** One CID a replica could not pin, and why (a ReplicaErrorCode, BLOCK_CORRUPT, INVALID, or INTERNAL). */
export interface CidFailure {
  cid: Cid;
  code: string;
}

/** The replica's answer to a pin request. */
export interface PinAnswer {
  /** CIDs now held for (owner, tag), including those held before */
  held: Cid[];
  failed: CidFailure[];
}

/** The replica's answer to an unpin request. */
export interface UnpinAnswer {
  /** CIDs no longer held for (owner, tag) (CIDs that were not held are left out) */
  removed: Cid[];
  /** CIDs kept because the tag's snapshot pointer names them (publish a newer pointer first) */
  kept: Cid[];
}

/** The replica's answer to a pointer request. */
export interface PointerAnswer {
  /** false when the replica already had this seq with another CID, or a higher seq */
  accepted: boolean;
  /** the pointer the replica holds now */
  pointer: SignedPointer;
}

/** One page of the CIDs held for (owner, tag). */
export interface ListAnswer {
  /** in CID string order */
  cids: Cid[];
  /** pass as `after` for the next page; null on the last page */
  next: Cid | null;
}

// ── The replica's records (store.ts) ────────────────────────────────────────

/** The quotas a hold is checked against, inside its transaction. */
export interface ReplicaQuota {
  /** holdings (owner, tag, CID) per owner */
  maxCidsPerOwner: number;
  /** octets per owner, counting holdings whose size is known */
  maxBytesPerOwner: number;
  /** holdings in all */
  maxCids: number;
}

export interface HoldParams {
  /** 32-byte node id */
  owner: Uint8Array;
  tag: Uint8Array;
  cid: Cid;
  /** the object's size, when known */
  bytes: number | null;
  /**
   * The storage pin was there before the replica pinned the CID (the node
   * keeps it for its own mail): the replica must never unpin it. Only read
   * when no holding of this CID exists yet.
   */
  adopted: boolean;
  /** ms since the epoch */
  at: number;
}

export interface ReleaseResult {
  removed: Cid[];
  /** named by the tag's pointer, so not released */
  kept: Cid[];
  /** no holding of these is left and the replica made their storage pin: unpin them */
  freed: Cid[];
}

/** The replica's records: who has which CID held, and the pointers (store.ts: SQLite). */
export interface ReplicaStore {
  /** True when (owner, tag) holds `cid`. */
  holds(owner: Uint8Array, tag: Uint8Array, cid: Cid): boolean;
  /** True when any owner or tag holds `cid` (the replica's storage pin is then in place). */
  known(cid: Cid): boolean;
  /**
   * Records a holding in one transaction with its quota check.
   * @returns 'added', or 'present' when it was already held
   * @throws ReplicaError REPLICA_QUOTA_EXCEEDED
   */
  hold(params: HoldParams, quota: ReplicaQuota): 'added' | 'present';
  /** Drops holdings of (owner, tag), except the CID its pointer names, in one transaction. */
  release(owner: Uint8Array, tag: Uint8Array, cids: readonly Cid[]): ReleaseResult;
  pointer(owner: Uint8Array, tag: Uint8Array): SignedPointer | null;
  /**
   * Keeps `pointer` if its seq is above the stored one's (or the same pointer again).
   * The pointer's CID must already be held by (owner, tag).
   */
  setPointer(owner: Uint8Array, tag: Uint8Array, pointer: SignedPointer, at: number): PointerAnswer;
  status(owner: Uint8Array, tag: Uint8Array): HoldingStatus;
  /** Up to `limit` CIDs held by (owner, tag) after `after`, in CID string order. */
  list(owner: Uint8Array, tag: Uint8Array, after: Cid | null, limit: number): Cid[];
  /** What an owner holds over all its tags. */
  usage(owner: Uint8Array): { held: number; bytes: number };
  close(): void;
}

/** Limits of the replica service (service.ts). */
export interface ReplicaServiceLimits {
  /** largest request body (default 32 KiB: a pin of 256 CIDs is about 16 KiB) */
  maxRequestBytes?: number;
  /** requests answered at once (default 16); more get BUSY */
  maxConcurrent?: number;
  /** the longest a pin or pointer request waits for its fetches (default 20 s); the request's own waitMs is capped by it */
  maxWaitMs?: number;
  /** block fetches in flight at once across all requests, those outliving their request included (default 8) */
  maxFetches?: number;
  /** holdings per owner (default 1,000,000) */
  maxCidsPerOwner?: number;
  /** octets per owner, counted where sizes are known (default 16 GiB) */
  maxBytesPerOwner?: number;
  /** holdings in all (default 10,000,000) */
  maxCids?: number;
}
