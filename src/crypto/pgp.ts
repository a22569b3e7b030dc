// The one file that imports openpgp (OpenPGP.js v6): account keys (RFC 4880
// v4 keys) and message operations (RFC 4880 §5.1 PKESK, §5.13 SEIPD + MDC,
// §5.4/§5.2 one-pass signatures).
// Account keys are v4 ECC keys on curve25519Legacy (EdDSA + ECDH): GnuPG 2.2
// (Debian 12) and Thunderbird import them, while RFC 9580 `curve25519` v6
// keys are refused by GnuPG 2.2 (see ENVIRONMENT.md).
//
// Protection at rest: the private key is stored encrypted with a passphrase,
// and that passphrase is the account's client password. The gateway never
// stores the password itself (only its scrypt hash), so someone holding the
// data directory alone cannot use the key. `account passwd` therefore has to
// re-encrypt the key: it needs the old password (changeKeyPassphrase below).
import type * as OpenPgp from 'openpgp';
import { AuthError, SealpostError } from '../errors/index.ts';

// Loaded on first use: OpenPGP.js adds ~20 MB to a process, and a running
// gateway only needs it when keys are made or messages are encrypted.
let loaded: Promise<typeof OpenPgp> | null = null;
const pgp = (): Promise<typeof OpenPgp> => (loaded ??= import('openpgp'));
/** The OpenPGP.js module, loaded once, for the other crypto/pgp-*.ts files (nothing outside crypto/ imports it). */
export const loadOpenPgp = pgp;

export type PgpErrorCode = 'PGP_BAD_KEY' | 'PGP_DECRYPT_FAILED';

/** An OpenPGP operation failed on its input (a key or a message); `fingerprint` names the key when one is at fault. */
export class PgpError extends SealpostError {
  readonly fingerprint: string | undefined;
  constructor(code: PgpErrorCode, message: string, options?: { cause?: unknown; fingerprint?: string }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PgpError';
    this.fingerprint = options?.fingerprint;
  }
}

export interface AccountKey {
  /** armored public key */
  publicKey: string;
  /** armored private key, encrypted with the passphrase */
  privateKey: string;
  /** uppercase hex fingerprint of the primary key */
  fingerprint: string;
}

/** Generates the account's key pair, its private key encrypted with `passphrase`. */
export async function generateAccountKey(input: { name: string; address: string; passphrase: string }): Promise<AccountKey> {
  const userID = input.name === '' ? { email: input.address } : { name: input.name, email: input.address };
  const { privateKey, publicKey } = await (await pgp()).generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [userID],
    passphrase: input.passphrase,
    format: 'armored',
  });
  const key = await (await pgp()).readKey({ armoredKey: publicKey });
  return { publicKey, privateKey, fingerprint: key.getFingerprint().toUpperCase() };
}

/**
 * Re-encrypts an armored private key under a new passphrase.
 * @throws AuthError AUTH_FAILED when `oldPassphrase` does not decrypt the key
 */
export async function changeKeyPassphrase(armoredPrivateKey: string, oldPassphrase: string, newPassphrase: string): Promise<string> {
  const privateKey = await (await pgp()).readPrivateKey({ armoredKey: armoredPrivateKey });
  let decrypted: OpenPgp.PrivateKey;
  try {
    decrypted = await (await pgp()).decryptKey({ privateKey, passphrase: oldPassphrase });
  } catch {
    throw new AuthError('AUTH_FAILED', 'the old password does not unlock the account key');
  }
  const encrypted = await (await pgp()).encryptKey({ privateKey: decrypted, passphrase: newPassphrase });
  return encrypted.armor();
}

/** True when `passphrase` decrypts the armored private key. */
export async function checkKeyPassphrase(armoredPrivateKey: string, passphrase: string): Promise<boolean> {
  const privateKey = await (await pgp()).readPrivateKey({ armoredKey: armoredPrivateKey });
  try {
    await (await pgp()).decryptKey({ privateKey, passphrase });
    return true;
  } catch {
    return false;
  }
}

// --- unlocked private keys -------------------------------------------------

/** An account's private key, decrypted in memory (serialised only by
 *  exportUnlockedKey, to hand it to a worker thread of this process). */
export interface UnlockedKey {
  readonly fingerprint: string;
  /** 16-hex uppercase key ids of primary + subkeys */
  readonly keyIds: readonly string[];
}

// The decrypted key object lives here, not on the UnlockedKey: JSON.stringify,
// util.inspect and structured logging of an UnlockedKey show no secret.
const unlocked = new WeakMap<UnlockedKey, OpenPgp.PrivateKey>();

