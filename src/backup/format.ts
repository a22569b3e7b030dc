// The key backup file: what a restore needs to become the same account on the
// same node (the account's OpenPGP key, the node identity, the ledger, registry
// and peer settings), as canonical JSON (RFC 8785 key order) inside an
// ASCII-armored OpenPGP message encrypted with a passphrase only.
//
// Packets (RFC 4880; RFC 9580 §5.3, §5.13.1): a v4 SKESK whose S2K is
// iterated+salted SHA-256 at the largest count the format can express (octet
// 255: 65,011,712 octets hashed per guess, ~90 ms here; GnuPG 2.2's own
// calibration picks the same for `gpg --symmetric`), then a v1 SEIPD (AES-256
// CFB + MDC), armored with the CRC-24 line. GnuPG 2.2 (Debian 12) opens it
// with `gpg --decrypt` and the passphrase. Not chosen, because GnuPG 2.2 reads
// neither (checked with gpg 2.2.40): Argon2 S2K (RFC 9580 §3.7.1.4; gpg
// misreads the packet) and v6 SKESK + v2 SEIPD (AEAD; "packet(3) with
// unknown version 6"). A generated passphrase (generateBackupPassphrase)
// carries 150 bits, which no S2K cost matters for; the count is for
// passphrases people choose.
//
// The account's private key inside is itself protected with the backup
// passphrase (protectKeyForBackup), so the decrypted JSON alone does not
// expose the key.
//
// The passphrase encryption itself is crypto/pgp-passphrase.ts (OpenPGP.js is
// reached only from crypto/); its errors become this format's here.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { normaliseAddress } from '../accounts/service.ts';
import { changeKeyPassphrase, checkKeyPassphrase, readPublicKeys } from '../crypto/pgp.ts';
import { decryptWithPassphrase, encryptWithPassphrase, PassphraseError } from '../crypto/pgp-passphrase.ts';
import { ValidationError } from '../errors/index.ts';
import { validatePeers } from '../storage/peers.ts';
import { BackupCorruptError, BackupPassphraseError, BackupVersionError } from './errors.ts';
import { FieldError, isRecord, joinField, record } from '../formats/fields.ts';

export const BACKUP_FORMAT_VERSION = 1;

export interface BackupContents {
  version: 1;
  /** when the backup was written, ms since the epoch */
  createdAt: number;
  account: {
    /** the account's address, lower-cased (as the mail store keeps it) */
    address: string;
    /** display name ('' for none) */
    name: string;
    /** uppercase hex fingerprint of the primary key */
    fingerprint: string;
    /** armored public key */
    publicKey: string;
    /** armored private key, protected with the BACKUP passphrase (protectKeyForBackup) */
    privateKey: string;
  };
  /** the node identity (node-key.pem: Ed25519 PKCS#8 PEM; node-x25519.pem: X25519 PKCS#8 PEM), so a restored node is the same node */
  node: { nodeKeyPem: string; x25519Pem: string } | null;
  ledger: {
    backend: 'local' | 'evm';
    /** required when backend is 'evm' */
    evm?: {
      rpcUrl: string;
      /** the anchoring contract, '' when not deployed */
      contract: string;
      /** the EVM ledger key (0x + 64 hex), the content of ledger.evm.privateKeyFile */
      privateKeyHex?: string;
      chainId?: number;
    };
  };
  network: {
    enabled: boolean;
    /** config.network.registry as is (a JSON object) */
    registry: unknown;
    /** config.network.custody as is (a JSON object) */
    custody?: unknown;
    /** the registry account's key (0x + 64 hex), the content of network.registry.evm.privateKeyFile: it owns this node's registry entry */
    registryPrivateKeyHex?: string;
  };
  storage: { peers: string[] };
}

/** Largest backup file read (a real one is a few KiB). */
const MAX_BACKUP_SIZE = 1024 * 1024;
const MIN_PASSPHRASE_LENGTH = 12;
const MAX_PASSPHRASE_LENGTH = 1024;

