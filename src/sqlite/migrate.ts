// Schema migrations for Sealpost's SQLite files (mail store, ledger, key
// directory), versioned with PRAGMA user_version: migration N (1-based)
// brings a database from version N-1 to N, each in its own transaction.
import type { DatabaseSync } from 'node:sqlite';

function userVersion(db: DatabaseSync): number {
  return (db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined)?.user_version ?? 0;
}

/**
 * Brings `db` up to date. Safe when several processes (the gateway and a CLI
 * command) open the file at once: the version is read again under the write lock.
 * @throws Error when the file is newer than this Sealpost (`what` names it)
 */
export function migrate(db: DatabaseSync, migrations: readonly string[], what: string): void {
  let version = userVersion(db);
  if (version > migrations.length) {
    throw new Error(`${what} schema version ${version} is newer than this Sealpost (${migrations.length})`);
  }
  while (version < migrations.length) {
    db.exec('BEGIN IMMEDIATE');
    try {
      if (userVersion(db) === version) {
        db.exec(migrations[version] as string);
        db.exec(`PRAGMA user_version = ${version + 1}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    version = userVersion(db);
  }
}