/**
 * Decrypts an armored private key with its passphrase (the account's client
 * password). Costly (S2K): callers keep the result for the session.
 * @throws AuthError AUTH_FAILED when the passphrase does not unlock it
 * @throws PgpError PGP_BAD_KEY when the text is not a private key, or one without passphrase protection
 */
export async function unlockPrivateKey(armoredPrivateKey: string, passphrase: string): Promise<UnlockedKey> {
  const openpgp = await pgp();
  let privateKey: OpenPgp.PrivateKey;
  try {
    privateKey = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey });
  } catch (cause) {
    throw new PgpError('PGP_BAD_KEY', 'not a readable OpenPGP private key', { cause });
  }
  // Account keys are always stored encrypted; one that is not was not made here
  // and would "unlock" with any password.
  if (privateKey.isDecrypted()) throw new PgpError('PGP_BAD_KEY', 'the private key is not protected by a passphrase', { fingerprint: privateKey.getFingerprint().toUpperCase() });
  let decrypted: OpenPgp.PrivateKey;
  try {
    decrypted = await openpgp.decryptKey({ privateKey, passphrase });
  } catch {
    throw new AuthError('AUTH_FAILED', 'the password does not unlock the account key');
  }
  return handleFor(decrypted);
}

function handleFor(decrypted: OpenPgp.PrivateKey): UnlockedKey {
  const handle: UnlockedKey = Object.freeze({
    fingerprint: decrypted.getFingerprint().toUpperCase(),
    keyIds: Object.freeze(decrypted.getKeyIDs().map((id) => id.toHex().toUpperCase())),
  });
  unlocked.set(handle, decrypted);
  return handle;
}

/**
 * The decrypted private key as binary OpenPGP packets WITHOUT passphrase
 * protection, for handing to a worker thread of this process
 * (crypto/pgp-pool.ts). Never write these bytes to disk, a log or a socket;
 * zero them once they are read.
 * @throws TypeError when `key` was not made by unlockPrivateKey/importUnlockedKey
 */
export function exportUnlockedKey(key: UnlockedKey): Uint8Array {
  const bytes = privateKeyOf(key).write();
  // A buffer of its own, so that the caller can transfer it (postMessage transferList).
  // (Not zeroed after copying: it could share memory with the key object.)
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
}

/**
 * Reads what exportUnlockedKey wrote (in a worker thread) back into an
 * UnlockedKey. Reads a copy: the caller may zero `bytes` once this resolves.
 * @throws PgpError PGP_BAD_KEY when the bytes are not a private key with its secret material in the clear, or it fails validation
 */
export async function importUnlockedKey(bytes: Uint8Array): Promise<UnlockedKey> {
  const openpgp = await pgp();
  let privateKey: OpenPgp.PrivateKey;
  try {
    // The parsed key keeps views into what it was read from.
    privateKey = await openpgp.readPrivateKey({ binaryKey: new Uint8Array(bytes) });
  } catch (cause) {
    throw new PgpError('PGP_BAD_KEY', 'not a readable OpenPGP private key', { cause });
  }
  const fingerprint = privateKey.getFingerprint().toUpperCase();
  if (!privateKey.isDecrypted()) throw new PgpError('PGP_BAD_KEY', 'the private key is still protected by a passphrase', { fingerprint });
  try {
    // What decryptKey does after S2K: the secret matches the public parameters.
    // (PrivateKey#validate is documented API, missing from openpgp's .d.ts.)
    await (privateKey as OpenPgp.PrivateKey & { validate(): Promise<void> }).validate();
  } catch (cause) {
    throw new PgpError('PGP_BAD_KEY', 'the private key does not match its public key', { cause, fingerprint });
  }
  return handleFor(privateKey);
}

function privateKeyOf(key: UnlockedKey): OpenPgp.PrivateKey {
  const privateKey = unlocked.get(key);
  if (privateKey === undefined) throw new TypeError('UnlockedKey was not made by unlockPrivateKey');
  return privateKey;
}

// --- parsed public keys, cached ----------------------------------------------

// Parsing an armored key and verifying its self-signatures costs more than the
// encryption itself; OpenPGP.js remembers verified signatures on the parsed
// object, so keeping the objects makes the next message to the same recipient
// cheap. Bounded, least recently used first out.
const KEY_CACHE_SIZE = 1024;
const keyCache = new Map<string, Promise<OpenPgp.PublicKey>>();

