// The ledger seen by the rest of Sealpost. A record says that a message (its
// ciphertext CID and the hash of the original) was accepted from a sender at
// a time. Records are appended to a log, closed into batches, each batch is a
// Merkle tree (RFC 6962 §2.1 hashing) whose root is anchored: by a checkpoint
// signed with the node key (embedded default) or by a transaction to an
// anchoring contract on an EVM chain. A proof takes a record to its anchor.
//
// Hashes are lowercase hex (64 digits, no 0x) everywhere in this interface.

export interface LedgerRecord {
  /** CID of the message's OpenPGP ciphertext in storage */
  cid: string;
  /** SHA-256 of the original message bytes as accepted (CRLF, including our Received:) */
  messageHash: string;
  /** OpenPGP fingerprint of the sender's key, uppercase hex */
  sender: string;
  /** acceptance time, ms since the epoch */
  time: number;
  /** expiry instant chosen by the sender, ms since the epoch; null = never */
  expires: number | null;
}

export interface AppendedRecord {
  /** position in the log, from 1, never reused */
  seq: number;
  /** RFC 6962 leaf hash of the record's canonical encoding */
  leaf: string;
}

export interface Batch {
  id: number;
  /** Merkle root over the leaves of records firstSeq .. firstSeq+size-1 */
  root: string;
  firstSeq: number;
  size: number;
  /** ms since the epoch when the batch was closed */
  closedAt: number;
}

/** Where a batch root is anchored. */
export type AnchorRef =
  | {
      kind: 'local';
      /** the checkpoint statement that was signed (canonical JSON, see ledger/local-anchor.ts) */
      statement: string;
      /** Ed25519 signature over `statement`, base64 */
      signature: string;
      /** the node's Ed25519 public key, base64 of the raw 32 bytes */
      publicKey: string;
    }
  | {
      kind: 'evm';
      chainId: number;
      /** anchoring contract address, 0x-prefixed */
      contract: string;
      /** transaction hash, 0x-prefixed */
      tx: string;
      block: number;
      /** block timestamp, ms since the epoch */
      time: number;
    };

export interface Proof {
  seq: number;
  record: LedgerRecord;
  batch: Batch;
  /** position of the record's leaf inside the batch tree (seq - firstSeq) */
  index: number;
  /** RFC 6962 §2.1.1 audit path, sibling hashes from the leaf up */
  path: string[];
  anchor: AnchorRef;
}

export type VerifyStepName = 'record' | 'merkle' | 'anchor';

export interface VerifyStep {
  step: VerifyStepName;
  ok: boolean;
  /** one line a person can read: what was checked, and why it failed */
  detail: string;
}

export interface Verification {
  ok: boolean;
  steps: VerifyStep[];
}

/** Commits a batch root somewhere outside the log, and checks such a commitment. */
export interface Anchorer {
  readonly kind: AnchorRef['kind'];
  /**
   * Anchors the batch's root. Idempotent for a root that is already anchored
   * (after a crash between sending and recording, the existing anchor is returned).
   */
  anchor(batch: Batch): Promise<AnchorRef>;
  /** Checks that `ref` really anchors `batch.root` (signature, or the root on chain at that block). */
  check(batch: Batch, ref: AnchorRef): Promise<VerifyStep>;
  close(): Promise<void>;
}

export interface Ledger {
  readonly kind: AnchorRef['kind'];

  /**
   * Appends a record. Durable when the promise resolves (SQLite
   * synchronous=FULL): an SMTP 250 may depend on it. The record joins the
   * open batch; batches close by size or interval (config ledger.*).
   * @throws ValidationError naming the bad field
   */
  append(record: LedgerRecord): Promise<AppendedRecord>;
  /**
   * Appends several records in one transaction (one fsync: imports seal
   * hundreds of messages a second). All or none; in order.
   * @throws ValidationError naming the bad field (then nothing is appended)
   */
  appendMany(records: readonly LedgerRecord[]): Promise<AppendedRecord[]>;

  /** Closes the open batch now and anchors every batch not yet anchored. Returns the batches anchored. */
  anchor(): Promise<Batch[]>;

  /** The record at `seq`, or null. */
  get(seq: number): Promise<LedgerRecord | null>;

  /** Sequence numbers of records with this CID or message hash (ascending). */
  find(query: { cid: string } | { messageHash: string }): Promise<number[]>;

  /**
   * The inclusion proof of record `seq`: null while its batch is not anchored yet.
   * @throws NotFoundError when there is no such record
   */
  prove(seq: number): Promise<Proof | null>;

  /**
   * Checks a proof independently of the log's own bookkeeping: recomputes the
   * leaf from `proof.record`, the root from the path, and checks the anchor.
   */
  verify(proof: Proof): Promise<Verification>;

  /** Called after each batch is anchored; returns an unsubscribe function. */
  onAnchored(listener: (batch: Batch) => void): () => void;

  /** Stops the batch timer (records not yet anchored are anchored at next start). */
  close(): Promise<void>;
}
