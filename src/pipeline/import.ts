// The import pipeline (DESIGN.md "migrate/ ... same path as inbound"): a
// message from an old mailbox (migrate/ readers) is sealed like any other:
//   encrypt as OpenPGP to the account's own key (no signature: the account's
//   owner did not write it) → put the ciphertext in storage (CID) → append a
//   ledger record (CID, SHA-256 of the message, the account's fingerprint as
//   the one who recorded it, the time) → append it, byte for byte, to its
//   folder with its flags and INTERNALDATE, and record its source id, in one
//   mail-store transaction.
// Idempotence: an item whose source id the account has imported before is
// skipped before any of that work. A crash between the ledger append and the
// mail-store commit leaves a ledger record and a stored ciphertext nobody
// points at (harmless: both are append-only facts), never a duplicate message.
//
// The account must be unlocked (its body-cache key seals the readable copy):
// an import runs with the account's password (cli/commands/import.ts).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyRing } from '../accounts/keyring.ts';
import type { PgpPool } from '../crypto/pgp-pool.ts';
import { encryptMessage } from '../crypto/pgp.ts';
import { NotFoundError, SealpostError } from '../errors/index.ts';
import type { Ledger } from '../ledger/types.ts';
import { MAILBOX_DELIMITER, type AccountId, type ImportInput, type MailboxInfo, type MailStore, type SpecialUse } from '../mailstore/types.ts';
import type { BlockStorage } from '../storage/types.ts';

/** The account is locked: its password was not given (or not yet). */
export class ImportLockedError extends SealpostError {
  constructor(address: string) {
    super('IMPORT_LOCKED', `the account ${address} is locked: give its password to import into it`);
    this.name = 'ImportLockedError';
  }
}

/** Where imported messages go: a folder by name, or the account's folder of that special use. */
export interface FolderTarget {
  /** Sealpost name, '/' as separator, INBOX for the inbox */
  name: string;
  specialUse?: SpecialUse | null;
  /** subscribe it when it is created (default true) */
  subscribed?: boolean;
}

export interface ImportItem {
  folder: string;
  raw: Uint8Array;
  flags: string[];
  /** null: the time of import */
  internalDate: Date | null;
  /** the source's stable id of the message */
  source: string;
}

export type ImportOutcome = 'imported' | 'known';

export interface Importer {
  /** Finds the folder (by special use first, then name) or creates it and its parents; returns its name. */
  folder(accountId: AccountId, target: FolderTarget): Promise<MailboxInfo>;
  /** the ones of these source ids imported already */
  known(accountId: AccountId, sources: readonly string[]): Promise<Set<string>>;
  /** Seals, stores, records and appends each item; the folders must exist (see `folder`). */
  importBatch(accountId: AccountId, items: readonly ImportItem[]): Promise<ImportOutcome[]>;
}

export interface ImporterOptions {
  store: MailStore;
  keyring: Pick<KeyRing, 'isUnlocked'>;
  storage: Pick<BlockStorage, 'putMany'>;
  ledger: Pick<Ledger, 'appendMany'>;
  logger: Logger;
  now?: () => number;
  /** encryption; the gateway passes its worker pool's */
  encrypt?: typeof encryptMessage;
  /** many at once (the worker pool's encryptMany: one round trip per worker) */
  encryptMany?: PgpPool['encryptMany'];
}

/**
 * The account's folder for `target`: its folder of that special use, else the
 * one of that name, else a new one (parents first: the store does not create
 * them, RFC 3501 §6.3.3 lets a server do it), subscribed unless
 * `target.subscribed` is false. Imports and restores (restore/restore.ts) share it.
 */
export async function findOrCreateFolder(store: MailStore, accountId: AccountId, target: FolderTarget): Promise<{ box: MailboxInfo; created: boolean }> {
  if (target.specialUse !== undefined && target.specialUse !== null) {
    const special = (await store.listMailboxes(accountId)).find((b) => b.specialUse === target.specialUse);
    if (special !== undefined) return { box: special, created: false };
  }
  const existing = await store.getMailbox(accountId, target.name);
  if (existing !== null) return { box: existing, created: false };
  const levels = target.name.split(MAILBOX_DELIMITER);
  for (let i = 1; i < levels.length; i++) {
    const parent = levels.slice(0, i).join(MAILBOX_DELIMITER);
    if ((await store.getMailbox(accountId, parent)) === null) await store.createMailbox(accountId, parent);
  }
  const box = await store.createMailbox(accountId, target.name, target.specialUse ?? null);
  if (target.subscribed !== false) await store.setSubscribed(accountId, box.name, true);
  return { box, created: true };
}

/**
 * Seals messages to their owner's key alone and records them: what an import
 * and a client's own APPEND (pipeline/archive.ts) have in common. Encrypted
 * concurrently (the pool spreads them over its workers), stored with one pin
 * transaction and recorded with one ledger transaction, not two fsyncs per message.
 */
