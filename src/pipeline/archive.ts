// Seals what a client put in the mail store itself (an APPENDed Sent copy, a
// draft, a placeholder): messages arriving by SMTP or import are sealed and
// recorded on the way in, but an APPEND is answered from the body cache at
// once, and sealed here shortly after, to the account's own key, into storage
// and the ledger (pipeline/import.ts sealOwnMany, one batch at a time). A restore (DESIGN.md
// "restore/") can then rebuild every message from storage. Expiring messages
// are never sealed again: a copy under the account's key would outlive the
// expiry. Runs for unlocked accounts (reading a body needs the cache key).
import type { Logger } from 'pino';
import type { KeyRing } from '../accounts/keyring.ts';
import { encryptMessage } from '../crypto/pgp.ts';
import { SealpostError } from '../errors/index.ts';
import type { Ledger } from '../ledger/types.ts';
import type { AccountId, MailboxId, MailStore, Uid } from '../mailstore/types.ts';
import type { BlockStorage } from '../storage/types.ts';
import { sealOwnMany } from './import.ts';

export interface ArchiverOptions {
  store: MailStore;
  keyring: Pick<KeyRing, 'isUnlocked' | 'onUnlock'>;
  storage: Pick<BlockStorage, 'putMany'>;
  ledger: Pick<Ledger, 'appendMany'>;
  logger: Logger;
  encrypt?: typeof encryptMessage;
  now?: () => number;
  /** how often unlocked accounts are looked at (default 5 s) */
  intervalMs?: number;
}

export interface Archiver {
  /** Seals every unsealed message of the account now; returns how many. */
  sealPending(accountId: AccountId): Promise<number>;
  close(): Promise<void>;
}

const BATCH = 32;

export function startArchiver(options: ArchiverOptions): Archiver {
  const { store, keyring } = options;
  const log = options.logger.child({ part: 'archive' });
  const parts = { storage: options.storage, ledger: options.ledger, encrypt: options.encrypt ?? encryptMessage, now: options.now ?? Date.now };
  const running = new Map<AccountId, Promise<number>>();
  let closed = false;

  async function sealAll(accountId: AccountId): Promise<number> {
    if (!keyring.isUnlocked(accountId)) return 0;
    const owner = await store.getSecrets(accountId);
    let sealed = 0;
    for (;;) {
      const pending = await store.unsealedMessages(accountId, BATCH);
      if (pending.length === 0 || closed) return sealed;
      const bodies: Array<{ mailboxId: MailboxId; uid: Uid; raw: Uint8Array }> = [];
      for (const { mailboxId, uid } of pending) {
        try {
          bodies.push({ mailboxId, uid, raw: await store.getBody(mailboxId, uid) });
        } catch (error) {
          // Expunged meanwhile: the next round lists what is left.
          if (!(error instanceof SealpostError && error.code === 'NOT_FOUND')) throw error;
        }
      }
      if (bodies.length === 0) return sealed;
      const refs = await sealOwnMany(parts, owner, bodies.map((b) => b.raw));
      for (const [i, { mailboxId, uid }] of bodies.entries()) {
        try {
          await store.setSealed(mailboxId, uid, { cid: (refs[i] as { cid: string }).cid, offset: 0 });
          sealed++;
        } catch (error) {
          if (!(error instanceof SealpostError && error.code === 'NOT_FOUND')) throw error;
        }
      }
    }
  }

  function sealPending(accountId: AccountId): Promise<number> {
    const current = running.get(accountId);
    if (current !== undefined) return current.then(() => sealPending(accountId));
    const run = sealAll(accountId).finally(() => running.delete(accountId));
    running.set(accountId, run);
    return run;
  }

  const tick = async (): Promise<void> => {
    for (const account of await store.listAccounts()) {
      if (closed) return;
      if (!keyring.isUnlocked(account.id)) continue;
      const n = await sealPending(account.id);
      if (n > 0) log.info({ account: account.address, sealed: n }, 'sealed messages clients appended');
    }
  };
  const timer = setInterval(() => {
    tick().catch((error: unknown) => log.error({ err: error }, 'sealing appended messages failed; retried at the next tick'));
  }, options.intervalMs ?? 5000);
  timer.unref();
  const unsubscribe = keyring.onUnlock((account) => void sealPending(account.id).catch((error: unknown) => log.error({ err: error }, 'sealing appended messages failed')));

  return {
    sealPending,
    close: async () => {
      closed = true;
      clearInterval(timer);
      unsubscribe();
      await Promise.allSettled(running.values());
    },
  };
}
