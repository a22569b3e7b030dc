// The node's Ed25519 key (RFC 8032), which signs the ledger's checkpoints:
// PKCS#8 PEM in the data directory (node-key.pem, mode 0600), created on
// first use. Public keys travel as base64 of the raw 32 bytes (RFC 8410 §10.1
// inner key), signatures as base64 of the 64 bytes.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../config/config.ts';
import { ValidationError } from '../errors/index.ts';

export interface NodeKey {
  /** base64 of the raw 32-byte Ed25519 public key */
  readonly publicKey: string;
  /** Ed25519 signature over `data`, base64 of 64 bytes */
  sign(data: Uint8Array): string;
}

/**
 * Loads the node key from `file`, creating it (mode 0600, written atomically) when absent.
 * @throws ValidationError (field `nodeKey`) when the file holds no Ed25519 private key
 */
export async function loadOrCreateNodeKey(file: string): Promise<NodeKey> {
  return nodeKeyFrom(await loadOrCreateKeyObject(file));
}

/** The node key with its raw material, for uses that need the bytes (the libp2p identity, network/identity.ts). */
export interface NodeKeyMaterial {
  readonly key: NodeKey;
  /** the 32-byte Ed25519 private key (RFC 8032 §5.1.5 seed); keep it out of logs */
  readonly seed: Uint8Array;
  /** the raw 32-byte Ed25519 public key */
  readonly publicKey: Uint8Array;
}

/**
 * Like loadOrCreateNodeKey (same file, same creation), also returning the raw seed and public key.
 * @throws ValidationError (field `nodeKey`) when the file holds no Ed25519 private key
 */
export async function loadOrCreateNodeKeyMaterial(file: string): Promise<NodeKeyMaterial> {
  const privateKey = await loadOrCreateKeyObject(file);
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    key: nodeKeyFrom(privateKey),
    seed: new Uint8Array(Buffer.from(jwk.d as string, 'base64url')),
    publicKey: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')),
  };
}

async function loadOrCreateKeyObject(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
    return privateKey;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ValidationError('nodeKey', `${file} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ValidationError('nodeKey', `${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key;
}

/** A fresh key that lives only in memory (tests, the memory ledger). */
export function createMemoryNodeKey(): NodeKey {
  return nodeKeyFrom(generateKeyPairSync('ed25519').privateKey);
}

function nodeKeyFrom(privateKey: KeyObject): NodeKey {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = Buffer.from(jwk.x as string, 'base64url').toString('base64');
  return {
    publicKey,
    sign: (data) => sign(null, data, privateKey).toString('base64'),
  };
}

/**
 * Checks an Ed25519 signature. Malformed keys or signatures are simply invalid.
 * @param publicKeyB64 base64 of the raw 32-byte public key
 * @param sigB64 base64 of the 64-byte signature
 */
export function verifyEd25519(publicKeyB64: string, data: Uint8Array, sigB64: string): boolean {
  const raw = strictBase64(publicKeyB64);
  const sig = strictBase64(sigB64);
  if (raw?.length !== 32 || sig?.length !== 64) return false;
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

/** Decodes canonical base64 only: Buffer.from ignores junk, which would let two spellings pass. */
function strictBase64(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