// --- the passphrase -------------------------------------------------------------

// Crockford's base32 in lower case: no i, l, o, u, so nothing reads as another
// character (normalizeBackupPassphrase maps those back).
const PASSPHRASE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const PASSPHRASE_GROUPS = 6;
const PASSPHRASE_GROUP_LENGTH = 5;
const PASSPHRASE_CHARS = PASSPHRASE_GROUPS * PASSPHRASE_GROUP_LENGTH;

/**
 * A fresh backup passphrase: 6 groups of 5 characters of Crockford's base32
 * in lower case, joined by '-' (150 bits from the system CSPRNG), e.g.
 * `7kq2m-x0d9p-…`. Typed exactly as shown: GnuPG needs it that way.
 */
export function generateBackupPassphrase(): string {
  const bytes = randomBytes(PASSPHRASE_CHARS);
  // One byte per character, low 5 bits: uniform, because 256 is a multiple of 32.
  let text = '';
  for (let i = 0; i < PASSPHRASE_CHARS; i++) {
    if (i > 0 && i % PASSPHRASE_GROUP_LENGTH === 0) text += '-';
    text += PASSPHRASE_ALPHABET[(bytes[i] ?? 0) & 31];
  }
  bytes.fill(0);
  return text;
}

/**
 * What the user typed, made into the generated spelling when it has that
 * shape (30 base32 characters in any case, grouped with spaces, dashes or not
 * at all; i/l read as 1, o as 0); anything else is returned unchanged.
 * For a restore prompt: readBackup itself uses the passphrase as given.
 */
