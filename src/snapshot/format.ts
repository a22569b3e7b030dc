// The mailbox snapshot of one account: the state that is not in the messages
// themselves (folders and their UIDVALIDITY, which message sits in which
// folder and in what order, flags, subscriptions, expiry tickets), which a
// restore needs on top of the ledger and the ciphertexts in storage.
//
// Sealed form: JSON → gzip (RFC 1952, node:zlib) → an OpenPGP message
// encrypted to the account's own key and signed by it (crypto/pgp.ts: RFC 4880
// PKESK + SEIPD v1 with a one-pass signature), binary. It is stored in IPFS
// and anchored like a message. Opening REQUIRES a valid signature by the
// account's key: storage replicas are not trusted, and one must not be able
// to hand over a forged snapshot encrypted to our public key. The signature
// is checked before anything is decompressed, so a decompression bomb has to
// be signed by the account itself; even then the gunzip output is capped.
// Rollback (a replica serving an older, genuinely signed snapshot) is the
// caller's to refuse: compare `seq` with the newest anchored one.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { normaliseAddress } from '../accounts/service.ts';
import { decryptMessage, encryptMessage, exportUnlockedKey, PgpError, readPublicKeys, type UnlockedKey } from '../crypto/pgp.ts';
import { SealpostError, ValidationError } from '../errors/index.ts';
import { normalizeFlags } from '../mailstore/flags.ts';
import { validateMailboxName } from '../mailstore/names.ts';
import type { SpecialUse } from '../mailstore/types.ts';
import { cidString, parseCid } from '../storage/layout.ts';
import { FieldError, isRecord, record } from '../formats/fields.ts';

export const SNAPSHOT_FORMAT_VERSION = 1;

/**
 * Largest snapshot JSON, octets (about 400,000 messages). Not higher: V8's
 * longest string is ~512 MiB (2^29 - 24 UTF-16 units), and JSON.parse of
 * such a text needs several times that in heap.
 */
export const MAX_SNAPSHOT_JSON = 256 * 1024 * 1024;

export interface SnapshotMessage {
  /** CID of the ciphertext in storage whose plaintext is this message's body minus `prefix` */
  cid: string;
  /** base64 of the octets the gateway put in front of the decrypted plaintext (X-Sealpost-* view fields), '' when none */
  prefix: string;
  /** canonical IMAP flags (mailstore/flags.ts normalizeFlags), no \Recent */
  flags: string[];
  /** IMAP INTERNALDATE, ms since the epoch */
  internalDate: number;
  /** when the message expires, ms since the epoch; null: never */
  expires: number | null;
  /** RFC822.SIZE, octets */
  size: number;
  /** base64: the custody ticket of an expiring message (opaque here) */
  ticket?: string;
}

export interface SnapshotMailbox {
  /** canonical mailbox name (mailstore/names.ts) */
  name: string;
  specialUse: SpecialUse | null;
  uidValidity: number;
  /** in UID order */
  messages: SnapshotMessage[];
}

export interface MailboxSnapshot {
  version: 1;
  /** the account's address, lower-cased */
  account: string;
  /** uppercase hex fingerprint of the account key that seals the snapshot */
  fingerprint: string;
  /** grows by one with each snapshot of the account: the newest wins */
  seq: number;
  /** ms since the epoch */
  takenAt: number;
  /** subscribed mailbox names (RFC 3501 §6.3.6; they need not exist) */
  subscriptions: string[];
  /** INBOX among them */
  mailboxes: SnapshotMailbox[];
  /** in a peer network: where this node's scan of announcements stood when
   *  the snapshot was taken; a restore scans on from there, so mail announced
   *  later is delivered and mail deleted before it is not brought back */
  scanCursor?: string | null;
}

// --- errors ---------------------------------------------------------------------

/** The snapshot is not signed by the expected account key (unsigned, another key, or a bad signature). */
export class SnapshotSignatureError extends SealpostError {
  /** what the signature check found: 'unsigned', 'unknown-key' (another key), 'invalid', or 'valid' by another fingerprint */
  readonly status: string;
  constructor(status: string) {
    super('SNAPSHOT_BAD_SIGNATURE', `the snapshot is not signed by the account key (${status})`);
    this.name = 'SnapshotSignatureError';
    this.status = status;
  }
}

