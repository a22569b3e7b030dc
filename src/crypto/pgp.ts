// The one file that imports openpgp (OpenPGP.js v6, RFC 4880 keys).
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

// Loaded on first use: OpenPGP.js adds ~20 MB to a process, and a running
// gateway only needs it when keys are made or re-encrypted.
let loaded: Promise<typeof OpenPgp> | null = null;
const pgp = (): Promise<typeof OpenPgp> => (loaded ??= import('openpgp'));
import { AuthError } from '../errors/index.ts';

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