export function normalizeBackupPassphrase(typed: string): string {
  const compact = typed.trim().toLowerCase().replace(/[\s-]+/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  if (compact.length !== PASSPHRASE_CHARS || ![...compact].every((c) => PASSPHRASE_ALPHABET.includes(c))) return typed;
  const groups: string[] = [];
  for (let i = 0; i < PASSPHRASE_CHARS; i += PASSPHRASE_GROUP_LENGTH) groups.push(compact.slice(i, i + PASSPHRASE_GROUP_LENGTH));
  return groups.join('-');
}

/** @throws ValidationError (field `passphrase`) for a passphrase too short, too long, or one gpg could not be given (CR, LF, NUL) */
function checkNewPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) throw new ValidationError('passphrase', `must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  if (passphrase.length > MAX_PASSPHRASE_LENGTH) throw new ValidationError('passphrase', `must be at most ${MAX_PASSPHRASE_LENGTH} characters`);
  if (/[\r\n\0]/.test(passphrase)) throw new ValidationError('passphrase', 'must not contain line breaks or NUL');
}

/**
 * The account's armored private key re-protected with the backup passphrase,
 * for BackupContents.account.privateKey.
 * @throws ValidationError (field `passphrase`) when the backup passphrase is unfit (see writeBackup)
 * @throws AuthError AUTH_FAILED when `currentPassphrase` does not unlock the key
 */
export async function protectKeyForBackup(armoredPrivateKey: string, currentPassphrase: string, backupPassphrase: string): Promise<string> {
  checkNewPassphrase(backupPassphrase);
  return changeKeyPassphrase(armoredPrivateKey, currentPassphrase, backupPassphrase);
}

// --- writing and reading ----------------------------------------------------------

/**
 * The backup file: an ASCII-armored OpenPGP message encrypted with
 * `passphrase` only, whose armor carries a `Comment:` naming the account.
 * Every field is validated first, so that what is written can be read back.
 * @throws ValidationError (field `passphrase`) for fewer than 12 characters, more than 1024, or CR/LF/NUL in it
 * @throws ValidationError naming the field that fails validation (e.g. `account.privateKey` when that key is not protected with `passphrase`)
 */
export async function writeBackup(contents: BackupContents, passphrase: string): Promise<string> {
  checkNewPassphrase(passphrase);
  let valid: BackupContents;
  try {
    valid = parseContents(contents);
    await checkKeys(valid, passphrase);
  } catch (error) {
    if (error instanceof FieldError) throw new ValidationError(error.field, error.message);
    throw error;
  }
  const plaintext = new TextEncoder().encode(canonicalJson(valid));
  try {
    return await encryptWithPassphrase(plaintext, passphrase, `Sealpost key backup of ${valid.account.address} - keep this file and its passphrase safe`);
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Opens and validates a backup (armored text, or its bytes; binary OpenPGP
 * too; also one re-encrypted with `gpg --symmetric` under the same passphrase).
 * @throws BackupPassphraseError BACKUP_BAD_PASSPHRASE when the passphrase does not open it (also
 *   when the key-derivation packet or the first 19 octets of the encrypted data were altered)
 * @throws BackupCorruptError BACKUP_CORRUPT when it is not a backup, was altered, is not JSON, or a field fails validation (`field` names it)
 * @throws BackupVersionError BACKUP_VERSION when a newer Sealpost wrote it
 */
export async function readBackup(armored: string | Uint8Array, passphrase: string): Promise<BackupContents> {
  let plaintext: Uint8Array;
  try {
    plaintext = await decryptWithPassphrase(armored, passphrase, { maxBytes: MAX_BACKUP_SIZE });
  } catch (error) {
    if (!(error instanceof PassphraseError)) throw error;
    if (error.code === 'PASSPHRASE_WRONG') throw new BackupPassphraseError(undefined, { cause: error });
    throw new BackupCorruptError(error.code === 'PASSPHRASE_TOO_LARGE' ? `${error.message}: not a Sealpost backup` : error.message, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch (cause) {
    throw new BackupCorruptError('the decrypted backup is not JSON', { cause });
  } finally {
    plaintext.fill(0);
  }
  // The version first: a newer backup may fail every other check.
  const version = isRecord(value) ? value['version'] : undefined;
  if (typeof version === 'number' && Number.isSafeInteger(version) && version > BACKUP_FORMAT_VERSION) throw new BackupVersionError(version);
  try {
    const contents = parseContents(value);
    await checkKeys(contents, passphrase);
    return contents;
  } catch (error) {
    if (error instanceof FieldError) throw new BackupCorruptError(error.message, { field: error.field });
    throw error;
  }
}

// --- validation -----------------------------------------------------------------

const join = joinField;

function string(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') throw new FieldError(field, 'must be a string');
  if (value.length > maxLength) throw new FieldError(field, `must be at most ${maxLength} characters`);
  return value;
}

function matching(value: unknown, field: string, pattern: RegExp, what: string): string {
  const text = string(value, field, 4096);
  if (!pattern.test(text)) throw new FieldError(field, `must be ${what}`);
  return text;
}

function safeInteger(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new FieldError(field, `must be an integer >= ${min}`);
  return value;
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new FieldError(field, 'must be true or false');
  return value;
}

const FINGERPRINT_RE = /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/;
const EVM_ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const EVM_KEY_RE = /^0x[0-9a-fA-F]{64}$/;
const CONTROL_RE = /[\x00-\x1f\x7f]/;

function armoredKey(value: unknown, field: string, kind: 'PUBLIC' | 'PRIVATE'): string {
  const text = string(value, field, 64 * 1024);
  const re = new RegExp(`^-----BEGIN PGP ${kind} KEY BLOCK-----\\r?\\n[\\s\\S]*\\r?\\n-----END PGP ${kind} KEY BLOCK-----\\r?\\n?$`);
  if (!re.test(text)) throw new FieldError(field, `must be one armored PGP ${kind} KEY BLOCK`);
  return text;
}

// RFC 7468 §3 strict textual encoding of a PKCS#8 key ("PRIVATE KEY"), as node:crypto writes it.
const PKCS8_PEM_RE = /^-----BEGIN PRIVATE KEY-----\r?\n(?:[A-Za-z0-9+/=]{1,76}\r?\n)+-----END PRIVATE KEY-----\r?\n?$/;

function privateKeyPem(value: unknown, field: string, type: 'ed25519' | 'x25519'): string {
  const pem = string(value, field, 4096);
  if (!PKCS8_PEM_RE.test(pem)) throw new FieldError(field, 'must be a PKCS#8 PEM private key');
  let actual: string | undefined;
  try {
    actual = createPrivateKey(pem).asymmetricKeyType;
  } catch {
    throw new FieldError(field, 'is not a readable PKCS#8 private key');
  }
  if (actual !== type) throw new FieldError(field, `must be an ${type} key, not ${actual ?? 'unknown'}`);
  return pem;
}

function rpcUrl(value: unknown, field: string): string {
  const text = string(value, field, 2048);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FieldError(field, 'must be a URL');
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new FieldError(field, 'must be an http(s) or ws(s) URL');
  return text;
}

/** A JSON object kept as is (config sections the backup only carries): plain JSON values, bounded depth. */
function jsonObject(value: unknown, field: string): Record<string, unknown> {
  if (!isRecord(value)) throw new FieldError(field, 'must be an object');
  const check = (v: unknown, at: string, depth: number): void => {
    if (depth > 16) throw new FieldError(at, 'is nested too deeply');
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new FieldError(at, 'must be a finite number');
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => check(item, `${at}[${i}]`, depth + 1));
      return;
    }
    if (isRecord(v) && Object.getPrototypeOf(v) === Object.prototype) {
      for (const [key, item] of Object.entries(v)) check(item, join(at, key), depth + 1);
      return;
    }
    throw new FieldError(at, 'must be a JSON value');
  };
  check(value, field, 0);
  return value;
}

/** The structural checks: every field, no unknown ones; returns a fresh object holding only what was checked. */
function parseContents(value: unknown): BackupContents {
  const top = record(value, '', ['version', 'createdAt', 'account', 'node', 'ledger', 'network', 'storage']);
  if (top['version'] !== BACKUP_FORMAT_VERSION) throw new FieldError('version', `must be ${BACKUP_FORMAT_VERSION}`);
  const createdAt = safeInteger(top['createdAt'], 'createdAt', 0);

  const a = record(top['account'], 'account', ['address', 'name', 'fingerprint', 'publicKey', 'privateKey']);
  const address = string(a['address'], 'account.address', 320);
  let canonical: string;
  try {
    canonical = normaliseAddress(address);
  } catch {
    throw new FieldError('account.address', 'must be a mail address local@domain (ASCII)');
  }
  if (canonical !== address) throw new FieldError('account.address', 'must be lower-case, without surrounding spaces');
  const name = string(a['name'], 'account.name', 256);
  if (CONTROL_RE.test(name)) throw new FieldError('account.name', 'must not contain control characters');
  const account = {
    address,
    name,
    fingerprint: matching(a['fingerprint'], 'account.fingerprint', FINGERPRINT_RE, 'an uppercase hex fingerprint (40 or 64 digits)'),
    publicKey: armoredKey(a['publicKey'], 'account.publicKey', 'PUBLIC'),
    privateKey: armoredKey(a['privateKey'], 'account.privateKey', 'PRIVATE'),
  };

  let node: BackupContents['node'] = null;
  if (top['node'] !== null) {
    const n = record(top['node'], 'node', ['nodeKeyPem', 'x25519Pem']);
    node = { nodeKeyPem: privateKeyPem(n['nodeKeyPem'], 'node.nodeKeyPem', 'ed25519'), x25519Pem: privateKeyPem(n['x25519Pem'], 'node.x25519Pem', 'x25519') };
  }

  const l = record(top['ledger'], 'ledger', ['backend'], ['evm']);
  const backend = l['backend'];
  if (backend !== 'local' && backend !== 'evm') throw new FieldError('ledger.backend', 'must be local or evm');
  const ledger: BackupContents['ledger'] = { backend };
  if (l['evm'] === undefined) {
    if (backend === 'evm') throw new FieldError('ledger.evm', 'is missing (the ledger backend is evm)');
  } else {
    const e = record(l['evm'], 'ledger.evm', ['rpcUrl', 'contract'], ['privateKeyHex', 'chainId']);
    const contract = string(e['contract'], 'ledger.evm.contract', 42);
    if (contract !== '' && !EVM_ADDRESS_RE.test(contract)) throw new FieldError('ledger.evm.contract', 'must be a 0x-prefixed 20-byte hex address or empty');
    ledger.evm = { rpcUrl: rpcUrl(e['rpcUrl'], 'ledger.evm.rpcUrl'), contract };
    if (e['privateKeyHex'] !== undefined) ledger.evm.privateKeyHex = matching(e['privateKeyHex'], 'ledger.evm.privateKeyHex', EVM_KEY_RE, '0x and 64 hex digits');
    if (e['chainId'] !== undefined) ledger.evm.chainId = safeInteger(e['chainId'], 'ledger.evm.chainId', 1);
  }

  const w = record(top['network'], 'network', ['enabled', 'registry'], ['custody', 'registryPrivateKeyHex']);
  const network: BackupContents['network'] = { enabled: boolean(w['enabled'], 'network.enabled'), registry: jsonObject(w['registry'], 'network.registry') };
  if (w['custody'] !== undefined) network.custody = jsonObject(w['custody'], 'network.custody');
  if (w['registryPrivateKeyHex'] !== undefined) {
    network.registryPrivateKeyHex = matching(w['registryPrivateKeyHex'], 'network.registryPrivateKeyHex', EVM_KEY_RE, '0x and 64 hex digits');
  }

  const s = record(top['storage'], 'storage', ['peers']);
  const peersValue = s['peers'];
  if (!Array.isArray(peersValue)) throw new FieldError('storage.peers', 'must be a list of multiaddrs');
  const peers = peersValue.map((peer: unknown, i) => {
    const field = `storage.peers[${i}]`;
    const addr = string(peer, field, 1024);
    try {
      validatePeers([addr]);
    } catch (error) {
      throw new FieldError(field, error instanceof ValidationError ? 'must be /ip4/127.x.x.x/tcp/PORT/p2p/ID or /ip6/::1/tcp/PORT/p2p/ID' : 'is not a multiaddr');
    }
    return addr;
  });

  return { version: BACKUP_FORMAT_VERSION, createdAt, account, node, ledger, network, storage: { peers } };
}

/** The OpenPGP checks: both keys are the account's key, the address is one of its user ids, the private key opens with `passphrase`. */
async function checkKeys(contents: BackupContents, passphrase: string): Promise<void> {
  const { account } = contents;
  const describe = async (armored: string, field: string, secret: boolean) => {
    let keys: Awaited<ReturnType<typeof readPublicKeys>>;
    try {
      keys = await readPublicKeys(armored);
    } catch {
      throw new FieldError(field, 'is not a readable OpenPGP key');
    }
    const [key] = keys;
    if (key === undefined || keys.length !== 1) throw new FieldError(field, 'must hold exactly one key');
    if (key.secret !== secret) throw new FieldError(field, secret ? 'must be a private key' : 'must be a public key only');
    if (key.fingerprint !== account.fingerprint) throw new FieldError(field, `is key ${key.fingerprint}, not account.fingerprint`);
    return key;
  };
  const publicKey = await describe(account.publicKey, 'account.publicKey', false);
  if (!publicKey.addresses.includes(account.address)) throw new FieldError('account.publicKey', 'has no user id with account.address');
  await describe(account.privateKey, 'account.privateKey', true);
  if (!(await checkKeyPassphrase(account.privateKey, passphrase))) throw new FieldError('account.privateKey', 'is not protected with the backup passphrase');
}

/** RFC 8785 (JCS) serialisation for the values a backup holds: keys sorted by UTF-16 code units, no white space. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
