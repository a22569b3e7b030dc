// The in-memory registry: the double for unit tests, with the same rules as
// the real backends (rules.ts) and a random domain of its own. Records are
// verified when written and copied in and out, so nothing can alter them
// afterwards and reads need no second check.
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors/index.ts';
import { RegistryClosedError, RegistryUnknownNodeError } from './errors.ts';
import { addressHash, bytesEqual, validateAnnouncements } from './records.ts';
import { acceptAddressClaim, acceptDeletionReceipt, acceptNodeRecord, claimAction, nodeAction } from './rules.ts';
import type {
  AddressClaim,
  Announcement,
  AnnouncementCursor,
  AnnouncementListener,
  AnnouncementPage,
  DeletionReceipt,
  NodeRecord,
  Registry,
  RegistryDomain,
  WatchOptions,
  WriteResult,
} from './types.ts';
import { Watchers } from './watch.ts';

export interface MemoryRegistryOptions {
  /** the clock stamped on announcements (default Date.now) */
  now?: () => number;
  /** default polling interval of onAnnouncement (default 20 ms) */
  pollIntervalMs?: number;
}

/** An empty registry in memory. */
export function openMemoryRegistry(options: MemoryRegistryOptions = {}): Registry {
  return new MemoryRegistry(options);
}

const NOTHING_SENT: WriteResult = { tx: null };
const MAX_SCAN = 10_000;

class MemoryRegistry implements Registry {
  readonly kind = 'memory' as const;
  readonly domain: RegistryDomain = { kind: 'local', id: new Uint8Array(randomBytes(32)) };
  readonly #now: () => number;
  /** insertion order = order of first registration */
  readonly #nodes = new Map<string, NodeRecord>();
  readonly #claims = new Map<string, AddressClaim>();
  readonly #announcements: { entry: Announcement; time: number }[] = [];
  readonly #deletions: DeletionReceipt[] = [];
  readonly #watchers: Watchers;
  #closed = false;

  constructor(options: MemoryRegistryOptions) {
    this.#now = options.now ?? Date.now;
    this.#watchers = new Watchers(this, options.pollIntervalMs ?? 20);
  }

  async registerNode(input: NodeRecord): Promise<WriteResult> {
    this.#open();
    const record = acceptNodeRecord(this.domain, input);
    const key = hex(record.nodeId);
    if (nodeAction(this.#nodes.get(key) ?? null, record) !== 'none') this.#nodes.set(key, record);
    return NOTHING_SENT;
  }

  async getNode(nodeId: Uint8Array): Promise<NodeRecord | null> {
    this.#open();
    const record = this.#nodes.get(hex(nodeId));
    return record === undefined ? null : copyNode(record);
  }

  async listNodes(): Promise<NodeRecord[]> {
    this.#open();
    return [...this.#nodes.values()].map(copyNode);
  }

  async claimAddress(input: AddressClaim): Promise<WriteResult> {
    this.#open();
    const claim = acceptAddressClaim(this.domain, input);
    if (!this.#nodes.has(hex(claim.nodeId))) throw new RegistryUnknownNodeError();
    const key = hex(addressHash(claim.address));
    if (claimAction(this.#claims.get(key) ?? null, claim) !== 'none') this.#claims.set(key, claim);
    return NOTHING_SENT;
  }

  async lookupAddress(address: string): Promise<AddressClaim | null> {
    this.#open();
    const claim = this.#claims.get(hex(addressHash(address)));
    return claim === undefined ? null : copyClaim(claim);
  }

  async announce(entries: readonly Announcement[]): Promise<WriteResult> {
    this.#open();
    const checked = validateAnnouncements(entries);
    const time = this.#now();
    for (const entry of checked) this.#announcements.push({ entry, time });
    return NOTHING_SENT;
  }

  async scanAnnouncements(cursor: AnnouncementCursor | null, limit: number): Promise<AnnouncementPage> {
    this.#open();
    checkLimit(limit);
    const from = cursor === null ? 0 : parseCursor(cursor);
    const slice = this.#announcements.slice(from, from + limit);
    const entries = slice.map(({ entry, time }, i) => ({ ...copyAnnouncement(entry), time, cursor: memoryCursor(from + i + 1) }));
    return { entries, next: memoryCursor(from + slice.length) };
  }

  async announcementHead(): Promise<AnnouncementCursor> {
    this.#open();
    return memoryCursor(this.#announcements.length);
  }

  onAnnouncement(listener: AnnouncementListener, options?: WatchOptions): () => void {
    this.#open();
    return this.#watchers.add(listener, options);
  }

  async recordDeletion(input: DeletionReceipt): Promise<WriteResult> {
    this.#open();
    const receipt = acceptDeletionReceipt(this.domain, input);
    if (!this.#nodes.has(hex(receipt.custodian))) throw new RegistryUnknownNodeError('the custodian is not registered');
    const duplicate = this.#deletions.some(
      (d) => bytesEqual(d.messageRef, receipt.messageRef) && bytesEqual(d.custodian, receipt.custodian) && d.time === receipt.time && bytesEqual(d.signature, receipt.signature),
    );
    if (!duplicate) this.#deletions.push(receipt);
    return NOTHING_SENT;
  }

  async deletionReceipts(messageRef: Uint8Array): Promise<DeletionReceipt[]> {
    this.#open();
    if (!(messageRef instanceof Uint8Array) || messageRef.length !== 32) throw new ValidationError('messageRef', 'must be 32 bytes');
    return this.#deletions.filter((d) => bytesEqual(d.messageRef, messageRef)).map(copyReceipt);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watchers.stopAll();
  }

  #open(): void {
    if (this.#closed) throw new RegistryClosedError();
  }
}

/** Memory cursors: "m:<n>", n = how many entries were consumed. */
function memoryCursor(n: number): AnnouncementCursor {
  return `m:${n}` as AnnouncementCursor;
}

function parseCursor(cursor: string): number {
  const m = /^m:(0|[1-9]\d{0,15})$/.exec(cursor);
  if (m === null) throw new ValidationError('cursor', 'is not a cursor of this registry');
  return Number(m[1]);
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SCAN) throw new ValidationError('limit', `must be an integer 1..${MAX_SCAN}`);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const copyNode = (r: NodeRecord): NodeRecord => ({ nodeId: r.nodeId.slice(), encKey: r.encKey.slice(), addrs: [...r.addrs], seq: r.seq, signature: r.signature.slice() });
const copyClaim = (c: AddressClaim): AddressClaim => ({ ...c, nodeId: c.nodeId.slice(), signature: c.signature.slice() });
const copyReceipt = (d: DeletionReceipt): DeletionReceipt => ({ messageRef: d.messageRef.slice(), custodian: d.custodian.slice(), time: d.time, signature: d.signature.slice() });
const copyAnnouncement = (a: Announcement): Announcement => ({ ephemeralPublic: a.ephemeralPublic.slice(), viewTag: a.viewTag, tag: a.tag.slice(), payload: a.payload.slice() });