/** The snapshot cannot be decrypted with the account key, is not gzip or JSON, or a field fails validation (`field` names it). */
export class SnapshotCorruptError extends SealpostError {
  readonly field: string | undefined;
  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super('SNAPSHOT_CORRUPT', options?.field === undefined ? message : `${options.field}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SnapshotCorruptError';
    this.field = options?.field;
  }
}

/** A newer Sealpost wrote the snapshot (a format version this one does not know). */
export class SnapshotVersionError extends SealpostError {
  readonly version: number;
  constructor(version: number) {
    super('SNAPSHOT_VERSION', `snapshot format version ${version} is newer than this Sealpost understands (${SNAPSHOT_FORMAT_VERSION})`);
    this.name = 'SnapshotVersionError';
    this.version = version;
  }
}

/** The snapshot is (or would decompress to) more than MAX_SNAPSHOT_JSON octets. */
export class SnapshotTooLargeError extends SealpostError {
  readonly limit: number;
  constructor(limit: number) {
    super('SNAPSHOT_TOO_LARGE', `the snapshot is larger than ${limit} octets`);
    this.name = 'SnapshotTooLargeError';
    this.limit = limit;
  }
}

// --- sealing and opening -----------------------------------------------------------

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Validates, serialises, compresses, signs with `signingKey` and encrypts to
 * `publicKey` (both the account's key: snapshot.fingerprint). Binary OpenPGP.
 * @throws ValidationError naming the field that fails validation; `fingerprint`
 *   when the keys are not the key snapshot.fingerprint names, `publicKey` when it is unreadable
 * @throws SnapshotTooLargeError SNAPSHOT_TOO_LARGE when the JSON exceeds MAX_SNAPSHOT_JSON
 * @throws PgpError PGP_BAD_KEY when the public key cannot encrypt (expired, revoked)
 */
export async function sealSnapshot(snapshot: MailboxSnapshot, keys: { publicKey: string; signingKey: UnlockedKey }): Promise<Uint8Array> {
  let valid: MailboxSnapshot;
  try {
    valid = parseSnapshot(snapshot);
  } catch (error) {
    if (error instanceof FieldError) throw new ValidationError(error.field, error.message);
    throw error;
  }
  if (keys.signingKey.fingerprint !== valid.fingerprint) throw new ValidationError('fingerprint', `is not the signing key's (${keys.signingKey.fingerprint})`);
  let publicFingerprint: string | undefined;
  try {
    publicFingerprint = (await readPublicKeys(keys.publicKey))[0]?.fingerprint;
  } catch {
    throw new ValidationError('publicKey', 'is not a readable OpenPGP public key');
  }
  if (publicFingerprint !== valid.fingerprint) throw new ValidationError('fingerprint', 'is not the fingerprint of the public key sealed to');
  const json = Buffer.from(JSON.stringify(valid), 'utf8');
  if (json.length > MAX_SNAPSHOT_JSON) throw new SnapshotTooLargeError(MAX_SNAPSHOT_JSON);
  const compressed = await gzipAsync(json);
  return encryptMessage({
    data: new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength),
    encryptionKeys: [keys.publicKey],
    signingKey: keys.signingKey,
  });
}

/**
 * Decrypts with `key`, requires a valid signature by `expectedFingerprint`,
 * decompresses (at most MAX_SNAPSHOT_JSON octets) and validates.
 * @throws TypeError when `key` is not the key `expectedFingerprint` names (a snapshot is sealed to its own signer)
 * @throws SnapshotSignatureError SNAPSHOT_BAD_SIGNATURE unless validly signed by `expectedFingerprint`
 * @throws SnapshotCorruptError SNAPSHOT_CORRUPT when it does not decrypt with `key` (damaged, or another account's),
 *   is not gzip/JSON, fails validation (`field`), or names another fingerprint
 * @throws SnapshotVersionError SNAPSHOT_VERSION when a newer Sealpost wrote it
 * @throws SnapshotTooLargeError SNAPSHOT_TOO_LARGE when it decompresses to more than MAX_SNAPSHOT_JSON octets
 */
