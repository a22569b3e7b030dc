// A small MailStore fake for the account service and SMTP tests: accounts,
// secrets, default mailboxes, append and reading back. Everything else throws.
// (The full in-memory double is src/mailstore/memory.ts.)
import { AlreadyExistsError, NotFoundError } from '../../src/errors/index.ts';
import {
  DEFAULT_MAILBOXES,
  type Account, type AccountId, type AccountSecrets, type MailboxId, type MailboxInfo, type MailStore,
  type MessageState, type ModSeq, type Uid, type UidValidity,
} from '../../src/mailstore/types.ts';

export interface FakeStore extends MailStore {
  /** raw messages per mailbox id */
  messages: Map<MailboxId, Uint8Array[]>;
  /** number of append calls in progress (tests check 250 comes after append) */
  appendsPending: number;
}

export function createFakeStore(options: { appendDelayMs?: number } = {}): FakeStore {
  const accounts = new Map<string, Account & { secrets: AccountSecrets }>();
  const mailboxes = new Map<MailboxId, MailboxInfo>();
  const messages = new Map<MailboxId, Uint8Array[]>();
  let nextId = 1;
  const notImplemented = (): never => {
    throw new Error('not implemented in the fake store');
  };
  const cacheKeys = new Map<AccountId, Uint8Array>();
  const byId = (id: AccountId): (Account & { secrets: AccountSecrets }) | undefined => [...accounts.values()].find((a) => a.id === id);
  const strip = (a: Account & { secrets: AccountSecrets }): Account => ({ id: a.id, address: a.address, name: a.name, createdAt: a.createdAt });

  const store: FakeStore = {
    messages,
    appendsPending: 0,
    async createAccount(input) {
      const address = input.address.toLowerCase();
      if (accounts.has(address)) throw new AlreadyExistsError('account');
      const { passwordHash, publicKey, privateKey, fingerprint } = input;
      const account = { id: nextId++ as AccountId, address, name: input.name, createdAt: new Date(), secrets: { passwordHash, publicKey, privateKey, fingerprint } };
      accounts.set(address, account);
      for (const m of DEFAULT_MAILBOXES) {
        const id = nextId++ as MailboxId;
        mailboxes.set(id, { id, accountId: account.id, name: m.name, specialUse: m.specialUse, uidValidity: 1 as UidValidity, uidNext: 1 as Uid, highestModSeq: 1 as ModSeq });
        messages.set(id, []);
      }
      return strip(account);
    },
    async getAccount(address) {
      const a = accounts.get(address.toLowerCase());
      return a === undefined ? null : strip(a);
    },
    async getAccountById(id) {
      const a = byId(id);
      return a === undefined ? null : strip(a);
    },
    async listAccounts() {
      return [...accounts.values()].map(strip);
    },
    async getSecrets(id) {
      const a = byId(id);
      if (a === undefined) throw new NotFoundError('account');
      return { ...a.secrets };
    },
    async updateSecrets(id, secrets) {
      const a = byId(id);
      if (a === undefined) throw new NotFoundError('account');
      a.secrets = { ...a.secrets, ...secrets };
    },
    async getCacheKey(id) {
      if (byId(id) === undefined) throw new NotFoundError('account');
      return cacheKeys.get(id) ?? null;
    },
    async setCacheKey(id, wrapped) {
      if (byId(id) === undefined) throw new NotFoundError('account');
      if (wrapped === null) cacheKeys.delete(id);
      else cacheKeys.set(id, wrapped);
    },
    async initCacheKey(id, wrapped) {
      if (byId(id) === undefined) throw new NotFoundError('account');
      if (!cacheKeys.has(id)) cacheKeys.set(id, wrapped);
      return cacheKeys.get(id) as Uint8Array;
    },
    async listMailboxes(accountId) {
      return [...mailboxes.values()].filter((m) => m.accountId === accountId);
    },
    async getMailbox(accountId, name) {
      return [...mailboxes.values()].find((m) => m.accountId === accountId && (m.name === name || (name.toUpperCase() === 'INBOX' && m.name === 'INBOX'))) ?? null;
    },
    async getMailboxById(id) {
      return mailboxes.get(id) ?? null;
    },
    async append(id, input) {
      const box = mailboxes.get(id);
      if (box === undefined) throw new NotFoundError('mailbox');
      store.appendsPending++;
      try {
        if (options.appendDelayMs !== undefined) await new Promise((r) => setTimeout(r, options.appendDelayMs));
        messages.get(id)?.push(input.raw);
        const uid = box.uidNext;
        box.uidNext = (uid + 1) as Uid;
        return { uidValidity: box.uidValidity, uid };
      } finally {
        store.appendsPending--;
      }
    },
    async listMessages(id) {
      return (messages.get(id) ?? []).map((_, i): MessageState => ({ uid: (i + 1) as Uid, flags: [], modSeq: 1 as ModSeq }));
    },
    async getBody(id, uid) {
      const m = messages.get(id)?.[uid - 1];
      if (m === undefined) throw new NotFoundError('message');
      return m;
    },
    async status(id) {
      const box = mailboxes.get(id);
      if (box === undefined) throw new NotFoundError('mailbox');
      const n = messages.get(id)?.length ?? 0;
      return { messages: n, recent: 0, unseen: n, uidNext: box.uidNext, uidValidity: box.uidValidity, highestModSeq: box.highestModSeq, size: 0 };
    },
    createMailbox: notImplemented,
    deleteMailbox: notImplemented,
    renameMailbox: notImplemented,
    listSubscriptions: notImplemented,
    setSubscribed: notImplemented,
    claimRecent: notImplemented,
    getMessages: notImplemented,
    storeFlags: notImplemented,
    copy: notImplemented,
    move: notImplemented,
    expunge: notImplemented,
    changesSince: notImplemented,
    enqueueDeliveries: notImplemented,
    async pendingDeliveries() {
      return [];
    },
    deliver: notImplemented,
    failDelivery: notImplemented,
    findDeliveries: notImplemented,
    async accountsWithPending() {
      return []; // nothing is ever queued here
    },
    expireMessages: notImplemented,
    async nextExpiry() {
      return null; // nothing here expires
    },
    rememberSentExpiry: notImplemented,
    importMessages: notImplemented,
    importedSources: notImplemented,
    unsealedMessages: notImplemented,
    setSealed: notImplemented,
    messageRefs: notImplemented,
    async sentExpiry() {
      return null;
    },
    subscribe: () => () => undefined,
    async close() {},
  };
  return store;
}