function cachedPublicKey(armored: string): Promise<OpenPgp.PublicKey> {
  const hit = keyCache.get(armored);
  if (hit !== undefined) {
    keyCache.delete(armored);
    keyCache.set(armored, hit);
    return hit;
  }
  const parsing = (async () => {
    const key = await (await pgp()).readKey({ armoredKey: armored });
    return key.isPrivate() ? key.toPublic() : key;
  })();
  // A failed parse is not remembered: the caller gets the error, the next call retries.
  parsing.catch(() => keyCache.delete(armored));
  keyCache.set(armored, parsing);
  if (keyCache.size > KEY_CACHE_SIZE) {
    const oldest = keyCache.keys().next();
    if (oldest.done !== true) keyCache.delete(oldest.value);
  }
  return parsing;
}

// --- messages ------------------------------------------------------------------

// SEIPD v1 + MDC with AES-256 (RFC 4880 §5.13), no compression: GnuPG 2.2
// reads it. OpenPGP.js would pick SEIPD v2 (RFC 9580 AEAD) when every
// recipient advertises it; we pass our own session key without an AEAD
// algorithm, which keeps v1 for every recipient.
const MESSAGE_CONFIG = {
  aeadProtect: false,
  preferredSymmetricAlgorithm: 9, // enums.symmetric.aes256
  preferredCompressionAlgorithm: 0, // enums.compression.uncompressed
  // A compressed message (GnuPG compresses by default) could expand without
  // bound; nothing legitimate a mail gateway decrypts is this large.
  maxDecompressedMessageSize: 256 * 1024 * 1024,
} as const;

/**
 * Signs (when signingKey given) and encrypts to every key. Binary OpenPGP
 * message (RFC 4880 SEIPD v1 + MDC, so GnuPG 2.2 decrypts it; AES-256).
 * With `sessionKey` (an expiring message: the key derived from the custody
 * secret) and no encryptionKeys, the message has no key packet at all: only
 * that session key opens it, so no private key ever can once it is destroyed.
 * @throws TypeError when sessionKey is not 32 bytes
 * @throws PgpError PGP_BAD_KEY when a public key is unusable for encryption
 *   (unreadable/expired/revoked/no encryption subkey); `fingerprint` names it
 */
export async function encryptMessage(input: { data: Uint8Array; encryptionKeys: readonly string[]; signingKey?: UnlockedKey; sessionKey?: Uint8Array }): Promise<Uint8Array> {
  const openpgp = await pgp();
  if (input.sessionKey !== undefined && input.sessionKey.byteLength !== 32) throw new TypeError('sessionKey must be 32 bytes (AES-256)');
  if (input.encryptionKeys.length === 0 && input.sessionKey === undefined) throw new PgpError('PGP_BAD_KEY', 'no encryption key given');
  const keys = await Promise.all(
    input.encryptionKeys.map(async (armored) => {
      try {
        return await cachedPublicKey(armored);
      } catch (cause) {
        throw new PgpError('PGP_BAD_KEY', 'an encryption key is not a readable OpenPGP public key', { cause });
      }
    }),
  );
  const signingKeys = input.signingKey === undefined ? [] : [privateKeyOf(input.signingKey)];
  const message = await openpgp.createMessage({ binary: input.data, format: 'binary' });
  // A given session key (an expiring message's, custody/session-key.ts) is copied: the copy is zeroed below.
  const sessionKey: OpenPgp.SessionKey = {
    data: input.sessionKey === undefined ? crypto.getRandomValues(new Uint8Array(32)) : new Uint8Array(input.sessionKey),
    algorithm: 'aes256',
  };
  try {
    return await openpgp.encrypt({ message, encryptionKeys: keys, signingKeys, sessionKey, format: 'binary', config: MESSAGE_CONFIG });
  } catch (cause) {
    // Find the key at fault only now, so that the common case checks each key once (inside encrypt).
    for (const key of keys) {
      try {
        await key.getEncryptionKey(undefined, new Date(), undefined, { ...openpgp.config, ...MESSAGE_CONFIG });
      } catch (keyCause) {
        const fingerprint = key.getFingerprint().toUpperCase();
        throw new PgpError('PGP_BAD_KEY', `key ${fingerprint} cannot be used for encryption (expired, revoked or no encryption subkey)`, { cause: keyCause, fingerprint });
      }
    }
    throw cause;
  } finally {
    sessionKey.data.fill(0);
  }
}

export interface SignatureStatus {
  status: 'valid' | 'invalid' | 'unknown-key' | 'unsigned';
  /** 16-hex uppercase issuer key id of the signature reported */
  keyId?: string;
  /** uppercase fingerprint of the primary key that made it (when the key was found) */
  fingerprint?: string;
}

