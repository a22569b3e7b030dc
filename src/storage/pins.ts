// The pin set of the embedded store: which objects are kept. One SQLite row
// per pinned root (ipfs/pins.db, WAL, synchronous=FULL), written in one
// statement, instead of Helia's two datastore files per block (a pin record
// and a reference count, each a durable file write): on the SMTP hot path
// that was a third of the gateway's CPU per message. Sealpost never runs
// Helia's garbage collector, so this table is the authority on what is kept.
import { DatabaseSync } from 'node:sqlite';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';

const MIGRATIONS = [`
  CREATE TABLE pins (
    cid TEXT PRIMARY KEY,
    pinned_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`];

export interface PinSet {
  add(cid: string): void;
  /** several in one transaction (one fsync) */
  addMany(cids: readonly string[]): void;
  remove(cid: string): void;
  has(cid: string): boolean;
  close(): void;
}

export function openPinSet(file: string): PinSet {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
  migrate(db, MIGRATIONS, 'pin set');
  const add = db.prepare('INSERT OR IGNORE INTO pins (cid, pinned_at) VALUES (?, ?)');
  const remove = db.prepare('DELETE FROM pins WHERE cid = ?');
  const has = db.prepare('SELECT 1 AS x FROM pins WHERE cid = ?');
  return {
    add: (cid) => void add.run(cid, Date.now()),
    addMany: (cids) => immediate(db, () => {
      const at = Date.now();
      for (const cid of cids) add.run(cid, at);
    }),
    remove: (cid) => void remove.run(cid),
    has: (cid) => has.get(cid) !== undefined,
    close: () => db.close(),
  };
}