export async function sealOwnMany(
  parts: Pick<ImporterOptions, 'storage' | 'ledger' | 'encryptMany'> & { encrypt: typeof encryptMessage; now: () => number },
  owner: { publicKey: string; fingerprint: string },
  messages: readonly Uint8Array[],
): Promise<Array<{ cid: string; seq: number }>> {
  if (messages.length === 0) return [];
  const ciphertexts = parts.encryptMany === undefined
    ? await Promise.all(messages.map((data) => parts.encrypt({ data, encryptionKeys: [owner.publicKey] })))
    : await parts.encryptMany(messages.map((data) => ({ data, encryptionKeys: [owner.publicKey] })));
  const cids = await parts.storage.putMany(ciphertexts);
  const time = parts.now();
  const records = messages.map((raw, i) => ({
    cid: cids[i] as string, messageHash: createHash('sha256').update(raw).digest('hex'), sender: owner.fingerprint, time, expires: null,
  }));
  const appended = await parts.ledger.appendMany(records);
  return appended.map((a, i) => ({ cid: cids[i] as string, seq: a.seq }));
}

export function createImporter(options: ImporterOptions): Importer {
  const { store, keyring } = options;
  const log = options.logger.child({ part: 'import' });
  const parts = {
    storage: options.storage, ledger: options.ledger, encrypt: options.encrypt ?? encryptMessage, now: options.now ?? Date.now,
    ...(options.encryptMany === undefined ? {} : { encryptMany: options.encryptMany }),
  };

  async function folder(accountId: AccountId, target: FolderTarget): Promise<MailboxInfo> {
    const { box, created } = await findOrCreateFolder(store, accountId, target);
    if (created) log.info({ account: accountId, folder: box.name }, 'folder created for an import');
    return box;
  }

  /** per account, the commit of the batch called last: commits happen in call order */
  const commits = new Map<AccountId, Promise<void>>();

  /**
   * Batches may be sealed concurrently (an importer keeps two in flight, so
   * the OpenPGP workers and the main thread overlap), but their appends are
   * committed in the order importBatch was called: UIDs follow the source.
   */
  function importBatch(accountId: AccountId, items: readonly ImportItem[]): Promise<ImportOutcome[]> {
    const previous = commits.get(accountId) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    commits.set(accountId, mine);
    return (async () => {
      try {
        const prepared = await prepare(accountId, items);
        await previous;
        return await commit(accountId, prepared);
      } finally {
        release();
        if (commits.get(accountId) === mine) commits.delete(accountId);
      }
    })();
  }

  interface Prepared { outcomes: ImportOutcome[]; byFolder: Map<string, Array<{ input: ImportInput; index: number }>> }

  async function prepare(accountId: AccountId, items: readonly ImportItem[]): Promise<Prepared> {
    const account = await store.getAccountById(accountId);
    if (account === null) throw new NotFoundError('account');
    if (!keyring.isUnlocked(accountId)) throw new ImportLockedError(account.address);
    const known = await store.importedSources(accountId, items.map((i) => i.source));
    const owner = await store.getSecrets(accountId);
    const outcomes: ImportOutcome[] = items.map((i) => (known.has(i.source) ? 'known' : 'imported'));
    // Sealed concurrently (the pool spreads them over its workers); storage and
    // the ledger make each durable before the mail store commits.
    const fresh = items.map((item, index) => ({ item, index })).filter(({ item }) => !known.has(item.source));
    const sealed = await sealOwnMany(parts, owner, fresh.map(({ item }) => item.raw));
    const byFolder = new Map<string, Array<{ input: ImportInput; index: number }>>();
    fresh.forEach(({ item, index }, i) => {
      const { cid } = sealed[i] as { cid: string };
      const input: ImportInput = { raw: item.raw, flags: item.flags, source: item.source, sealed: { cid, offset: 0 }, ...(item.internalDate === null ? {} : { internalDate: item.internalDate }) };
      const list = byFolder.get(item.folder) ?? [];
      list.push({ input, index });
      byFolder.set(item.folder, list);
    });
    return { outcomes, byFolder };
  }

  async function commit(accountId: AccountId, { outcomes, byFolder }: Prepared): Promise<ImportOutcome[]> {
    for (const [name, entries] of byFolder) {
      const box = await store.getMailbox(accountId, name);
      if (box === null) throw new NotFoundError('mailbox', `no folder "${name}" (create it with Importer.folder first)`);
      const results = await store.importMessages(box.id, entries.map((e) => e.input));
      // null: the same source twice in this batch, or another import committed it in between.
      results.forEach((r, i) => {
        if (r === null) outcomes[(entries[i] as { index: number }).index] = 'known';
      });
    }
    return outcomes;
  }

  return { folder, known: (accountId, sources) => store.importedSources(accountId, sources), importBatch };
}
