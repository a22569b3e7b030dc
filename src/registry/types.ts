// The registry seen by the rest of Sealpost: which nodes make up the network
// (their libp2p addresses and X25519 keys), which node serves which mail
// address, a board of stealth announcements (the ERC-5564 idea: nothing in
// an entry names its recipient; a one-byte view tag keeps scanning cheap)
// and custodians' deletion receipts. Backends: memory.ts (tests), local.ts
// (SQLite file shared by the nodes of one machine), evm.ts (SealpostRegistry
// on an EVM chain). Encodings and signatures: records.ts.
//
// Every record is signed by its node's Ed25519 key over a canonical encoding
// bound to one registry (its RegistryDomain), so a signature cannot be
// replayed in another registry. Everything a registry returns was verified.

/** A node of the network, signed by itself. */
export interface NodeRecord {
  /** the node's Ed25519 public key, 32 raw bytes (RFC 8032); also its libp2p identity */
  nodeId: Uint8Array;
  /** the node's X25519 public key (RFC 7748), 32 bytes: custody shares are sealed to it */
  encKey: Uint8Array;
  /** libp2p multiaddrs it listens on, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… (at most 16) */
  addrs: string[];
  /** update counter, ≥ 1: a record replaces the stored one only with a higher seq */
  seq: number;
  /** Ed25519 signature (64 bytes) by nodeId over records.ts encodeNodeRecord */
  signature: Uint8Array;
}

/** A node's claim to serve a mail address, signed by the node. First come, first served. */
export interface AddressClaim {
  /** the mail address, lower-cased (records.ts canonicalAddress); only its hash is stored */
  address: string;
  nodeId: Uint8Array;
  /** OpenPGP fingerprint of the account's key: 40 (v4) or 64 (v6) uppercase hex digits */
  fingerprint: string;
  /** where the account's public key can be fetched: a CID string */
  keyRef: string;
  /** update counter, ≥ 1: the claiming node replaces its claim only with a higher seq */
  seq: number;
  /** Ed25519 signature (64 bytes) by nodeId over records.ts encodeAddressClaim */
  signature: Uint8Array;
}

/** One stealth announcement. Unsigned: anyone may post, only the recipient recognises it. */
export interface Announcement {
  /** the sender's ephemeral public key for this message, 32 bytes */
  ephemeralPublic: Uint8Array;
  /** first byte of the shared secret's hash, 0..255: lets a recipient skip 255 of 256 entries cheaply */
  viewTag: number;
  /** the stealth tag derived from the shared secret, 32 bytes */
  tag: Uint8Array;
  /** sealed pointer to the message (at most 1,024 bytes) */
  payload: Uint8Array;
}

/**
 * Where a scan resumes. Opaque: made by one backend, meaningful only to it
 * (memory/local: a position; evm: block, log and entry). Store it as text.
 */
export type AnnouncementCursor = string & { readonly __brand: 'AnnouncementCursor' };

export interface ScannedAnnouncement extends Announcement {
  /** resume after this entry (pass it to scanAnnouncements) */
  cursor: AnnouncementCursor;
  /** ms since the epoch: the block time (evm, whole seconds) or the time it was stored (memory, local) */
  time: number;
}

export interface AnnouncementPage {
  /** in the order they were posted */
  entries: ScannedAnnouncement[];
  /** the cursor to pass next: after the last entry, or after everything scanned when fewer than `limit` came */
  next: AnnouncementCursor;
}

/** A custodian's statement that it destroyed its share of a message, signed by the custodian. */
export interface DeletionReceipt {
  /** which message (a 32-byte reference chosen by custody, e.g. the message hash) */
  messageRef: Uint8Array;
  /** the custodian's node id */
  custodian: Uint8Array;
  /** when it deleted, ms since the epoch */
  time: number;
  /** Ed25519 signature (64 bytes) by custodian over records.ts encodeDeletionReceipt */
  signature: Uint8Array;
}

/**
 * What every signature is bound to. Node records in an EVM registry are also
 * bound to the account that sends them (`account`; the contract ties a node
 * id to the account that registered it first).
 */
export type RegistryDomain =
  | {
      kind: 'local';
      /** 32 random bytes chosen when the registry was created */
      id: Uint8Array;
    }
  | {
      kind: 'evm';
      chainId: number;
      /** the SealpostRegistry address, 0x-prefixed */
      contract: string;
      /** the account this handle sends transactions from; null when read-only */
      account: string | null;
    };

