// The mail store interface: the only seam between the protocol servers
// (imap/, smtp/) and storage. The SQLite store (mailstore/sqlite/) is the real
// backend; mailstore/memory.ts is the in-memory double for unit tests; both
// pass test/mailstore/contract.ts.
//
// Model (RFC 3501 §2.3.1, RFC 7162 for MODSEQ):
// - a mailbox keeps its UIDVALIDITY for as long as it keeps its name; a
//   mailbox deleted and created again under the same name gets a new one;
// - UIDs are strictly ascending per mailbox and never reused (UIDNEXT only grows);
// - every change to a message (append, flag change, expunge) takes the
//   mailbox's next MODSEQ; expunges are remembered with their MODSEQ so that
//   QRESYNC (RFC 7162 §3.2.5) can report VANISHED UIDs.
import type { MimeNode } from '../mime/types.ts';

export type AccountId = number & { readonly __brand: 'AccountId' };
export type MailboxId = number & { readonly __brand: 'MailboxId' };
export type Uid = number & { readonly __brand: 'Uid' };
export type UidValidity = number & { readonly __brand: 'UidValidity' };
export type ModSeq = number & { readonly __brand: 'ModSeq' };

/** RFC 6154 special-use attributes that Sealpost creates at init. */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';

/** The folders every account gets at creation, with their special use. */
export const DEFAULT_MAILBOXES: ReadonlyArray<{ name: string; specialUse: SpecialUse | null }> = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

/** Hierarchy delimiter of mailbox names (as seen by IMAP clients too). */
export const MAILBOX_DELIMITER = '/';

export interface Account {
  id: AccountId;
  /** primary address, lower-cased */
  address: string;
  /** display name */
  name: string;
  createdAt: Date;
}

/** Secret material kept with the account. Never logged. */
export interface AccountSecrets {
  /** scrypt hash of the client password (crypto/password.ts format) */
  passwordHash: string;
  /** armored OpenPGP public key */
  publicKey: string;
  /** armored OpenPGP private key, encrypted with the key passphrase */
  privateKey: string;
  /** uppercase hex fingerprint of the primary key */
  fingerprint: string;
}

export interface MailboxInfo {
  id: MailboxId;
  accountId: AccountId;
  /** full Unicode name with MAILBOX_DELIMITER; INBOX is always "INBOX" */
  name: string;
  specialUse: SpecialUse | null;
  uidValidity: UidValidity;
  uidNext: Uid;
  /** highest MODSEQ of any change in the mailbox (>= 1) */
  highestModSeq: ModSeq;
}

export interface MailboxStatus {
  messages: number;
  /** messages with uid >= the first recent uid (see claimRecent) */
  recent: number;
  /** messages without \Seen */
  unseen: number;
  uidNext: Uid;
  uidValidity: UidValidity;
  highestModSeq: ModSeq;
  /** sum of message sizes (RFC 8438 STATUS=SIZE) */
  size: number;
}

/** The per-message state a session needs to hold: enough for the sequence map. */
export interface MessageState {
  uid: Uid;
  /** system flags (with backslash, e.g. "\\Seen") and keywords, as stored */
  flags: string[];
  modSeq: ModSeq;
}

export interface MessageMeta extends MessageState {
  internalDate: Date;
  /** RFC822.SIZE: octets of the stored (CRLF-normalised) message */
  size: number;
}

/** Which optional parts getMessages should load. */
export interface MessageFields {
  /** the parsed MIME tree (ENVELOPE, BODYSTRUCTURE, section offsets) */
  structure?: boolean;
  /** the raw header block of the top-level message (for SEARCH HEADER and friends) */
  header?: boolean;
  /** ENVELOPE and BODYSTRUCTURE as IMAP protocol text, cached at delivery (the first sync of every client asks for them) */
  summary?: boolean;
  /** SEARCH prefilter: return only messages whose header, unfolded, RFC 2047-decoded
   *  and lower-cased ("name: value" lines), contains this lower-case text */
  headerContains?: string;
}

/** RFC 3501 §7.4.2 ENVELOPE and BODYSTRUCTURE protocol text, computed once at delivery (mime/*-text.ts). */
export interface MessageSummary {
  envelope: string;
  bodyStructure: string;
}

