// The selected mailbox of one IMAP session: the sequence-number map, the
// \Recent set, and the untagged updates that keep this session in step with
// changes made by others (RFC 3501 §5.2, §7.3.1, §7.4.1; RFC 7162 §3.1.4 for
// MODSEQ in unsolicited FETCH, §3.2.10 for VANISHED).
import type { ChangesSince, MailboxId, MailboxInfo, MailStore, MessageState, ModSeq, Uid } from '../mailstore/types.ts';
import { formatSequenceSet } from './protocol/seqset.ts';
import type { ResponseValue } from './protocol/types.ts';

export interface SyncOptions {
  /** false while answering FETCH, STORE or SEARCH: EXPUNGE must wait (RFC 3501 §7.4.1) */
  allowExpunge: boolean;
  /** MODSEQ in FETCH flag updates (CONDSTORE enabled) */
  condstore: boolean;
  /** report expunges as VANISHED (QRESYNC enabled) */
  qresync: boolean;
}

/** An untagged response body, e.g. [3, atom EXISTS]. */
export type Untagged = ResponseValue[];

const atom = (value: string): ResponseValue => ({ type: 'atom', value });

export class SelectedMailbox {
  readonly id: MailboxId;
  readonly readOnly: boolean;
  info: MailboxInfo;
  /** UIDs in sequence order: uids[seq - 1] */
  uids: Uid[];
  /** the flags this session has last reported, by UID (for FLAGS in FETCH and update suppression) */
  private readonly flagsByUid = new Map<Uid, MessageState>();
  private readonly recent = new Set<Uid>();
  /** MODSEQ up to which this session has seen every change */
  knownModSeq: ModSeq;
  /** set by the store listener: something may have changed since knownModSeq */
  dirty = false;
  /** expunged UIDs not yet reported because a FETCH/STORE/SEARCH was running */
  private pendingExpunge: Uid[] = [];
  private readonly unsubscribe: () => void;
  private onChange: (() => void) | null = null;
  private readonly store: MailStore;

  private constructor(store: MailStore, info: MailboxInfo, readOnly: boolean, messages: MessageState[], firstRecent: Uid | null) {
    this.store = store;
    this.id = info.id;
    this.info = info;
    this.readOnly = readOnly;
    this.uids = messages.map((m) => m.uid);
    this.knownModSeq = info.highestModSeq;
    for (const m of messages) {
      this.flagsByUid.set(m.uid, m);
      if (firstRecent !== null && m.uid >= firstRecent) this.recent.add(m.uid);
    }
    this.unsubscribe = store.subscribe(info.id, () => {
      this.dirty = true;
      this.onChange?.();
    });
  }

  /** Opens a mailbox: reads its message list and, read-write, claims \Recent (RFC 3501 §2.3.2). */
  static async open(store: MailStore, info: MailboxInfo, readOnly: boolean): Promise<SelectedMailbox> {
    const firstRecent = readOnly ? null : await store.claimRecent(info.id);
    // Read the list after claiming so that nothing arrives unseen in between.
    const fresh = (await store.getMailboxById(info.id)) ?? info;
    const messages = await store.listMessages(info.id);
    const selected = new SelectedMailbox(store, fresh, readOnly, messages, firstRecent);
    // Messages may have arrived between reading info and listing: trust the list.
    const top = messages.reduce((max, m) => (m.modSeq > max ? m.modSeq : max), fresh.highestModSeq);
    selected.knownModSeq = top;
    return selected;
  }

  close(): void {
    this.onChange = null;
    this.unsubscribe();
  }

  /** Called (once per burst) when the store reports a change; used by IDLE. */
  setChangeListener(listener: (() => void) | null): void {
    this.onChange = listener;
  }

  get exists(): number {
    return this.uids.length;
  }

  get recentCount(): number {
    return this.recent.size;
  }

  isRecent(uid: Uid): boolean {
    return this.recent.has(uid);
  }

  flagsOf(uid: Uid): string[] {
    return this.flagsByUid.get(uid)?.flags ?? [];
  }