export async function openSnapshot(bytes: Uint8Array, key: UnlockedKey, expectedFingerprint: string): Promise<MailboxSnapshot> {
  if (key.fingerprint !== expectedFingerprint) throw new TypeError(`the key is ${key.fingerprint}, not the expected signer ${expectedFingerprint}`);
  // Compressed JSON is never larger than the JSON itself by more than a little.
  if (bytes.length > MAX_SNAPSHOT_JSON) throw new SnapshotTooLargeError(MAX_SNAPSHOT_JSON);
  const publicKey = await publicKeyOf(key);
  let opened: Awaited<ReturnType<typeof decryptMessage>>;
  try {
    opened = await decryptMessage({
      data: bytes,
      decryptionKey: key,
      // Only the account's own key can vouch for its snapshot.
      findVerificationKey: async (keyId) => (key.keyIds.includes(keyId) ? publicKey : null),
    });
  } catch (cause) {
    if (cause instanceof PgpError) throw new SnapshotCorruptError('does not decrypt with the account key: damaged, or sealed to another key', { cause });
    throw cause;
  }
  const { signature } = opened;
  if (signature.status !== 'valid' || signature.fingerprint !== expectedFingerprint) {
    throw new SnapshotSignatureError(signature.status === 'valid' ? `valid by ${signature.fingerprint ?? '?'}` : signature.status);
  }
  let json: Buffer;
  try {
    // maxOutputLength counts the octets as they come out and stops there.
    json = await gunzipAsync(opened.data, { maxOutputLength: MAX_SNAPSHOT_JSON });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new SnapshotTooLargeError(MAX_SNAPSHOT_JSON);
    throw new SnapshotCorruptError('is not gzip data', { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (cause) {
    throw new SnapshotCorruptError('is not JSON', { cause });
  }
  const version = isRecord(value) ? value['version'] : undefined;
  if (typeof version === 'number' && Number.isSafeInteger(version) && version > SNAPSHOT_FORMAT_VERSION) throw new SnapshotVersionError(version);
  let snapshot: MailboxSnapshot;
  try {
    snapshot = parseSnapshot(value);
  } catch (error) {
    if (error instanceof FieldError) throw new SnapshotCorruptError(error.message, { field: error.field });
    throw error;
  }
  if (snapshot.fingerprint !== expectedFingerprint) throw new SnapshotCorruptError(`names key ${snapshot.fingerprint}, not the signer`, { field: 'fingerprint' });
  return snapshot;
}

// The armored public key of an unlocked key, read from its own packets: the
// signature check needs it and UnlockedKey does not carry it. The unprotected
// packets stay in this process and are dropped after parsing (a
// `publicKeyOf(UnlockedKey)` in crypto/pgp.ts would avoid the round trip).
const publicKeys = new WeakMap<UnlockedKey, Promise<string>>();

function publicKeyOf(key: UnlockedKey): Promise<string> {
  let armored = publicKeys.get(key);
  if (armored === undefined) {
    armored = readPublicKeys(exportUnlockedKey(key)).then(([info]) => {
      if (info === undefined) throw new TypeError('the unlocked key holds no key');
      return info.armored;
    });
    publicKeys.set(key, armored);
  }
  return armored;
}

// --- validation -----------------------------------------------------------------

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new FieldError(field, 'must be a list');
  return value;
}

function string(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') throw new FieldError(field, 'must be a string');
  if (value.length > maxLength) throw new FieldError(field, `must be at most ${maxLength} characters`);
  return value;
}

function integer(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw new FieldError(field, `must be an integer from ${min} to ${max}`);
  return value;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_PREFIX = 64 * 1024;

/** Canonical base64 (RFC 4648 §4, padded): one spelling per value. */
function base64(value: unknown, field: string, maxLength: number): string {
  const text = string(value, field, maxLength);
  if (!BASE64_RE.test(text) || Buffer.from(text, 'base64').toString('base64') !== text) throw new FieldError(field, 'must be canonical base64');
  return text;
}

function mailboxName(value: unknown, field: string): string {
  const name = string(value, field, 1024);
  let canonical: string;
  try {
    canonical = validateMailboxName(name);
  } catch (error) {
    throw new FieldError(field, error instanceof ValidationError ? error.message.replace(/^name: /, '') : 'is not a mailbox name');
  }
  if (canonical !== name) throw new FieldError(field, `must be spelled ${JSON.stringify(canonical)}`);
  return name;
}

const FINGERPRINT_RE = /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/;
const SPECIAL_USES: readonly SpecialUse[] = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'];
const MESSAGE_KEYS = ['cid', 'prefix', 'flags', 'internalDate', 'expires', 'size'];
const MAX_UID_VALIDITY = 0xffffffff;

function parseMessage(value: unknown, field: string): SnapshotMessage {
  const m = record(value, field, MESSAGE_KEYS, ['ticket']);
  const cid = string(m['cid'], `${field}.cid`, 256);
  try {
    if (cidString(parseCid(cid)) !== cid) throw new FieldError(`${field}.cid`, 'must be a CIDv1 in base32');
  } catch (error) {
    if (error instanceof FieldError) throw error;
    throw new FieldError(`${field}.cid`, 'must be a raw or dag-pb sha2-256 CID');
  }
  const flagsValue = array(m['flags'], `${field}.flags`);
  const flags = flagsValue.map((flag, i) => string(flag, `${field}.flags[${i}]`, 1024));
  let canonical: string[];
  try {
    canonical = normalizeFlags(flags);
  } catch {
    throw new FieldError(`${field}.flags`, 'holds a flag that is not an IMAP atom');
  }
  if (canonical.length !== flags.length || canonical.some((flag, i) => flag !== flags[i])) {
    throw new FieldError(`${field}.flags`, 'must be canonical (system flags spelled \\Seen..., no duplicates, no \\Recent)');
  }
  const expires = m['expires'] === null ? null : integer(m['expires'], `${field}.expires`, 0);
  const message: SnapshotMessage = {
    cid,
    prefix: base64(m['prefix'], `${field}.prefix`, MAX_PREFIX),
    flags,
    internalDate: integer(m['internalDate'], `${field}.internalDate`, 0),
    expires,
    size: integer(m['size'], `${field}.size`, 0),
  };
  if (m['ticket'] !== undefined) {
    if (expires === null) throw new FieldError(`${field}.ticket`, 'only an expiring message has a custody ticket');
    const ticket = base64(m['ticket'], `${field}.ticket`, MAX_PREFIX);
    if (ticket === '') throw new FieldError(`${field}.ticket`, 'must not be empty');
    message.ticket = ticket;
  }
  return message;
}

function parseMailbox(value: unknown, field: string): SnapshotMailbox {
  const m = record(value, field, ['name', 'specialUse', 'uidValidity', 'messages']);
  const specialUse = m['specialUse'];
  if (specialUse !== null && !SPECIAL_USES.includes(specialUse as SpecialUse)) throw new FieldError(`${field}.specialUse`, `must be null or one of ${SPECIAL_USES.join(' ')}`);
  return {
    name: mailboxName(m['name'], `${field}.name`),
    specialUse: specialUse as SpecialUse | null,
    uidValidity: integer(m['uidValidity'], `${field}.uidValidity`, 1, MAX_UID_VALIDITY),
    messages: array(m['messages'], `${field}.messages`).map((message, i) => parseMessage(message, `${field}.messages[${i}]`)),
  };
}

/** Every field checked, no unknown ones; returns a fresh object holding only what was checked, in a fixed key order. */
function parseSnapshot(value: unknown): MailboxSnapshot {
  const top = record(value, '', ['version', 'account', 'fingerprint', 'seq', 'takenAt', 'subscriptions', 'mailboxes'], ['scanCursor']);
  if (top['version'] !== SNAPSHOT_FORMAT_VERSION) throw new FieldError('version', `must be ${SNAPSHOT_FORMAT_VERSION}`);
  const account = string(top['account'], 'account', 320);
  let canonical: string;
  try {
    canonical = normaliseAddress(account);
  } catch {
    throw new FieldError('account', 'must be a mail address local@domain (ASCII)');
  }
  if (canonical !== account) throw new FieldError('account', 'must be lower-case, without surrounding spaces');
  const fingerprint = string(top['fingerprint'], 'fingerprint', 64);
  if (!FINGERPRINT_RE.test(fingerprint)) throw new FieldError('fingerprint', 'must be an uppercase hex fingerprint (40 or 64 digits)');
  const subscriptions = array(top['subscriptions'], 'subscriptions').map((name, i) => mailboxName(name, `subscriptions[${i}]`));
  if (new Set(subscriptions).size !== subscriptions.length) throw new FieldError('subscriptions', 'names a mailbox twice');
  const mailboxes = array(top['mailboxes'], 'mailboxes').map((mailbox, i) => parseMailbox(mailbox, `mailboxes[${i}]`));
  const names = new Set<string>();
  mailboxes.forEach((mailbox, i) => {
    if (names.has(mailbox.name)) throw new FieldError(`mailboxes[${i}].name`, `names ${JSON.stringify(mailbox.name)} a second time`);
    names.add(mailbox.name);
  });
  if (!names.has('INBOX')) throw new FieldError('mailboxes', 'must include INBOX');
  return {
    version: SNAPSHOT_FORMAT_VERSION,
    account,
    fingerprint,
    seq: integer(top['seq'], 'seq', 0),
    takenAt: integer(top['takenAt'], 'takenAt', 0),
    subscriptions,
    mailboxes,
    ...(top['scanCursor'] === undefined ? {} : { scanCursor: top['scanCursor'] === null ? null : string(top['scanCursor'], 'scanCursor', 4096) }),
  };
}