export interface MessageRecord extends MessageMeta {
  structure?: MimeNode;
  header?: Uint8Array;
  summary?: MessageSummary;
}

export interface AppendInput {
  /** the message; line endings are normalised to CRLF by the store */
  raw: Uint8Array;
  flags?: string[];
  /** INTERNALDATE; defaults to now */
  internalDate?: Date;
  /** when the message expires (ms since the epoch): expireMessages then removes
   *  it, and every copy COPY/MOVE made of it, from every mailbox */
  expires?: number | null;
  /** where the message is kept sealed in storage (see SealedRef); absent: not yet */
  sealed?: SealedRef;
}

/**
 * Where a message's bytes are kept encrypted in storage, so that a restore can
 * rebuild the mail store from storage alone: `cid` names the OpenPGP
 * ciphertext whose plaintext is the stored message from byte `offset` on. The
 * bytes before `offset` are the X-Sealpost-* fields pipeline/view.ts put in
 * front of a delivered message (0 for imports and a client's APPEND).
 */
export interface SealedRef {
  cid: string;
  offset: number;
}

/** A message from a migration source (migrate/): appended once per source id. */
export interface ImportInput extends AppendInput {
  /** the source's stable id of the message (migrate/types.ts SourceMessage.sourceId) */
  source: string;
}

/** What a snapshot records of a message (snapshot/): its place, state and where it is sealed. */
export interface MessageRef extends MessageMeta {
  expires: number | null;
  /** null while the message is not sealed in storage yet */
  sealed: SealedRef | null;
}

export interface AppendResult {
  uidValidity: UidValidity;
  uid: Uid;
}

export type FlagMode = 'add' | 'remove' | 'replace';

export interface StoreFlagsResult {
  /** messages whose flags changed, with their new state */
  changed: MessageState[];
  /** messages whose state was not changed (already so), with current state */
  unchanged: MessageState[];
  /** UIDs refused because their MODSEQ > unchangedSince (RFC 7162 §3.1.3) */
  modified: Uid[];
}

export interface CopyResult {
  uidValidity: UidValidity;
  /** source uid -> destination uid, in source uid order */
  map: Array<[source: Uid, destination: Uid]>;
}

/** What changed in a mailbox since a given MODSEQ. */
export interface ChangesSince {
  /** messages appended or whose flags changed after the MODSEQ (ascending uid) */
  changed: MessageState[];
  /** UIDs expunged after the MODSEQ (ascending) */
  expunged: Uid[];
  highestModSeq: ModSeq;
}

/** Where a queued delivery stands: `pending` until its message is in the
 *  recipient's mailbox (`delivered`) or given up on (`failed`). */
export type DeliveryState = 'pending' | 'delivered' | 'failed';

/**
 * One recipient's copy of a message accepted by the secure pipeline: written
 * before SMTP answers 250, turned into a mailbox message when the recipient's
 * key is unlocked (the stored copy is encrypted to that key).
 */
export interface Delivery {
  id: number;
  accountId: AccountId;
  /** content id of the encrypted message in storage */
  cid: string;
  /** the ledger record that announced it */
  seq: number;
  /** Message-ID header, when known (for tracing a message end to end) */
  messageId: string | null;
  /** node id of the Sealpost node whose ledger holds record `seq`; null: this node's */
  origin: string | null;
  state: DeliveryState;
  /** why it failed (state `failed`) */
  error: string | null;
  /** where it went (state `delivered`) */
  mailboxId: MailboxId | null;
  uid: Uid | null;
  createdAt: Date;
}

export interface DeliveryInput {
  accountId: AccountId;
  cid: string;
  seq: number;
  messageId: string | null;
  /** the sending node, for mail from another node (its ledger holds `seq`); default null: this node */
  origin?: string | null;
}

/** Notified after any committed change to a mailbox (from any session or process). */
export type MailboxListener = (mailboxId: MailboxId) => void;

