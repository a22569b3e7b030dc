// One write transaction on a node:sqlite connection: BEGIN IMMEDIATE takes
// the write lock at once (so checks made inside see what no other connection
// can change before COMMIT), and any error rolls it back and is rethrown.
import type { DatabaseSync } from 'node:sqlite';

export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
