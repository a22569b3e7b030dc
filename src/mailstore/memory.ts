// The in-memory MailStore double for unit tests: the same semantics as the
// SQLite store (RFC 3501 §2.3.1 UIDs and UIDVALIDITY, RFC 7162 MODSEQ) on plain
// Maps, checked by the same contract suite (test/mailstore/contract.ts).
import { AlreadyExistsError, NotAllowedError, NotFoundError, ValidationError } from '../errors/index.ts';
import { checkDeliveryInput, checkLimit, deliveryError } from './deliveries.ts';
import type { MimeNode } from '../mime/types.ts';
import { applyFlags, hasFlag, normalizeFlags } from './flags.ts';
import { canonicalMailboxName, compareMailboxNames, isDescendant, renamedName, validateMailboxName } from './names.ts';
import { nextUidValidity, prepareMessage } from './prepare.ts';
import {
  DEFAULT_MAILBOXES,
  type Account, type AccountId, type AccountSecrets, type AppendInput, type AppendResult, type ChangesSince,
  type CopyResult, type Delivery, type FlagMode, type MailboxId, type MailboxInfo, type MailboxListener, type MailboxStatus,
  type MailStore, type MessageFields, type MessageSummary, type MessageRecord, type MessageState, type ModSeq, type SpecialUse,
  type StoreFlagsResult, type Uid, type UidValidity, type SealedRef, type MessageRef,
} from './types.ts';
import { checkSealed, checkSource } from './imports.ts';

interface Body { data: Uint8Array; header: Uint8Array; structure: MimeNode; summary: MessageSummary; searchHeader: string; sealed: SealedRef | null }
interface Msg { uid: Uid; body: Body; flags: string[]; modSeq: ModSeq; internalDate: Date; expires: number | null }
interface Box {
  info: MailboxInfo;
  firstRecent: number;
  /** insertion order is ascending UID order: UIDs only grow */
  messages: Map<Uid, Msg>;
  expunged: Array<{ uid: Uid; modSeq: ModSeq }>;
}
interface AccountRow { account: Account; secrets: AccountSecrets; cacheKey: Uint8Array | null }