/**
 * Storage for accounts, mailboxes and messages.
 *
 * All methods may throw SealpostError subclasses from errors/: NotFoundError
 * (unknown account, mailbox or uid where one is required), AlreadyExistsError
 * (create/rename onto an existing name), NotAllowedError (delete INBOX, ...),
 * ValidationError (bad name). UIDs passed in that no longer exist are skipped,
 * not errors (RFC 3501 §6.4.8: UID ranges may name expunged messages).
 */
export interface MailStore {
  // --- accounts ---
  /** creates the account and DEFAULT_MAILBOXES; address is lower-cased */
  createAccount(input: { address: string; name: string } & AccountSecrets): Promise<Account>;
  getAccount(address: string): Promise<Account | null>;
  getAccountById(id: AccountId): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  getSecrets(id: AccountId): Promise<AccountSecrets>;
  updateSecrets(id: AccountId, secrets: Partial<AccountSecrets>): Promise<void>;
  /** the account's body cache key, wrapped (OpenPGP-encrypted to the account key); null when none was made yet */
  getCacheKey(id: AccountId): Promise<Uint8Array | null>;
  /** replaces (or with null clears) the wrapped cache key; clearing makes bodies sealed under it unreadable */
  setCacheKey(id: AccountId, wrapped: Uint8Array | null): Promise<void>;
  /** stores `wrapped` only if the account has no cache key yet, and returns the one stored
   *  (ours, or the one another process stored first): first unlocks never overwrite each other */
  initCacheKey(id: AccountId, wrapped: Uint8Array): Promise<Uint8Array>;

  // --- mailboxes ---
  listMailboxes(accountId: AccountId): Promise<MailboxInfo[]>;
  /** name lookup; "inbox" in any case finds INBOX */
  getMailbox(accountId: AccountId, name: string): Promise<MailboxInfo | null>;
  getMailboxById(id: MailboxId): Promise<MailboxInfo | null>;
  /** creates the mailbox (parents are not created implicitly; IMAP layer does that) */
  createMailbox(accountId: AccountId, name: string, specialUse?: SpecialUse | null): Promise<MailboxInfo>;
  /** deletes the mailbox and its messages; refuses INBOX */
  deleteMailbox(id: MailboxId): Promise<void>;
  /** renames the mailbox and every child (name + delimiter + ...); UIDVALIDITY is kept.
   *  Renaming INBOX moves all its messages to a new mailbox of the new name and leaves INBOX empty (RFC 3501 §6.3.5). */
  renameMailbox(id: MailboxId, newName: string): Promise<MailboxInfo>;
  /** subscriptions are by name and may name mailboxes that do not exist (RFC 3501 §6.3.6) */
  listSubscriptions(accountId: AccountId): Promise<string[]>;
  setSubscribed(accountId: AccountId, name: string, subscribed: boolean): Promise<void>;
  status(id: MailboxId): Promise<MailboxStatus>;
  /** returns the first recent UID for this session and moves the mark to uidNext
   *  (only the first session to select a mailbox sees messages as \Recent) */
  claimRecent(id: MailboxId): Promise<Uid>;

  // --- messages ---
  /** every message of the mailbox in ascending UID order (the sequence map) */
  listMessages(id: MailboxId): Promise<MessageState[]>;
  /** the named messages (missing UIDs skipped), ascending UID order */
  getMessages(id: MailboxId, uids: readonly Uid[], fields?: MessageFields): Promise<MessageRecord[]>;
  /** the full stored message */
  getBody(id: MailboxId, uid: Uid): Promise<Uint8Array>;
  append(id: MailboxId, input: AppendInput): Promise<AppendResult>;
  /** sets flags; unchangedSince applies RFC 7162 UNCHANGEDSINCE */
  storeFlags(id: MailboxId, uids: readonly Uid[], mode: FlagMode, flags: readonly string[], unchangedSince?: ModSeq): Promise<StoreFlagsResult>;
  copy(id: MailboxId, uids: readonly Uid[], destination: MailboxId): Promise<CopyResult>;
  /** copy then expunge from the source, atomically (RFC 6851) */
  move(id: MailboxId, uids: readonly Uid[], destination: MailboxId): Promise<CopyResult>;
  /** removes messages flagged \Deleted (restricted to `uids` when given); returns the expunged UIDs ascending */
  expunge(id: MailboxId, uids?: readonly Uid[]): Promise<Uid[]>;
  changesSince(id: MailboxId, modSeq: ModSeq): Promise<ChangesSince>;
  /** listener is called after every committed change to the mailbox; returns the unsubscribe function */
  subscribe(id: MailboxId, listener: MailboxListener): () => void;

