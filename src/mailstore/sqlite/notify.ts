// Change notification for the SQLite store (IMAP IDLE / NOOP, RFC 2177):
// in-process listeners are told after commit (never inside the transaction);
// changes committed by another process or connection on the same database (an
// importer CLI) are noticed by polling PRAGMA data_version while anyone listens,
// then every listened mailbox whose HIGHESTMODSEQ moved is reported.
import type { MailboxId, MailboxListener } from '../types.ts';
import type { Db } from './db.ts';

export const POLL_INTERVAL_MS = 500;

export class Notifier {
  private readonly db: Db;
  private readonly listeners = new Map<MailboxId, Set<MailboxListener>>();
  /** last HIGHESTMODSEQ seen per listened mailbox; -1 when the mailbox is gone */
  private readonly known = new Map<MailboxId, number>();
  private timer: NodeJS.Timeout | null = null;
  private dataVersion = 0;

  constructor(db: Db) {
    this.db = db;
  }

  subscribe(id: MailboxId, listener: MailboxListener): () => void {
    let set = this.listeners.get(id);
    if (!set) {
      this.listeners.set(id, (set = new Set()));
      this.known.set(id, this.modSeqOf(id));
    }
    set.add(listener);
    this.startPolling();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) {
        this.listeners.delete(id);
        this.known.delete(id);
      }
      if (this.listeners.size === 0) this.stopPolling();
    };
  }

  /** Called after this connection committed changes to `ids`. */
  committed(ids: Iterable<MailboxId>): void {
    const targets = [...new Set(ids)].filter((id) => this.listeners.has(id));
    for (const id of targets) this.known.set(id, this.modSeqOf(id));
    this.fire(targets);
  }

  close(): void {
    this.stopPolling();
    this.listeners.clear();
    this.known.clear();
  }

  /** One poll: cheap when nothing changed (a single PRAGMA). Exposed for tests. */
  poll(): void {
    if (!this.db.raw.isOpen) return;
    const version = this.readDataVersion();
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    const changed: MailboxId[] = [];
    for (const id of this.listeners.keys()) {
      const now = this.modSeqOf(id);
      if (now !== this.known.get(id)) {
        this.known.set(id, now);
        changed.push(id);
      }
    }
    this.fire(changed);
  }

  private fire(ids: MailboxId[]): void {
    for (const id of ids) {
      for (const listener of [...(this.listeners.get(id) ?? [])]) {
        // Never inside the caller's stack: listeners may call back into the store.
        setImmediate(() => listener(id));
      }
    }
  }

  private modSeqOf(id: MailboxId): number {
    return this.db.get<{ m: number }>('SELECT highest_modseq AS m FROM mailboxes WHERE id = ?', id)?.m ?? -1;
  }

  private readDataVersion(): number {
    return this.db.get<{ data_version: number }>('PRAGMA data_version')?.data_version ?? 0;
  }

  private startPolling(): void {
    if (this.timer) return;
    this.dataVersion = this.readDataVersion();
    this.timer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
