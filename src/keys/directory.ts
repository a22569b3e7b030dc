// The key directory: which OpenPGP public key to encrypt to for an address,
// and which key made a signature. Three sources, in this order of trust:
//   account   – the node's own accounts (read through the MailStore, never copied);
//   imported  – keys the user imported (`sealpost keys import`);
//   autocrypt – keys learnt from Autocrypt headers (Autocrypt Level 1 §2.3),
//               only when the caller has keys.autocrypt on.
// Imported and learnt keys live in their own SQLite file (DataPaths.keysDb).
//
// Keys unusable for encryption are never returned by lookup(): whether a key
// can encrypt, is revoked, and until when its encryption key is valid are
// computed once when it is stored (crypto/pgp.ts readPublicKeys) and lookup()
// filters on them against the current time in SQL. A revocation published
// later reaches the directory by importing the key again. encryptMessage
// checks the key once more when it encrypts (PGP_BAD_KEY).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { readPublicKeys, type PublicKeyInfo } from '../crypto/pgp.ts';
import { NotAllowedError, ValidationError } from '../errors/index.ts';
import type { AccountId, MailStore } from '../mailstore/types.ts';
import { parseAutocryptHeader } from './autocrypt.ts';
import { migrate } from '../sqlite/migrate.ts';
import { immediate } from '../sqlite/transaction.ts';

export type KeySource = 'account' | 'imported' | 'autocrypt';

export interface DirectoryKey {
  /** lower-cased address the key is for */
  address: string;
  /** uppercase hex fingerprint of the primary key */
  fingerprint: string;
  /** armored public key */
  armored: string;
  source: KeySource;
  /** when the key entered the directory (account: when the account was created) */
  addedAt: Date;
}