export function createMemoryMailStore(): MailStore {
  const accounts = new Map<AccountId, AccountRow>();
  const boxes = new Map<MailboxId, Box>();
  const subscriptions = new Map<AccountId, Set<string>>();
  const listeners = new Map<MailboxId, Set<MailboxListener>>();
  const deliveries = new Map<number, Delivery>();
  let nextDeliveryId = 1;
  let nextAccountId = 1;
  let nextMailboxId = 1;
  let lastUidValidity = 0;
  /** account id -> Message-ID -> expiry */
  const sentExpiries = new Map<AccountId, Map<string, number>>();

  const copyAccount = (a: Account): Account => ({ ...a, createdAt: new Date(a.createdAt) });
  const copyDelivery = (d: Delivery): Delivery => ({ ...d, createdAt: new Date(d.createdAt) });
  const pendingDelivery = (id: number): Delivery => {
    const d = deliveries.get(id);
    if (!d) throw new NotFoundError('delivery');
    if (d.state !== 'pending') throw new AlreadyExistsError('delivery', `delivery ${id} is already ${d.state}`);
    return d;
  };
  const state = (m: Msg): MessageState => ({ uid: m.uid, flags: [...m.flags], modSeq: m.modSeq });
  const accountRow = (id: AccountId): AccountRow => {
    const row = accounts.get(id);
    if (!row) throw new NotFoundError('account');
    return row;
  };
  const box = (id: MailboxId): Box => {
    const b = boxes.get(id);
    if (!b) throw new NotFoundError('mailbox');
    return b;
  };
  const findBox = (accountId: AccountId, name: string): Box | undefined => {
    for (const b of boxes.values()) if (b.info.accountId === accountId && b.info.name === name) return b;
    return undefined;
  };
  const notify = (ids: Iterable<MailboxId>): void => {
    for (const id of new Set(ids)) {
      const set = listeners.get(id);
      if (!set) continue;
      for (const l of [...set]) setImmediate(() => l(id)); // after the caller has its result
    }
  };
  const bump = (b: Box): ModSeq => (b.info.highestModSeq = (b.info.highestModSeq + 1) as ModSeq);
  const selected = (b: Box, uids: readonly Uid[]): Msg[] => {
    const out: Msg[] = [];
    for (const uid of new Set(uids)) {
      const m = b.messages.get(uid);
      if (m) out.push(m);
    }
    return out.sort((x, y) => x.uid - y.uid);
  };
  const newBox = (accountId: AccountId, name: string, specialUse: SpecialUse | null): Box => {
    lastUidValidity = nextUidValidity(lastUidValidity);
    const info: MailboxInfo = {
      id: nextMailboxId++ as MailboxId, accountId, name, specialUse,
      uidValidity: lastUidValidity as UidValidity, uidNext: 1 as Uid, highestModSeq: 1 as ModSeq,
    };
    const b: Box = { info, firstRecent: 1, messages: new Map(), expunged: [] };
    boxes.set(info.id, b);
    return b;
  };
  /** the body an append stores: prepared once, with where it is sealed */
  const newBody = (input: AppendInput): Body => {
    checkSealed(input.sealed);
    return { ...prepareMessage(input.raw), sealed: input.sealed === undefined ? null : { ...input.sealed } };
  };
  /** account id -> imported source ids */
  const imported = new Map<AccountId, Set<string>>();
  const insert = (b: Box, body: Body, flags: string[], internalDate: Date, modSeq: ModSeq, expires: number | null = null): Uid => {
    const uid = b.info.uidNext;
    b.messages.set(uid, { uid, body, flags, modSeq, internalDate, expires });
    b.info.uidNext = (uid + 1) as Uid;
    return uid;
  };
  const removeAll = (b: Box, msgs: Msg[]): Uid[] => {
    if (msgs.length === 0) return [];
    const modSeq = bump(b);
    for (const m of msgs) {
      b.messages.delete(m.uid);
      b.expunged.push({ uid: m.uid, modSeq });
    }
    return msgs.map((m) => m.uid);
  };
  const copyInto = (src: Box, uids: readonly Uid[], dst: Box): CopyResult => {
    const msgs = selected(src, uids);
    const map: Array<[Uid, Uid]> = [];
    if (msgs.length > 0) {
      const modSeq = bump(dst);
      for (const m of msgs) map.push([m.uid, insert(dst, m.body, [...m.flags], m.internalDate, modSeq, m.expires)]);
    }
    return { uidValidity: dst.info.uidValidity, map };
  };

  return {
    async createAccount(input) {
      const address = input.address.trim().toLowerCase();
      if (address.length === 0 || /[\s\0]/.test(address)) throw new ValidationError('address', 'invalid address');
      for (const row of accounts.values()) if (row.account.address === address) throw new AlreadyExistsError('account');
      const account: Account = { id: nextAccountId++ as AccountId, address, name: input.name, createdAt: new Date() };
      const { passwordHash, publicKey, privateKey, fingerprint } = input;
      accounts.set(account.id, { account, secrets: { passwordHash, publicKey, privateKey, fingerprint }, cacheKey: null });
      for (const d of DEFAULT_MAILBOXES) newBox(account.id, d.name, d.specialUse);
      return copyAccount(account);
    },
    async getAccount(address) {
      const key = address.trim().toLowerCase();
      for (const row of accounts.values()) if (row.account.address === key) return copyAccount(row.account);
      return null;
    },
    async getAccountById(id) {
      const row = accounts.get(id);
      return row ? copyAccount(row.account) : null;
    },
    async listAccounts() {
      return [...accounts.values()].map((r) => copyAccount(r.account));
    },
    async getSecrets(id) {
      return { ...accountRow(id).secrets };
    },
    async updateSecrets(id, secrets) {
      const row = accountRow(id);
      for (const key of ['passwordHash', 'publicKey', 'privateKey', 'fingerprint'] as const) {
        const v = secrets[key];
        if (v !== undefined) row.secrets[key] = v;
      }
    },
    async getCacheKey(id) {
      return accountRow(id).cacheKey?.slice() ?? null;
    },
    async setCacheKey(id, wrapped) {
      accountRow(id).cacheKey = wrapped?.slice() ?? null;
    },
    async initCacheKey(id, wrapped) {
      const row = accountRow(id);
      row.cacheKey ??= wrapped.slice();
      return row.cacheKey.slice();
    },

    async listMailboxes(accountId) {
      accountRow(accountId);
      return [...boxes.values()].filter((b) => b.info.accountId === accountId).map((b) => ({ ...b.info }))
        .sort((a, b) => compareMailboxNames(a.name, b.name));
    },
    async getMailbox(accountId, name) {
      const b = findBox(accountId, canonicalMailboxName(name));
      return b ? { ...b.info } : null;
    },
    async getMailboxById(id) {
      const b = boxes.get(id);
      return b ? { ...b.info } : null;
    },
    async createMailbox(accountId, name, specialUse = null) {
      accountRow(accountId);
      const canonical = validateMailboxName(name);
      if (findBox(accountId, canonical)) throw new AlreadyExistsError('mailbox');
      return { ...newBox(accountId, canonical, specialUse).info };
    },
    async deleteMailbox(id) {
      const b = box(id);
      if (b.info.name === 'INBOX') throw new NotAllowedError('INBOX cannot be deleted');
      boxes.delete(id);
      notify([id]);
    },
    async renameMailbox(id, newName) {
      const b = box(id);
      const to = validateMailboxName(newName);
      const from = b.info.name;
      const accountId = b.info.accountId;
      if (to === from || findBox(accountId, to)) throw new AlreadyExistsError('mailbox');
      if (from === 'INBOX') {
        // RFC 3501 §6.3.5: the messages move to a new mailbox; INBOX stays, empty; its children stay.
        const target = newBox(accountId, to, null);
        const msgs = [...b.messages.values()];
        if (msgs.length > 0) {
          const modSeq = bump(target);
          for (const m of msgs) target.messages.set(m.uid, { ...m, modSeq });
          target.info.uidNext = b.info.uidNext;
        }
        removeAll(b, msgs);
        notify([id, target.info.id]);
        return { ...target.info };
      }
      if (isDescendant(to, from)) throw new NotAllowedError('cannot rename a mailbox into its own child');
      const family = [...boxes.values()].filter((x) => x.info.accountId === accountId && (x.info.name === from || isDescendant(x.info.name, from)));
      for (const x of family) {
        const target = renamedName(x.info.name, from, to);
        if (target.length > 255) throw new ValidationError('name', 'renamed child name is too long');
        if (x !== b && findBox(accountId, target)) throw new AlreadyExistsError('mailbox');
      }
      for (const x of family) x.info.name = renamedName(x.info.name, from, to);
      notify(family.map((x) => x.info.id));
      return { ...b.info };
    },
    async listSubscriptions(accountId) {
      return [...(subscriptions.get(accountId) ?? [])].sort(compareMailboxNames);
    },
    async setSubscribed(accountId, name, subscribed) {
      accountRow(accountId);
      const canonical = validateMailboxName(name);
      let set = subscriptions.get(accountId);
      if (!set) subscriptions.set(accountId, (set = new Set()));
      if (subscribed) set.add(canonical);
      else set.delete(canonical);
    },
    async status(id): Promise<MailboxStatus> {
      const b = box(id);
      let unseen = 0;
      let recent = 0;
      let size = 0;
      for (const m of b.messages.values()) {
        if (!hasFlag(m.flags, '\\Seen')) unseen++;
        if (m.uid >= b.firstRecent) recent++;
        size += m.body.data.byteLength;
      }
      const { uidNext, uidValidity, highestModSeq } = b.info;
      return { messages: b.messages.size, recent, unseen, uidNext, uidValidity, highestModSeq, size };
    },
    async claimRecent(id) {
      const b = box(id);
      const first = b.firstRecent as Uid;
      b.firstRecent = b.info.uidNext;
      return first;
    },

    async listMessages(id) {
      return [...box(id).messages.values()].map(state);
    },
    async getMessages(id, uids, fields: MessageFields = {}) {
      const needle = fields.headerContains;
      const picked = selected(box(id), uids).filter((m) => needle === undefined || m.body.searchHeader.includes(needle));
      return picked.map((m) => {
        const r: MessageRecord = { ...state(m), internalDate: new Date(m.internalDate), size: m.body.data.byteLength };
        if (fields.structure) r.structure = structuredClone(m.body.structure);
        if (fields.header) r.header = m.body.header.slice();
        if (fields.summary) r.summary = { ...m.body.summary };
        return r;
      });
    },
    async getBody(id, uid) {
      const m = box(id).messages.get(uid);
      if (!m) throw new NotFoundError('message');
      return m.body.data.slice();
    },
    async append(id, input: AppendInput): Promise<AppendResult> {
      const b = box(id);
      const flags = normalizeFlags(input.flags ?? []);
      const uid = insert(b, newBody(input), flags, new Date(input.internalDate ?? Date.now()), bump(b), input.expires ?? null);
      notify([id]);
      return { uidValidity: b.info.uidValidity, uid };
    },
    async storeFlags(id, uids, mode: FlagMode, flags, unchangedSince?: ModSeq): Promise<StoreFlagsResult> {
      const b = box(id);
      const given = normalizeFlags(flags);
      const result: StoreFlagsResult = { changed: [], unchanged: [], modified: [] };
      const updates: Array<[Msg, string[]]> = [];
      for (const m of selected(b, uids)) {
        if (unchangedSince !== undefined && m.modSeq > unchangedSince) result.modified.push(m.uid);
        else {
          const next = applyFlags(m.flags, mode, given);
          if (next) updates.push([m, next]);
          else result.unchanged.push(state(m));
        }
      }
      if (updates.length > 0) {
        const modSeq = bump(b);
        for (const [m, next] of updates) {
          m.flags = next;
          m.modSeq = modSeq;
          result.changed.push(state(m));
        }
        notify([id]);
      }
      return result;
    },
    async copy(id, uids, destination) {
      const result = copyInto(box(id), uids, box(destination));
      if (result.map.length > 0) notify([destination]);
      return result;
    },
    async move(id, uids, destination) {
      const src = box(id);
      const result = copyInto(src, uids, box(destination));
      removeAll(src, result.map.map(([s]) => src.messages.get(s) as Msg));
      if (result.map.length > 0) notify([id, destination]);
      return result;
    },
    async expunge(id, uids) {
      const b = box(id);
      const candidates = uids ? selected(b, uids) : [...b.messages.values()];
      const gone = removeAll(b, candidates.filter((m) => hasFlag(m.flags, '\\Deleted')));
      if (gone.length > 0) notify([id]);
      return gone;
    },
    async changesSince(id, modSeq): Promise<ChangesSince> {
      const b = box(id);
      return {
        changed: [...b.messages.values()].filter((m) => m.modSeq > modSeq).map(state),
        expunged: b.expunged.filter((e) => e.modSeq > modSeq).map((e) => e.uid).sort((x, y) => x - y),
        highestModSeq: b.info.highestModSeq,
      };
    },
    subscribe(id, listener) {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(id) === set) listeners.delete(id);
      };
    },

    async enqueueDeliveries(items) {
      // check everything first: the batch is all or nothing, like the SQLite transaction
      for (const item of items) {
        checkDeliveryInput(item);
        accountRow(item.accountId);
      }
      return items.map((item) => {
        const origin = item.origin ?? null;
        const queued = origin === null ? undefined : [...deliveries.values()].find((d) => d.origin === origin && d.seq === item.seq && d.accountId === item.accountId);
        if (queued) return copyDelivery(queued);
        const d: Delivery = {
          id: nextDeliveryId++, accountId: item.accountId, cid: item.cid, seq: item.seq, messageId: item.messageId, origin: item.origin ?? null,
          state: 'pending', error: null, mailboxId: null, uid: null, createdAt: new Date(),
        };
        deliveries.set(d.id, d);
        return copyDelivery(d);
      });
    },
    async pendingDeliveries(accountId, limit) {
      checkLimit(limit);
      return [...deliveries.values()].filter((d) => d.accountId === accountId && d.state === 'pending').slice(0, limit).map(copyDelivery);
    },
    async deliver(deliveryId, mailboxId, input) {
      const d = pendingDelivery(deliveryId);
      const b = box(mailboxId);
      if (b.info.accountId !== d.accountId) throw new NotAllowedError(`delivery ${deliveryId} is for another account than mailbox ${mailboxId}`);
      const uid = insert(b, newBody(input), normalizeFlags(input.flags ?? []), new Date(input.internalDate ?? Date.now()), bump(b), input.expires ?? null);
      Object.assign(d, { state: 'delivered', mailboxId, uid });
      notify([mailboxId]);
      return { uidValidity: b.info.uidValidity, uid };
    },
    async failDelivery(deliveryId, error) {
      Object.assign(pendingDelivery(deliveryId), { state: 'failed', error: deliveryError(error) });
    },
    async findDeliveries(query) {
      const match = 'cid' in query ? (d: Delivery) => d.cid === query.cid : (d: Delivery) => d.messageId === query.messageId;
      return [...deliveries.values()].filter(match).map(copyDelivery);
    },
    async accountsWithPending() {
      const ids = new Set<AccountId>();
      for (const d of deliveries.values()) if (d.state === 'pending') ids.add(d.accountId);
      return [...ids].sort((a, b) => a - b);
    },

    async expireMessages(now) {
      let count = 0;
      const touched: MailboxId[] = [];
      for (const b of boxes.values()) {
        const gone = removeAll(b, [...b.messages.values()].filter((m) => m.expires !== null && m.expires <= now));
        if (gone.length > 0) touched.push(b.info.id);
        count += gone.length;
      }
      for (const sent of sentExpiries.values()) for (const [id, at] of sent) if (at <= now) sent.delete(id);
      notify(touched);
      return count;
    },
    async nextExpiry() {
      let next: number | null = null;
      for (const b of boxes.values()) for (const m of b.messages.values()) if (m.expires !== null && (next === null || m.expires < next)) next = m.expires;
      return next;
    },
    async rememberSentExpiry(accountId, messageId, expires) {
      accountRow(accountId);
      let sent = sentExpiries.get(accountId);
      if (!sent) sentExpiries.set(accountId, (sent = new Map()));
      sent.set(messageId, expires);
    },
    async sentExpiry(accountId, messageId) {
      return sentExpiries.get(accountId)?.get(messageId) ?? null;
    },

    async importMessages(id, items) {
      const b = box(id);
      for (const item of items) checkSource(item.source);
      const bodies = items.map(newBody); // validates all before any is appended, like the transaction
      let sources = imported.get(b.info.accountId);
      if (!sources) imported.set(b.info.accountId, (sources = new Set()));
      const known = sources;
      const fresh = items.map((item) => {
        if (known.has(item.source)) return false;
        known.add(item.source);
        return true;
      });
      if (!fresh.some(Boolean)) return items.map(() => null);
      const modSeq = bump(b);
      const results = items.map((item, i) => fresh[i]
        ? { uidValidity: b.info.uidValidity, uid: insert(b, bodies[i] as Body, normalizeFlags(item.flags ?? []), new Date(item.internalDate ?? Date.now()), modSeq, item.expires ?? null) }
        : null);
      notify([id]);
      return results;
    },
    async importedSources(accountId, sources) {
      const known = imported.get(accountId);
      return new Set(sources.filter((s) => known?.has(s) === true));
    },
    async unsealedMessages(accountId, limit) {
      checkLimit(limit);
      /** body -> its first message, and whether any copy of it expires */
      const found = new Map<Body, { mailboxId: MailboxId; uid: Uid; expires: boolean }>();
      for (const b of boxes.values()) {
        if (b.info.accountId !== accountId) continue;
        for (const m of b.messages.values()) {
          if (m.body.sealed !== null) continue;
          const seen = found.get(m.body);
          if (seen === undefined) found.set(m.body, { mailboxId: b.info.id, uid: m.uid, expires: m.expires !== null });
          else seen.expires ||= m.expires !== null;
        }
      }
      return [...found.values()].filter((f) => !f.expires).slice(0, limit).map(({ mailboxId, uid }) => ({ mailboxId, uid }));
    },
    async setSealed(id, uid, sealed) {
      checkSealed(sealed);
      const m = box(id).messages.get(uid);
      if (!m) throw new NotFoundError('message');
      m.body.sealed = { ...sealed };
    },
    async messageRefs(id): Promise<MessageRef[]> {
      return [...box(id).messages.values()].map((m) => ({
        ...state(m), internalDate: new Date(m.internalDate), size: m.body.data.byteLength, expires: m.expires,
        sealed: m.body.sealed === null ? null : { ...m.body.sealed },
      }));
    },

    async close() {
      listeners.clear();
    },
  };
}