const ARMOR_START = new TextEncoder().encode('-----BEGIN PGP');

function isArmored(data: Uint8Array): boolean {
  // Skip leading whitespace: armored text pasted into a MIME part often has some.
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x0d || data[i] === 0x0a)) i++;
  return ARMOR_START.every((byte, j) => data[i + j] === byte);
}

/**
 * Decrypts a message (binary, or armored text as bytes) and checks its
 * signatures. The signer's key is looked up by issuer key id through
 * `findVerificationKey`; a message is 'valid' when one of its signatures
 * verifies, 'invalid' when a signer key was found but no signature verifies,
 * 'unknown-key' when no signer key was found, 'unsigned' without signatures.
 * @throws PgpError PGP_DECRYPT_FAILED (not encrypted to this key, damaged, MDC failure, unprotected)
 */
export async function decryptMessage(input: {
  data: Uint8Array;
  /** the recipient's key; or instead `sessionKey`, for a message sealed with no key packet for it (expiring mail) */
  decryptionKey?: UnlockedKey;
  sessionKey?: Uint8Array;
  findVerificationKey(keyId: string): Promise<string | null>;
}): Promise<{ data: Uint8Array; signature: SignatureStatus }> {
  const openpgp = await pgp();
  if ((input.decryptionKey === undefined) === (input.sessionKey === undefined)) throw new TypeError('give decryptionKey or sessionKey');
  const privateKeys = input.decryptionKey === undefined ? undefined : [privateKeyOf(input.decryptionKey)];
  const sessionKeys = input.sessionKey === undefined ? undefined : [{ data: new Uint8Array(input.sessionKey), algorithm: 'aes256' as const }];
  const config = { ...openpgp.config, ...MESSAGE_CONFIG };
  let decrypted: OpenPgp.Message<OpenPgp.MaybeStream<Uint8Array | string>>;
  let data: Uint8Array | null;
  try {
    const message = isArmored(input.data)
      ? await openpgp.readMessage({ armoredMessage: new TextDecoder().decode(input.data), config })
      : await openpgp.readMessage({ binaryMessage: input.data, config });
    decrypted = await message.decrypt(privateKeys, undefined, sessionKeys, new Date(), config);
    const literal = decrypted.getLiteralData();
    data = literal instanceof Uint8Array ? literal : null;
  } catch (cause) {
    throw new PgpError('PGP_DECRYPT_FAILED', 'the message cannot be decrypted with this key', { cause });
  }
  if (data === null) throw new PgpError('PGP_DECRYPT_FAILED', 'the message holds no literal data');
  return { data, signature: await checkSignatures(decrypted, input.findVerificationKey, config) };
}

async function checkSignatures(
  message: OpenPgp.Message<OpenPgp.MaybeStream<Uint8Array | string>>,
  findVerificationKey: (keyId: string) => Promise<string | null>,
  config: OpenPgp.Config,
): Promise<SignatureStatus> {
  const issuers = message.getSigningKeyIDs().map((id) => id.toHex().toUpperCase());
  if (issuers.length === 0) return { status: 'unsigned' };
  const found = new Map<string, OpenPgp.PublicKey>();
  for (const keyId of new Set(issuers)) {
    const armored = await findVerificationKey(keyId);
    if (armored === null) continue;
    try {
      const key = await cachedPublicKey(armored);
      // A key returned under the wrong id cannot have made the signature.
      if (key.getKeyIDs().some((id) => id.toHex().toUpperCase() === keyId)) found.set(keyId, key);
    } catch {
      // unreadable directory entry: treated as not found
    }
  }
  let results: Awaited<ReturnType<typeof message.verify>>;
  try {
    results = await message.verify([...found.values()], new Date(), config);
  } catch {
    // e.g. more than one literal data packet: a malformed signed message
    return { status: 'invalid', ...(issuers[0] === undefined ? {} : { keyId: issuers[0] }) };
  }
  let invalid: SignatureStatus | null = null;
  for (const result of results) {
    const keyId = result.keyID.toHex().toUpperCase();
    const key = found.get(keyId);
    if (key === undefined) continue;
    const fingerprint = key.getFingerprint().toUpperCase();
    try {
      await result.verified;
      return { status: 'valid', keyId, fingerprint };
    } catch {
      invalid ??= { status: 'invalid', keyId, fingerprint };
    }
  }
  const first = issuers[0];
  return invalid ?? { status: 'unknown-key', ...(first === undefined ? {} : { keyId: first }) };
}