export interface KeyDirectory {
  /**
   * The key to encrypt to for `address`: account keys win over imported ones,
   * imported over Autocrypt; only keys that can encrypt now (not revoked, not
   * expired, with an encryption (sub)key); the newest such key of a source.
   * @throws ValidationError (field `address`) when it is not a mail address
   */
  lookup(address: string): Promise<DirectoryKey | null>;
  /**
   * The key holding primary or subkey id `keyId` (16 hex digits), usable or not
   * (signatures are checked as of their own date), accounts first.
   * @throws ValidationError (field `keyId`) when it is not 16 hex digits
   */
  findByKeyId(keyId: string): Promise<DirectoryKey | null>;
  /**
   * Imports public keys (armored, several blocks allowed, or binary): one
   * entry per address per key; importing a key again replaces it (and drops
   * addresses its user ids no longer carry). All or nothing.
   * @throws PgpError PGP_BAD_KEY when the input holds no readable key
   * @throws ValidationError (field `key`) for private keys or a key without a mail address
   * @throws NotAllowedError when a key names an address that is a local account
   */
  importKeys(input: string | Uint8Array): Promise<DirectoryKey[]>;
  /**
   * Applies an Autocrypt header (Autocrypt Level 1 §2.3): accepted only when
   * its addr is the From address, the address is no local account and has no
   * imported key, the header is newer than the last one accepted, and the key
   * can encrypt. Returns the stored key, or null when the header was not used.
   * @throws ValidationError when the header must be ignored (§2.1: malformed, unknown critical attribute)
   * @throws PgpError PGP_BAD_KEY when keydata is not a readable key
   */
  learnAutocrypt(input: { from: string; header: string; date: Date }): Promise<DirectoryKey | null>;
  /** Every key: accounts first, then imported and learnt keys by address. */
  list(): Promise<DirectoryKey[]>;
  /** Removes the imported and learnt keys of `address` (account keys stay); returns how many entries went. */
  remove(address: string): Promise<number>;
  close(): void;
}

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE directory_keys (
    address TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('imported', 'autocrypt')),
    armored TEXT NOT NULL,
    key_created_at INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- Autocrypt: effective date of the newest header accepted (§2.3 last_seen_autocrypt)
    seen_at INTEGER,
    prefer_encrypt TEXT,
    can_encrypt INTEGER NOT NULL,
    revoked INTEGER NOT NULL,
    -- ms since epoch after which the key cannot encrypt; NULL: no expiry
    encrypt_until INTEGER,
    PRIMARY KEY (address, fingerprint)
  ) WITHOUT ROWID;
  CREATE TABLE directory_key_ids (
    key_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (key_id, fingerprint)
  ) WITHOUT ROWID;
  `,
];

interface KeyRow {
  address: string;
  fingerprint: string;
  source: 'imported' | 'autocrypt';
  armored: string;
  added_at: number;
  seen_at: number | null;
}

const toKey = (r: KeyRow): DirectoryKey => ({ address: r.address, fingerprint: r.fingerprint, armored: r.armored, source: r.source, addedAt: new Date(r.added_at) });

const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+$/;

function normalizeAddress(address: string): string {
  const value = address.trim().toLowerCase();
  if (!ADDRESS.test(value)) throw new ValidationError('address', `"${address}" is not a mail address`);
  return value;
}

const usableNow = (info: PublicKeyInfo, now: number): boolean =>
  info.canEncrypt && !info.revoked && !info.expired && (info.encryptUntil === null || info.encryptUntil.getTime() > now);


export type DirectoryStore = Pick<MailStore, 'getAccount' | 'getAccountById' | 'listAccounts' | 'getSecrets'>;

/**
 * Opens (creating and migrating as needed) the directory file at `path`
 * (DataPaths.keysDb, or ':memory:'); account keys are read from `store`.
 * @throws Error when the file's schema is newer than this Sealpost
 */
export function openKeyDirectory(options: { path: string; store: DirectoryStore }): KeyDirectory {
  const memory = options.path === ':memory:';
  if (!memory) mkdirSync(path.dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  try {
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
    migrate(db, MIGRATIONS, 'key directory');
    return new SqliteKeyDirectory(db, options.store);
  } catch (err) {
    db.close();
    throw err;
  }
}

const COLUMNS = 'address, fingerprint, source, armored, added_at, seen_at';

class SqliteKeyDirectory implements KeyDirectory {
  readonly #db: DatabaseSync;
  readonly #store: DirectoryStore;
  readonly #s: Record<
    'lookup' | 'byKeyId' | 'all' | 'ofAddress' | 'upsert' | 'deleteIds' | 'insertId' | 'staleAddresses' | 'deleteRow' | 'removeAddress' | 'orphanIds',
    StatementSync
  >;
  // Account key ids → account, learnt by parsing the accounts' public keys once.
  readonly #accountKeyIds = new Map<string, { id: AccountId; fingerprint: string }>();
  readonly #parsedAccounts = new Set<AccountId>();
  #refreshing: Promise<void> | null = null;
  #closed = false;

  constructor(db: DatabaseSync, store: DirectoryStore) {
    this.#db = db;
    this.#store = store;
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.#s = {
      // Imported before Autocrypt, then the newest key.
      lookup: p(`SELECT ${COLUMNS} FROM directory_keys
        WHERE address = ? AND can_encrypt = 1 AND revoked = 0 AND (encrypt_until IS NULL OR encrypt_until > ?)
        ORDER BY source = 'imported' DESC, key_created_at DESC, updated_at DESC LIMIT 1`),
      byKeyId: p(`SELECT ${COLUMNS.split(', ').map((c) => `k.${c}`).join(', ')} FROM directory_key_ids i JOIN directory_keys k ON k.fingerprint = i.fingerprint
        WHERE i.key_id = ? ORDER BY k.source = 'imported' DESC, k.updated_at DESC LIMIT 1`),
      all: p(`SELECT ${COLUMNS} FROM directory_keys ORDER BY address, source = 'imported' DESC, key_created_at DESC`),
      ofAddress: p(`SELECT ${COLUMNS} FROM directory_keys WHERE address = ?`),
      upsert: p(`INSERT INTO directory_keys
        (address, fingerprint, source, armored, key_created_at, added_at, updated_at, seen_at, prefer_encrypt, can_encrypt, revoked, encrypt_until)
        VALUES (:address, :fingerprint, :source, :armored, :created, :now, :now, :seen, :prefer, :canEncrypt, :revoked, :until)
        ON CONFLICT (address, fingerprint) DO UPDATE SET source = excluded.source, armored = excluded.armored,
          updated_at = excluded.updated_at, seen_at = excluded.seen_at, prefer_encrypt = excluded.prefer_encrypt,
          can_encrypt = excluded.can_encrypt, revoked = excluded.revoked, encrypt_until = excluded.encrypt_until`),
      deleteIds: p('DELETE FROM directory_key_ids WHERE fingerprint = ?'),
      insertId: p('INSERT OR IGNORE INTO directory_key_ids (key_id, fingerprint) VALUES (?, ?)'),
      staleAddresses: p(`SELECT address FROM directory_keys WHERE fingerprint = ? AND source = 'imported'`),
      deleteRow: p('DELETE FROM directory_keys WHERE address = ? AND fingerprint = ?'),
      removeAddress: p('DELETE FROM directory_keys WHERE address = ?'),
      orphanIds: p('DELETE FROM directory_key_ids WHERE fingerprint NOT IN (SELECT fingerprint FROM directory_keys)'),
    };
  }

  async lookup(address: string): Promise<DirectoryKey | null> {
    const normalized = normalizeAddress(address);
    const account = await this.#accountKey(normalized);
    if (account !== null) return account;
    const row = this.#s.lookup.get(normalized, Date.now()) as KeyRow | undefined;
    return row === undefined ? null : toKey(row);
  }

  async findByKeyId(keyId: string): Promise<DirectoryKey | null> {
    const id = keyId.trim().toUpperCase();
    if (!/^[0-9A-F]{16}$/.test(id)) throw new ValidationError('keyId', 'must be 16 hex digits');
    let entry = this.#accountKeyIds.get(id);
    if (entry === undefined) {
      await this.#refreshAccounts();
      entry = this.#accountKeyIds.get(id);
    }
    if (entry !== undefined) {
      const account = await this.#store.getAccountById(entry.id);
      if (account !== null) {
        const secrets = await this.#store.getSecrets(entry.id);
        if (secrets.fingerprint === entry.fingerprint) {
          return { address: account.address, fingerprint: secrets.fingerprint, armored: secrets.publicKey, source: 'account', addedAt: account.createdAt };
        }
      }
      // The account is gone or has another key now: learn the accounts again next time.
      this.#forgetAccount(entry.id);
    }
    const row = this.#s.byKeyId.get(id) as KeyRow | undefined;
    return row === undefined ? null : toKey(row);
  }

  async importKeys(input: string | Uint8Array): Promise<DirectoryKey[]> {
    const infos = await readPublicKeys(input);
    for (const info of infos) {
      // The directory holds public keys; a private key here is a mistake we do not want to encourage.
      if (info.secret) throw new ValidationError('key', `${info.fingerprint} is a private key: import its public key (gpg --export --armor)`);
      if (info.addresses.length === 0) throw new ValidationError('key', `${info.fingerprint} has no user id with a mail address`);
      for (const address of info.addresses) {
        if ((await this.#store.getAccount(address)) !== null) {
          throw new NotAllowedError(`${address} is a local account: its key is the account's own and cannot be replaced`);
        }
      }
    }
    const now = Date.now();
    const stored: DirectoryKey[] = [];
    this.#transaction(() => {
      for (const info of infos) {
        // A user id dropped from the key (e.g. revoked) no longer maps its address to it.
        for (const { address } of this.#s.staleAddresses.all(info.fingerprint) as Array<{ address: string }>) {
          if (!info.addresses.includes(address)) this.#s.deleteRow.run(address, info.fingerprint);
        }
        for (const address of info.addresses) {
          this.#write(address, info, 'imported', now, null, null);
          stored.push(toKey(this.#row(address, info.fingerprint)));
        }
      }
    });
    return stored;
  }

  async learnAutocrypt(input: { from: string; header: string; date: Date }): Promise<DirectoryKey | null> {
    const header = parseAutocryptHeader(input.header);
    const from = normalizeAddress(input.from);
    if (header.addr !== from) return null;
    if ((await this.#store.getAccount(from)) !== null) return null;
    const now = Date.now();
    // §2.3: a Date in the future counts as now.
    const effective = Math.min(input.date.getTime(), now);
    if (Number.isNaN(effective)) throw new ValidationError('date', 'is not a valid date');
    if (!this.#autocryptAllowed(from, effective)) return null;
    const infos = await readPublicKeys(header.keydata);
    const [info] = infos;
    if (info === undefined || infos.length !== 1) throw new ValidationError('autocrypt.keydata', 'must hold exactly one key');
    if (info.secret) throw new ValidationError('autocrypt.keydata', 'holds a private key');
    if (!usableNow(info, now)) return null;
    let learnt: DirectoryKey | null = null;
    this.#transaction(() => {
      // Checked again under the write lock: another message may have been processed meanwhile.
      if (!this.#autocryptAllowed(from, effective)) return;
      for (const row of this.#s.ofAddress.all(from) as unknown as KeyRow[]) {
        if (row.fingerprint !== info.fingerprint) this.#s.deleteRow.run(from, row.fingerprint);
      }
      this.#write(from, info, 'autocrypt', now, effective, header.preferEncrypt);
      learnt = toKey(this.#row(from, info.fingerprint));
    });
    return learnt;
  }

  async list(): Promise<DirectoryKey[]> {
    const accounts: DirectoryKey[] = [];
    for (const account of await this.#store.listAccounts()) {
      const secrets = await this.#store.getSecrets(account.id);
      accounts.push({ address: account.address, fingerprint: secrets.fingerprint, armored: secrets.publicKey, source: 'account', addedAt: account.createdAt });
    }
    return [...accounts, ...(this.#s.all.all() as unknown as KeyRow[]).map(toKey)];
  }

  async remove(address: string): Promise<number> {
    const normalized = normalizeAddress(address);
    let removed = 0;
    this.#transaction(() => {
      removed = Number(this.#s.removeAddress.run(normalized).changes);
      this.#s.orphanIds.run();
    });
    return removed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  // --- helpers ---

  /** Writes one row and the key ids of its key; inside a transaction. */
  #write(address: string, info: PublicKeyInfo, source: 'imported' | 'autocrypt', now: number, seen: number | null, prefer: string | null): void {
    this.#s.upsert.run({
      address,
      fingerprint: info.fingerprint,
      source,
      armored: info.armored,
      created: info.created.getTime(),
      now,
      seen,
      prefer,
      canEncrypt: info.canEncrypt ? 1 : 0,
      revoked: info.revoked ? 1 : 0,
      until: info.encryptUntil === null ? null : info.encryptUntil.getTime(),
    });
    this.#s.deleteIds.run(info.fingerprint);
    for (const keyId of info.keyIds) this.#s.insertId.run(keyId, info.fingerprint);
  }

  #row(address: string, fingerprint: string): KeyRow {
    const row = (this.#s.ofAddress.all(address) as unknown as KeyRow[]).find((r) => r.fingerprint === fingerprint);
    if (row === undefined) throw new Error('key directory: row vanished inside its own transaction');
    return row;
  }

  /** Autocrypt may write `address` when no imported key exists and `effective` is newer than what it saw. */
  #autocryptAllowed(address: string, effective: number): boolean {
    const rows = this.#s.ofAddress.all(address) as unknown as KeyRow[];
    if (rows.some((r) => r.source === 'imported')) return false;
    return rows.every((r) => r.seen_at === null || r.seen_at < effective);
  }

  #transaction(fn: () => void): void {
    immediate(this.#db, fn);
  }

  async #accountKey(address: string): Promise<DirectoryKey | null> {
    const account = await this.#store.getAccount(address);
    if (account === null) return null;
    const secrets = await this.#store.getSecrets(account.id);
    return { address: account.address, fingerprint: secrets.fingerprint, armored: secrets.publicKey, source: 'account', addedAt: account.createdAt };
  }

  #forgetAccount(id: AccountId): void {
    this.#parsedAccounts.delete(id);
    for (const [keyId, entry] of this.#accountKeyIds) if (entry.id === id) this.#accountKeyIds.delete(keyId);
  }

  /** Parses the public keys of accounts not seen yet (accounts may be added by the CLI while the gateway runs). */
  #refreshAccounts(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        for (const account of await this.#store.listAccounts()) {
          if (this.#parsedAccounts.has(account.id)) continue;
          const secrets = await this.#store.getSecrets(account.id);
          // An account key that does not parse cannot have made a signature; skip it.
          const [info] = await readPublicKeys(secrets.publicKey).catch(() => []);
          if (info === undefined) continue;
          for (const keyId of info.keyIds) this.#accountKeyIds.set(keyId, { id: account.id, fingerprint: secrets.fingerprint });
          this.#parsedAccounts.add(account.id);
        }
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }
}