/** The transaction that carried a write (evm), or null (memory, local, or nothing had to be sent). */
export interface WriteResult {
  tx: { hash: string; block: number; gasUsed: bigint } | null;
}

export type AnnouncementListener = (entry: ScannedAnnouncement) => void | Promise<void>;

export interface WatchOptions {
  /**
   * Deliver entries after this cursor; null = from the first announcement;
   * absent = only announcements posted after the call.
   */
  from?: AnnouncementCursor | null;
  /** how often to look for new ones (default: the backend's) */
  intervalMs?: number;
  /** scan failures and listener failures (the entry is skipped); default: ignored */
  onError?: (error: unknown) => void;
}

export interface Registry {
  readonly kind: 'memory' | 'local' | 'evm';
  /** sign records for this registry with records.ts sign* and this domain */
  readonly domain: RegistryDomain;

  /**
   * Registers a node, or replaces its record with one of higher seq. The same
   * record again is a no-op.
   * @throws ValidationError naming the bad field
   * @throws RegistryBadSignatureError (REGISTRY_BAD_SIGNATURE) when the signature does not verify
   * @throws RegistryStaleError (REGISTRY_STALE) when seq is not above the stored one
   * @throws RegistryNotOwnerError (REGISTRY_NOT_OWNER, evm) when another account registered the node
   */
  registerNode(record: NodeRecord): Promise<WriteResult>;

  /** The node's current record, or null (also for an id that is not 32 bytes). */
  getNode(nodeId: Uint8Array): Promise<NodeRecord | null>;

  /** Every node, in order of first registration. */
  listNodes(): Promise<NodeRecord[]>;

  /**
   * Claims an address for a registered node, or updates the node's own claim
   * (higher seq). The same claim again is a no-op.
   * @throws ValidationError naming the bad field
   * @throws RegistryBadSignatureError, RegistryStaleError
   * @throws RegistryAddressTakenError (REGISTRY_ADDRESS_TAKEN) when another node claimed it first
   * @throws RegistryUnknownNodeError (REGISTRY_UNKNOWN_NODE) when the node is not registered
   * @throws RegistryNotOwnerError (REGISTRY_NOT_OWNER, evm) when this account does not own the node
   */
  claimAddress(claim: AddressClaim): Promise<WriteResult>;

  /**
   * The claim on an address (any case), or null.
   * @throws ValidationError (field `address`) for something that is not a mail address
   */
  lookupAddress(address: string): Promise<AddressClaim | null>;

  /**
   * Posts a batch of announcements (evm: one transaction), kept in order.
   * @throws ValidationError (field `entries[i].…`, or `entries` for an empty or too large batch)
   */
  announce(entries: readonly Announcement[]): Promise<WriteResult>;

  /**
   * Up to `limit` announcements after `cursor` (null: from the first).
   * @throws ValidationError (field `cursor`) for a cursor of another backend, (field `limit`) unless 1..10,000
   */
  scanAnnouncements(cursor: AnnouncementCursor | null, limit: number): Promise<AnnouncementPage>;

  /** The cursor after the newest announcement: a scan from it returns only later ones. */
  announcementHead(): Promise<AnnouncementCursor>;

  /**
   * Calls `listener` for each new announcement, in order, one at a time
   * (awaiting it), by polling. Delivery is at most once: a node that must
   * not miss any keeps its own cursor and uses scanAnnouncements.
   * Returns the unsubscribe function; close() unsubscribes everyone.
   */
  onAnnouncement(listener: AnnouncementListener, options?: WatchOptions): () => void;

  /**
   * Appends a deletion receipt. The same receipt again is kept once.
   * @throws ValidationError, RegistryBadSignatureError, RegistryUnknownNodeError (custodian not registered),
   *   RegistryNotOwnerError (evm: this account does not own the custodian node)
   */
  recordDeletion(receipt: DeletionReceipt): Promise<WriteResult>;

  /**
   * The receipts for a message, in the order they were recorded.
   * @throws ValidationError (field `messageRef`) unless 32 bytes
   */
  deletionReceipts(messageRef: Uint8Array): Promise<DeletionReceipt[]>;

  /** Stops watchers and releases the store; later calls throw RegistryClosedError (REGISTRY_CLOSED). */
  close(): Promise<void>;
}
