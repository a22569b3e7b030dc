// Mailbox snapshots (DESIGN.md "restore/"): the state of an account that the
// messages do not carry (folders, which message is in which, flags, expiry
// tickets, subscriptions), sealed to the account's own key and signed by it
// (snapshot/format.ts), put in storage and anchored like a message, then
// handed to the peers that replicate the account (pipeline/replication.ts).
// Taken when an unlocked account's state changed since the last one, at most
// once per interval (default 2 minutes): a restore loses at most that much of
// flag changes. Messages not sealed yet (a fresh APPEND) are sealed first.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyRing } from '../accounts/keyring.ts';
import type { Ledger } from '../ledger/types.ts';
import type { Account, AccountId, MailStore } from '../mailstore/types.ts';
import { sealSnapshot, type MailboxSnapshot, type SnapshotMailbox, type SnapshotMessage } from '../snapshot/format.ts';
import type { SnapshotPointer, SnapshotState } from '../snapshot/state.ts';
import type { BlockStorage } from '../storage/types.ts';
import type { Archiver } from './archive.ts';

export interface SnapshotterOptions {
  store: MailStore;
  keyring: Pick<KeyRing, 'isUnlocked' | 'privateKey'>;
  storage: Pick<BlockStorage, 'put'>;
  ledger: Pick<Ledger, 'append'>;
  state: SnapshotState;
  archiver: Pick<Archiver, 'sealPending'>;
  logger: Logger;
  now?: () => number;
  /** at most one snapshot per account per interval (default 120 s) */
  intervalMs?: number;
  /** the custody ticket of an expiring message this node received */
  ticket?: (cid: string) => Uint8Array | null;
  /** in a peer network: where the scan of announcements stands (kept in the snapshot for a restore) */
  scanCursor?: () => string | null;
  /** after a snapshot is anchored: hand it (and the CIDs it names) to the account's replicas */
  published?: (account: Account, pointer: SnapshotPointer, cids: string[]) => Promise<void>;
}

export interface Snapshotter {
  /** Takes a snapshot of the account now if its state changed (or `force`); returns the latest pointer, null when locked. */
  take(accountId: AccountId, options?: { force?: boolean }): Promise<SnapshotPointer | null>;
  close(): Promise<void>;
}

/** What identifies the account's mailbox state: any append, flag change, expunge, rename or subscription changes it. */
async function stateDigest(store: MailStore, accountId: AccountId): Promise<string> {
  const boxes = await store.listMailboxes(accountId);
  const subscriptions = await store.listSubscriptions(accountId);
  const parts = boxes.map((b) => [b.name, b.specialUse, b.uidValidity, b.uidNext, b.highestModSeq]);
  return createHash('sha256').update(JSON.stringify([parts, subscriptions])).digest('hex');
}

export function startSnapshotter(options: SnapshotterOptions): Snapshotter {
  const { store, keyring, state } = options;
  const log = options.logger.child({ part: 'snapshot' });
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 120_000;
  const running = new Map<AccountId, Promise<SnapshotPointer | null>>();
  let closed = false;

  async function build(account: Account, seq: number): Promise<{ snapshot: MailboxSnapshot; cids: string[] }> {
    const secrets = await store.getSecrets(account.id);
    const mailboxes: SnapshotMailbox[] = [];
    const cids = new Set<string>();
    for (const box of await store.listMailboxes(account.id)) {
      const messages: SnapshotMessage[] = [];
      for (const ref of await store.messageRefs(box.id)) {
        // Not sealed: an expiring message's APPENDed copy (it must not outlive
        // its expiry), or one appended after sealPending ran: the next snapshot has it.
        if (ref.sealed === null) continue;
        const prefix = ref.sealed.offset === 0 ? '' : Buffer.from((await store.getBody(box.id, ref.uid)).subarray(0, ref.sealed.offset)).toString('base64');
        const ticket = ref.expires === null ? null : (options.ticket?.(ref.sealed.cid) ?? null);
        messages.push({
          cid: ref.sealed.cid, prefix, flags: ref.flags.filter((f) => f !== '\\Recent'), internalDate: ref.internalDate.getTime(), expires: ref.expires, size: ref.size,
          ...(ticket === null ? {} : { ticket: Buffer.from(ticket).toString('base64') }),
        });
        cids.add(ref.sealed.cid);
      }
      mailboxes.push({ name: box.name, specialUse: box.specialUse, uidValidity: box.uidValidity, messages });
    }
    const snapshot: MailboxSnapshot = {
      version: 1, account: account.address, fingerprint: secrets.fingerprint, seq, takenAt: now(),
      subscriptions: await store.listSubscriptions(account.id), mailboxes,
      ...(options.scanCursor === undefined ? {} : { scanCursor: options.scanCursor() }),
    };
    return { snapshot, cids: [...cids] };
  }

  async function takeNow(accountId: AccountId, force: boolean): Promise<SnapshotPointer | null> {
    const account = await store.getAccountById(accountId);
    const signingKey = keyring.privateKey(accountId);
    if (account === null || signingKey === null) return null;
    const last = state.latest(account.address);
    await options.archiver.sealPending(accountId);
    const digest = await stateDigest(store, accountId);
    if (!force && last !== null && last.digest === digest) return last;
    const { snapshot, cids } = await build(account, (last?.seq ?? 0) + 1);
    const secrets = await store.getSecrets(accountId);
    const sealed = await sealSnapshot(snapshot, { publicKey: secrets.publicKey, signingKey });
    const cid = await options.storage.put(sealed);
    const messageHash = createHash('sha256').update(sealed).digest('hex');
    const { seq: ledgerSeq } = await options.ledger.append({ cid, messageHash, sender: secrets.fingerprint, time: snapshot.takenAt, expires: null });
    const count = snapshot.mailboxes.reduce((n, b) => n + b.messages.length, 0);
    const pointer: SnapshotPointer = { account: account.address, seq: snapshot.seq, cid, ledgerSeq, takenAt: snapshot.takenAt, digest, messages: count };
    state.save(pointer);
    log.info({ account: account.address, seq: pointer.seq, cid, messages: count, bytes: sealed.byteLength }, 'mailbox snapshot taken');
    if (options.published !== undefined) {
      await options.published(account, pointer, [...cids, cid]).catch((error: unknown) => {
        log.warn({ account: account.address, err: (error as Error).message }, 'the snapshot could not be handed to replicas yet; retried with the next one');
      });
    }
    return pointer;
  }

  function take(accountId: AccountId, takeOptions: { force?: boolean } = {}): Promise<SnapshotPointer | null> {
    const current = running.get(accountId);
    if (current !== undefined) return current.then(() => take(accountId, takeOptions));
    const run = takeNow(accountId, takeOptions.force === true).finally(() => running.delete(accountId));
    running.set(accountId, run);
    return run;
  }

  const tick = async (): Promise<void> => {
    for (const account of await store.listAccounts()) {
      if (closed) return;
      const last = state.latest(account.address);
      if (!keyring.isUnlocked(account.id) || (last !== null && now() - last.takenAt < interval)) continue;
      await take(account.id);
    }
  };
  // Checked often (cheap: a digest of mailbox counters); taken at most once per interval.
  const timer = setInterval(() => {
    tick().catch((error: unknown) => log.error({ err: error }, 'taking a mailbox snapshot failed; retried at the next tick'));
  }, Math.min(interval, 10_000));
  timer.unref();

  return {
    take,
    close: async () => {
      closed = true;
      clearInterval(timer);
      await Promise.allSettled(running.values());
    },
  };
}