  // --- delivery queue (secure pipeline) ---
  /** records the deliveries durably, all in one transaction, state `pending`.
   *  A remote one (origin set) already queued for that account is not queued
   *  again: its existing row is returned.
   *  @throws NotFoundError (unknown account), ValidationError (cid, seq, origin) */
  enqueueDeliveries(items: ReadonlyArray<DeliveryInput>): Promise<Delivery[]>;
  /** the account's pending deliveries, oldest first, at most `limit`
   *  @throws ValidationError (limit) */
  pendingDeliveries(accountId: AccountId, limit: number): Promise<Delivery[]>;
  /** Appends the message to the mailbox AND marks the delivery delivered in ONE
   *  transaction (a crash never duplicates or loses); listeners hear about it like an append.
   *  @throws NotFoundError (delivery, mailbox), AlreadyExistsError (not pending),
   *          NotAllowedError (mailbox of another account) */
  deliver(deliveryId: number, mailboxId: MailboxId, input: AppendInput): Promise<AppendResult>;
  /** marks a pending delivery failed with the reason
   *  @throws NotFoundError, AlreadyExistsError (not pending) */
  failDelivery(deliveryId: number, error: string): Promise<void>;
  /** every delivery of that Message-ID or content id, in the order they were queued */
  findDeliveries(query: { messageId: string } | { cid: string }): Promise<Delivery[]>;
  /** accounts with at least one pending delivery, ascending id */
  accountsWithPending(): Promise<AccountId[]>;

  // Sender-defined expiry (DESIGN.md "Expiry headers"; pipeline/expiry-clock.ts).
  /** Expunges every message whose expiry is at or before `now` from every
   *  mailbox (listeners are told, so IDLE clients see EXPUNGE); returns how many. */
  expireMessages(now: number): Promise<number>;
  /** the earliest expiry of any stored message, or null */
  nextExpiry(): Promise<number | null>;
  /** Remembers that `accountId` sent an expiring message, so that the copy its
   *  client APPENDs to Sent later expires with it. Forgotten at the expiry. */
  rememberSentExpiry(accountId: AccountId, messageId: string, expires: number): Promise<void>;
  /** the expiry remembered for a message this account sent, or null */
  sentExpiry(accountId: AccountId, messageId: string): Promise<number | null>;

  // Migration (migrate/, pipeline/import.ts) and restore (DESIGN.md "restore/").
  /** Appends each message whose `source` this account has not imported before,
   *  and records its source, all in ONE transaction (an interrupted import run
   *  again never duplicates). Returns, per item, its result or null when it
   *  was imported already (even if since expunged: an import does not resurrect).
   *  @throws NotFoundError (mailbox), ValidationError (source empty or over 2,048 characters) */
  importMessages(id: MailboxId, items: readonly ImportInput[]): Promise<Array<AppendResult | null>>;
  /** the ones of these source ids this account has imported already */
  importedSources(accountId: AccountId, sources: readonly string[]): Promise<Set<string>>;
  /** Messages of the account whose bytes are not sealed in storage yet (a
   *  client's APPEND, a placeholder) and that do not expire (an expiring
   *  message must never gain a copy that outlives it), one per stored body
   *  (copies share it), at most `limit`. */
  unsealedMessages(accountId: AccountId, limit: number): Promise<Array<{ mailboxId: MailboxId; uid: Uid }>>;
  /** Records where the message is sealed (every copy sharing its body too).
   *  @throws NotFoundError (no such message) */
  setSealed(id: MailboxId, uid: Uid, sealed: SealedRef): Promise<void>;
  /** every message of the mailbox, ascending UID, with what a snapshot needs */
  messageRefs(id: MailboxId): Promise<MessageRef[]>;

  close(): Promise<void>;
}
