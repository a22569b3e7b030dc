// Which mailbox snapshots this node took (snapshots.db, SQLite): per account
// the latest one's sequence number, CID, ledger record and a digest of the
// mailbox state it captured, so that an unchanged account is not snapshotted
// again and `sealpost status` can say how fresh the last one is.
import { DatabaseSync } from 'node:sqlite';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE snapshots (
    account TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    cid TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL,
    taken_at INTEGER NOT NULL,
    digest TEXT NOT NULL,
    messages INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: which replica acknowledged which CID of each account, so a snapshot
  // hands each replica only what it lacks (a replica that joins the set, or
  // failed a CID before, gets it again).
  `
  CREATE TABLE replicated (
    account TEXT NOT NULL,
    node TEXT NOT NULL,
    cid TEXT NOT NULL,
    PRIMARY KEY (account, node, cid)
  ) WITHOUT ROWID;
  `,
];

export interface SnapshotPointer {
  /** the account's address */
  account: string;
  /** per account, from 1, one more per snapshot */
  seq: number;
  cid: string;
  /** the ledger record that anchors it */
  ledgerSeq: number;
  takenAt: number;
  /** digest of the mailbox state captured (snapshotter: unchanged state, no new snapshot) */
  digest: string;
  messages: number;
}

export interface SnapshotState {
  latest(account: string): SnapshotPointer | null;
  all(): SnapshotPointer[];
  save(pointer: SnapshotPointer): void;
  /** the ones of `cids` that some of `nodes` has not acknowledged yet */
  unreplicated(account: string, nodes: readonly string[], cids: readonly string[]): string[];
  markReplicated(account: string, node: string, cids: readonly string[]): void;
  close(): void;
}

interface Row { account: string; seq: number; cid: string; ledger_seq: number; taken_at: number; digest: string; messages: number }
const toPointer = (r: Row): SnapshotPointer => ({ account: r.account, seq: r.seq, cid: r.cid, ledgerSeq: r.ledger_seq, takenAt: r.taken_at, digest: r.digest, messages: r.messages });

export function openSnapshotState(path: string): SnapshotState {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
  migrate(db, MIGRATIONS, 'snapshot state');
  return {
    latest: (account) => {
      const row = db.prepare('SELECT * FROM snapshots WHERE account = ?').get(account) as Row | undefined;
      return row === undefined ? null : toPointer(row);
    },
    all: () => (db.prepare('SELECT * FROM snapshots ORDER BY account').all() as unknown as Row[]).map(toPointer),
    save: (p) => {
      db.prepare(`INSERT INTO snapshots (account, seq, cid, ledger_seq, taken_at, digest, messages) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (account) DO UPDATE SET seq = excluded.seq, cid = excluded.cid, ledger_seq = excluded.ledger_seq,
          taken_at = excluded.taken_at, digest = excluded.digest, messages = excluded.messages WHERE excluded.seq > snapshots.seq`)
        .run(p.account, p.seq, p.cid, p.ledgerSeq, p.takenAt, p.digest, p.messages);
    },
    unreplicated: (account, nodes, cids) => {
      if (nodes.length === 0) return [...cids];
      const complete = new Set((db.prepare(`SELECT r.cid FROM json_each(?) AS c CROSS JOIN replicated AS r ON r.account = ? AND r.cid = c.value
          WHERE r.node IN (SELECT value FROM json_each(?)) GROUP BY r.cid HAVING count(*) = ?`)
        .all(JSON.stringify(cids), account, JSON.stringify(nodes), nodes.length) as Array<{ cid: string }>).map((r) => r.cid));
      return cids.filter((c) => !complete.has(c));
    },
    markReplicated: (account, node, cids) => {
      const insert = db.prepare('INSERT OR IGNORE INTO replicated (account, node, cid) VALUES (?, ?, ?)');
      immediate(db, () => {
        for (const cid of cids) insert.run(account, node, cid);
      });
    },
    close: () => db.close(),
  };
}
