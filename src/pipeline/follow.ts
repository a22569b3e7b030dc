// `sealpost import imap --follow` with the gateway running: the gateway keeps
// pulling new mail from the old account as it arrives (IDLE on INBOX, the
// other folders polled), so a person can switch clients today and still get
// what is sent to the old address. The old account's settings, password
// included, are kept at rest only encrypted to the Sealpost account's own
// OpenPGP key (follows.db): the gateway can read them, and follow, only
// while that account is unlocked (logged in since the gateway started);
// every unlock starts the follows of that account again, across restarts.
import { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import type { KeyRing } from '../accounts/keyring.ts';
import { decryptMessage, encryptMessage } from '../crypto/pgp.ts';
import type { AccountId, MailStore } from '../mailstore/types.ts';
import type { ImapSourceOptions } from '../migrate/imap-source.ts';
import { migrate } from '../sqlite/migrate.ts';
import type { Importer } from './import.ts';

/** What a follow needs to reach the old account (sealed at rest). */
export type FollowSource = Pick<ImapSourceOptions, 'host' | 'port' | 'security' | 'user' | 'password' | 'ca'> & {
  /** folder globs (import imap --folders); absent: every folder */
  include?: string[];
  /** how often folders other than INBOX are polled (default 60 s) */
  intervalMs?: number;
};

export interface Follows {
  /** Keeps following `source` for the account (replacing a follow of the same user@host:port), starting now if it is unlocked. */
  add(accountId: AccountId, source: FollowSource): Promise<void>;
  /** how many follows run now */
  running(): number;
  close(): Promise<void>;
}

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE follows (
    account_id INTEGER NOT NULL,
    target TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, target)
  ) WITHOUT ROWID;
  `,
];

export function startFollows(options: { path: string; store: MailStore; keyring: KeyRing; importer: Importer; logger: Logger; retryMs?: number }): Follows {
  const { store, keyring, importer } = options;
  const log = options.logger.child({ part: 'follow' });
  const db = new DatabaseSync(options.path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
  migrate(db, MIGRATIONS, 'follows');
  /** account:target → the running follow's stop */
  const active = new Map<string, AbortController>();
  const loops = new Set<Promise<void>>();
  let closed = false;

  const targetOf = (s: FollowSource): string => `${s.user}@${s.host}:${s.port}`;

  async function run(accountId: AccountId, source: FollowSource, signal: AbortSignal): Promise<void> {
    const { openImapSource } = await import('../migrate/imap-source.ts');
    while (!signal.aborted) {
      try {
        const imap = await openImapSource({ ...source, logger: options.logger });
        try {
          const folders = await imap.folders(source.include === undefined ? {} : { include: source.include });
          const names = new Map<string, string>();
          for (const f of folders) names.set(f.path, (await importer.folder(accountId, { name: f.name, specialUse: f.specialUse, subscribed: f.subscribed })).name);
          const known = (ids: string[]) => importer.known(accountId, ids);
          log.info({ account: accountId, target: targetOf(source), folders: folders.length }, 'following the old account');
          for await (const m of imap.follow(folders, { signal, known, ...(source.intervalMs === undefined ? {} : { intervalMs: source.intervalMs }) })) {
            const folder = names.get(m.folder.path) ?? m.folder.name;
            const [outcome] = await importer.importBatch(accountId, [{ folder, raw: m.raw, flags: m.flags, internalDate: m.internalDate, source: m.sourceId }]);
            if (outcome === 'imported') log.info({ account: accountId, folder }, 'new message from the old account');
          }
        } finally {
          await imap.close();
        }
      } catch (error) {
        if (signal.aborted) return;
        log.warn({ account: accountId, target: targetOf(source), err: (error as Error).message }, 'following the old account failed; trying again later');
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, options.retryMs ?? 60_000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(undefined);
        }, { once: true });
      });
    }
  }

  function start(accountId: AccountId, source: FollowSource): void {
    const key = `${accountId}:${targetOf(source)}`;
    active.get(key)?.abort();
    const controller = new AbortController();
    active.set(key, controller);
    const loop = run(accountId, source, controller.signal).finally(() => {
      if (active.get(key) === controller) active.delete(key);
      loops.delete(loop);
    });
    loops.add(loop);
  }

  async function resume(accountId: AccountId): Promise<void> {
    const key = keyring.privateKey(accountId);
    if (key === null || closed) return;
    const rows = db.prepare('SELECT sealed FROM follows WHERE account_id = ?').all(accountId) as Array<{ sealed: Uint8Array }>;
    for (const row of rows) {
      try {
        const { data } = await decryptMessage({ data: row.sealed, decryptionKey: key, findVerificationKey: async () => null });
        start(accountId, JSON.parse(new TextDecoder().decode(data)) as FollowSource);
      } catch (error) {
        log.error({ account: accountId, err: (error as Error).message }, 'a stored follow could not be opened');
      }
    }
  }

  const unsubscribe = keyring.onUnlock((account) => void resume(account.id));

  return {
    async add(accountId, source) {
      const secrets = await store.getSecrets(accountId);
      const sealed = await encryptMessage({ data: new TextEncoder().encode(JSON.stringify(source)), encryptionKeys: [secrets.publicKey] });
      db.prepare('INSERT OR REPLACE INTO follows (account_id, target, sealed, created_at) VALUES (?, ?, ?, ?)').run(accountId, targetOf(source), sealed, Date.now());
      if (keyring.isUnlocked(accountId)) start(accountId, source);
    },
    running: () => active.size,
    async close() {
      closed = true;
      unsubscribe();
      for (const controller of active.values()) controller.abort();
      active.clear();
      // A loop ends soon after its abort; its IMAP logout may not (a server
      // in IDLE can take long to answer): shutdown waits 3 s at most for it.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...loops]), new Promise((resolve) => { timer = setTimeout(resolve, 3000); })]);
      clearTimeout(timer);
      db.close();
    },
  };
}
