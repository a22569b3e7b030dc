// The custody service as the rest of Sealpost sees it: the ticket an expiring
// message's announcement carries (who holds which share, the Pedersen
// commitments), the custodian's share store (vault.ts implements it on
// SQLite), and the limits both ends apply. The wire format is in wire.ts, the
// custodian in service.ts, the sender's and reader's side in client.ts.
//
// Names: a message is referred to by its 32-byte SHA-256 message hash from
// the ledger record (`ref`); nodes by their node id, base64 of the raw 32-byte
// Ed25519 public key (network/identity.ts, registry/records.ts formatNodeId).

/** The libp2p protocol custodians serve. */
export const CUSTODY_PROTOCOL = '/sealpost/custody/1.0.0';

/** Bytes of a message reference (SHA-256). */
export const REF_BYTES = 32;

/** How many custodians hold a message's shares (n) and how many recover it (t); config network.custody. */
export interface CustodyPolicy {
  n: number;
  t: number;
}

/** The default policy: 5 custodians, any 3 recover the secret. */
export const DEFAULT_CUSTODY_POLICY: Readonly<CustodyPolicy> = { n: 5, t: 3 };

/**
 * What a reader needs to collect the secret of one message: it travels in the
 * message's (sealed) announcement. wire.ts encodeTicket / decodeTicket give
 * its compact binary form.
 */
export interface CustodyTicket {
  /** the 32-byte message hash */
  ref: Uint8Array;
  /** the sender's node id: shares are stored per (ref, sender) */
  sender: string;
  /** threshold */
  t: number;
  /** custodian node ids; custodians[i] holds the share with index i + 1 */
  custodians: string[];
  /** pedersen.ts encodeCommitments of C_0 .. C_{t-1} */
  commitments: Uint8Array;
  /** ms since the epoch, when custodians delete their shares */
  expiresAt: number;
}

/** One share as a custodian stores it. */
export interface StoredShare {
  ref: Uint8Array;
  /** the depositing node's id (base64) */
  sender: string;
  /** the share's index, 1..255 */
  index: number;
  /** the encoded share sealed to this custodian's X25519 key (ecies.ts, AAD wire.ts depositAad) */
  sealed: Uint8Array;
  /** node ids allowed to ask for the share (the recipients' nodes; the sender is always allowed) */
  readers: string[];
  /** ms since the epoch */
  expiresAt: number;
  depositedAt: number;
}

/** What a custodian remembers of a share it deleted, so it can answer EXPIRED/REVOKED and owe a receipt. */
export interface Tombstone {
  ref: Uint8Array;
  sender: string;
  reason: 'expired' | 'revoked';
  /** ms since the epoch: the time the deletion receipt states */
  deletedAt: number;
  /** when the receipt reached the registry, or null while it is still owed */
  receiptAt: number | null;
}

/** The result of storing a share. */
export type PutResult = 'stored' | 'replaced';

/**
 * The custodian's share store (vault.ts: SQLite). Deleting must destroy the
 * sealed bytes on disk, not only unlink them.
 */
export interface CustodyVault {
  /**
   * Stores a share, replacing the sender's earlier share for the same ref.
   * @throws CustodyError CUSTODY_FULL beyond the overall or per-sender limit;
   *   CUSTODY_EXPIRED / CUSTODY_REVOKED when this (ref, sender) was deleted before (it stays deleted)
   */
  put(share: StoredShare): PutResult;
  get(ref: Uint8Array, sender: string): StoredShare | null;
  tombstone(ref: Uint8Array, sender: string): Tombstone | null;
  /** Deletes shares and leaves tombstones, in one transaction; returns how many existed. */
  delete(keys: readonly { ref: Uint8Array; sender: string }[], reason: Tombstone['reason'], at: number): number;
  /** Shares whose expiry is at or before `now`, oldest first, at most `limit`. */
  due(now: number, limit: number): { ref: Uint8Array; sender: string }[];
  /** Tombstones whose receipt is still owed, at most `limit`. */
  pendingReceipts(limit: number): Tombstone[];
  markReceipt(ref: Uint8Array, sender: string, at: number): void;
  /** Forgets tombstones whose receipt was recorded before `before`; returns how many. */
  purgeTombstones(before: number): number;
  /** Shares held. */
  count(): number;
  close(): void;
}

/** Limits of the custodian (service.ts). */
export interface CustodyServiceLimits {
  /** largest request body (default 8 KiB: a deposit with 32 readers is about 2.5 KiB) */
  maxRequestBytes?: number;
  /** time to read and answer one request (default 10 s) */
  requestTimeoutMs?: number;
  /** requests answered at once (default 32) */
  maxConcurrent?: number;
  /** how far a signed request's time may be from the custodian's clock (default 5 min) */
  clockSkewMs?: number;
  /** the latest expiry accepted, from now (default 5 years) */
  maxLifetimeMs?: number;
  /** how long a tombstone is kept after its receipt was recorded (default 30 days) */
  tombstoneRetentionMs?: number;
}

/** Limits of the vault (vault.ts). */
export interface CustodyVaultLimits {
  /** shares held at once (default 100,000) */
  maxShares?: number;
  /** shares held at once for one sender (default 10,000) */
  maxSharesPerSender?: number;
}