/** ASCII armor (RFC 4880 §6.2, "PGP MESSAGE") of a binary OpenPGP message. */
export async function armorMessage(binary: Uint8Array): Promise<string> {
  const openpgp = await pgp();
  // With the CRC-24 line: GnuPG 2.2 misreads armor without it whenever the
  // base64 ends without "=" padding (a third of all messages): it reads on
  // into the END line and fails. RFC 9580 §6.1 forbids the checksum only for
  // v2 SEIPD and v6 signatures; encryptMessage makes v1 SEIPD.
  return openpgp.armor(openpgp.enums.armor.message, binary, undefined, undefined, undefined, true);
}

// --- public keys ---------------------------------------------------------------

export interface PublicKeyInfo {
  /** uppercase hex fingerprint of the primary key */
  fingerprint: string;
  /** 16-hex uppercase key ids of primary + subkeys */
  keyIds: string[];
  /** lower-cased emails of the key's user ids that carry a valid self-signature */
  addresses: string[];
  /** armored public part only */
  armored: string;
  created: Date;
  expired: boolean;
  revoked: boolean;
  /** has a valid (not expired/revoked) encryption key or subkey now */
  canEncrypt: boolean;
  /** when the key (or the encryption subkey in use) stops being usable for encryption; null: no expiry.
   *  Lets a directory filter out expired keys without parsing them again. Meaningless when !canEncrypt. */
  encryptUntil: Date | null;
  /** the input held secret key material for this key (only the public part is returned) */
  secret: boolean;
}

async function describeKey(openpgp: typeof OpenPgp, key: OpenPgp.Key): Promise<PublicKeyInfo> {
  const publicKey = key.isPrivate() ? key.toPublic() : key;
  const now = new Date();
  const revoked = await publicKey.isRevoked(undefined, undefined, now).catch(() => false);
  const expiry = await publicKey.getExpirationTime().catch(() => null);
  const expired = expiry instanceof Date && expiry.getTime() <= now.getTime();
  const encryptionKey = await publicKey.getEncryptionKey(undefined, now).catch(() => null);
  let encryptUntil: Date | null = null;
  if (encryptionKey !== null) {
    // The earlier of the primary key's and the encryption subkey's expiry.
    const primaryExpiry = expiry;
    const subkeyExpiry = encryptionKey === publicKey ? null : await (encryptionKey as OpenPgp.Subkey).getExpirationTime(now).catch(() => null);
    for (const expiry of [primaryExpiry, subkeyExpiry]) {
      if (expiry instanceof Date && (encryptUntil === null || expiry.getTime() < encryptUntil.getTime())) encryptUntil = expiry;
    }
  }
  const addresses = new Set<string>();
  for (const user of publicKey.users) {
    const email = user.userID?.email;
    if (email === undefined || email === '') continue;
    // A user id without a valid self-signature was not put there by the key's owner.
    const valid = await user.verify(now).then(
      () => true,
      () => false,
    );
    if (valid) addresses.add(email.toLowerCase());
  }
  return {
    fingerprint: publicKey.getFingerprint().toUpperCase(),
    keyIds: publicKey.getKeyIDs().map((id) => id.toHex().toUpperCase()),
    addresses: [...addresses],
    armored: publicKey.armor({ ...openpgp.config, showComment: false, showVersion: false }),
    created: publicKey.getCreationTime(),
    expired,
    revoked,
    canEncrypt: encryptionKey !== null,
    encryptUntil,
    secret: key.isPrivate(),
  };
}

const ARMORED_KEY_BLOCK = /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g;

/**
 * Reads one or more public (or private: the public part is taken) keys,
 * armored (several blocks allowed) or binary.
 * @throws PgpError PGP_BAD_KEY for unreadable input
 */
export async function readPublicKeys(input: string | Uint8Array): Promise<PublicKeyInfo[]> {
  const openpgp = await pgp();
  const text = typeof input === 'string' ? input : isArmored(input) ? new TextDecoder().decode(input) : null;
  const keys: OpenPgp.Key[] = [];
  try {
    if (text === null) {
      keys.push(...(await openpgp.readKeys({ binaryKeys: input as Uint8Array })));
    } else {
      const blocks = text.match(ARMORED_KEY_BLOCK) ?? [];
      if (blocks.length === 0) throw new Error('no armored key block');
      for (const block of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: block })));
    }
  } catch (cause) {
    throw new PgpError('PGP_BAD_KEY', 'not a readable OpenPGP key', { cause });
  }
  if (keys.length === 0) throw new PgpError('PGP_BAD_KEY', 'no OpenPGP key found');
  return Promise.all(keys.map((key) => describeKey(openpgp, key)));
}
