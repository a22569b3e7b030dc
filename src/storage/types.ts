// The storage backend seen by the rest of Sealpost: content-addressed objects
// (the OpenPGP ciphertext of a message) named by their CID. The embedded
// default is Helia on a blockstore in the data directory (storage/helia.ts);
// storage/memory.ts is the double for unit tests. Every implementation runs
// the one contract suite in test/storage/contract.ts.
//
// Integrity rule: `get` never returns bytes that do not hash to the CID. A
// block that was altered on disk raises BlockCorruptError, a block that is
// absent raises BlockNotFoundError (storage/errors.ts), so callers can show
// the user a clear reason instead of silently wrong content.

/** A CID in its canonical string form (CIDv1, base32 `bafy…`/`bafk…`). */
export type Cid = string & { readonly __brand: 'Cid' };

export interface BlockStorage {
  /**
   * Stores an object and returns its CID. When the promise resolves the
   * object is durable (fsynced): an SMTP 250 may depend on it. The object is
   * pinned (kept by garbage collection) until `unpin`.
   * @throws LimitError when `bytes` is larger than the backend accepts
   */
  put(bytes: Uint8Array): Promise<Cid>;

  /**
   * Stores several objects as `put` does, writing them concurrently and
   * recording their pins in one transaction; CIDs in the same order. Durable
   * when the promise resolves.
   * @throws LimitError when one is larger than the backend accepts (then none is stored)
   */
  putMany(objects: readonly Uint8Array[]): Promise<Cid[]>;

  /**
   * Reads an object back, verifying every block against its hash.
   * @throws BlockNotFoundError (code BLOCK_NOT_FOUND) when a block is missing
   * @throws BlockCorruptError (code BLOCK_CORRUPT) when a block does not match its CID
   * @throws ValidationError (field `cid`) when `cid` is not a CID
   */
  get(cid: Cid): Promise<Uint8Array>;

  /** True when every block of the object is stored locally (no verification of content). */
  has(cid: Cid): Promise<boolean>;

  /** Keeps the object through garbage collection. Idempotent. @throws BlockNotFoundError */
  pin(cid: Cid): Promise<void>;

  /** pin for each, with the pin records written in one transaction (a restore pins thousands). @throws BlockNotFoundError */
  pinMany(cids: readonly Cid[]): Promise<void>;

  /** Allows the object to be garbage-collected. Idempotent; unknown CIDs are ignored. */
  unpin(cid: Cid): Promise<void>;

  /** True when pinned. */
  isPinned(cid: Cid): Promise<boolean>;

  close(): Promise<void>;
}