  /** sequence number of a UID, or 0 when it is not in this session's view */
  seqOf(uid: Uid): number {
    // Binary search: uids is ascending.
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Records flag state this session reported itself (STORE, implicit \Seen),
   *  so that the next sync does not report it again. */
  noteReported(states: readonly MessageState[]): void {
    for (const s of states) {
      if (this.flagsByUid.has(s.uid)) this.flagsByUid.set(s.uid, s);
    }
  }

  /**
   * Brings this session up to date and returns the untagged responses to send:
   * EXPUNGE (or VANISHED), EXISTS, RECENT and FETCH for flag changes.
   */
  async sync(opts: SyncOptions): Promise<Untagged[]> {
    const out: Untagged[] = [];
    if (this.dirty) {
      this.dirty = false;
      const changes = await this.store.changesSince(this.id, this.knownModSeq);
      await this.apply(changes, opts, out);
    }
    if (opts.allowExpunge && this.pendingExpunge.length > 0) {
      this.reportExpunged(this.pendingExpunge, opts, out);
      this.pendingExpunge = [];
    }
    return out;
  }

  /** Removes UIDs this session expunged itself (EXPUNGE, CLOSE, MOVE) and returns the responses. */
  expungedBySelf(uids: readonly Uid[], opts: SyncOptions): Untagged[] {
    const out: Untagged[] = [];
    this.reportExpunged(uids, opts, out);
    return out;
  }

  private async apply(changes: ChangesSince, opts: SyncOptions, out: Untagged[]): Promise<void> {
    const maxKnown = this.uids.length > 0 ? this.uids[this.uids.length - 1]! : 0;
    const arrived: MessageState[] = [];
    const flagChanges: MessageState[] = [];
    for (const m of changes.changed) {
      if (m.uid > maxKnown) arrived.push(m);
      else if (this.flagsByUid.has(m.uid)) {
        const before = this.flagsByUid.get(m.uid)!;
        if (m.modSeq > before.modSeq) flagChanges.push(m);
      }
    }
    // Expunges of messages we still hold in our map.
    const gone = changes.expunged.filter((uid) => this.flagsByUid.has(uid) && !this.pendingExpunge.includes(uid));
    if (gone.length > 0) {
      if (opts.allowExpunge) this.reportExpunged(gone, opts, out);
      else this.pendingExpunge.push(...gone);
    }
    for (const m of flagChanges) {
      this.flagsByUid.set(m.uid, m);
      const seq = this.seqOf(m.uid);
      if (seq === 0 || this.pendingExpunge.includes(m.uid)) continue;
      out.push([seq, atom('FETCH'), this.flagItems(m, opts)]);
    }
    if (arrived.length > 0) {
      // A read-write session takes new arrivals as \Recent if no other session did.
      const firstRecent = this.readOnly ? null : await this.store.claimRecent(this.id);
      for (const m of arrived) {
        this.uids.push(m.uid);
        this.flagsByUid.set(m.uid, m);
        if (firstRecent !== null && m.uid >= firstRecent) this.recent.add(m.uid);
      }
      out.push([this.uids.length, atom('EXISTS')]);
      out.push([this.recent.size, atom('RECENT')]);
    }
    if (changes.highestModSeq > this.knownModSeq) this.knownModSeq = changes.highestModSeq;
    const info = await this.store.getMailboxById(this.id);
    if (info) this.info = info;
  }

  private flagItems(m: MessageState, opts: SyncOptions): ResponseValue[] {
    const items: ResponseValue[] = [atom('UID'), m.uid, atom('FLAGS'), this.flagList(m.uid, m.flags)];
    if (opts.condstore) items.push(atom('MODSEQ'), [m.modSeq]);
    return items;
  }

  /** The FLAGS list as this session shows it: stored flags plus \Recent. */
  flagList(uid: Uid, flags: readonly string[]): ResponseValue[] {
    const list: ResponseValue[] = flags.map(atom);
    if (this.recent.has(uid)) list.push(atom('\\Recent'));
    return list;
  }

  private reportExpunged(uids: readonly Uid[], opts: SyncOptions, out: Untagged[]): void {
    const doomed = new Set(uids);
    if (opts.qresync) {
      const present = uids.filter((u) => this.flagsByUid.has(u));
      if (present.length > 0) out.push([atom('VANISHED'), { type: 'raw', value: formatSequenceSet(present) }]);
    } else {
      // Report from the highest sequence number down so each number is valid when sent.
      for (let i = this.uids.length - 1; i >= 0; i--) {
        if (doomed.has(this.uids[i]!)) out.push([i + 1, atom('EXPUNGE')]);
      }
    }
    this.uids = this.uids.filter((u) => !doomed.has(u));
    for (const u of doomed) {
      this.flagsByUid.delete(u);
      this.recent.delete(u);
    }
  }
}
