// The node's identity on the node-to-node network: its Ed25519 node key
// (ledger/node-key.ts, node-key.pem: RFC 8032) is also its libp2p identity, so
// the peer id that Noise authenticates IS the node id in the registry; and an
// X25519 key (RFC 7748) in node-x25519.pem (PKCS#8 PEM, RFC 8410, mode 0600)
// that custody shares are sealed to (ECIES). Both are created on first use.
//
// Node id: base64 of the raw 32-byte Ed25519 public key, the spelling the
// ledger already uses for NodeKey.publicKey. Peer id: the libp2p spelling of
// the same key (libp2p peer-ids spec: base58btc of the identity multihash of
// the protobuf PublicKey { Type: Ed25519, Data: 32 bytes }, "12D3KooW…").
// The two convert into each other without any library (nodeIdFromPeerId).
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { base58btc } from 'multiformats/bases/base58';
import { ValidationError } from '../errors/index.ts';
import { loadOrCreateNodeKeyMaterial, verifyEd25519 } from '../ledger/node-key.ts';

/** Where the identity lives; `identityFiles(dataDir)` gives the standard names. */
export interface IdentityFiles {
  /** the Ed25519 node key (DataPaths.nodeKey) */
  nodeKeyFile: string;
  /** the X25519 encryption key */
  x25519KeyFile: string;
}

export interface NodeIdentity {
  /** base64 of the raw 32-byte Ed25519 public key (= NodeKey.publicKey) */
  readonly nodeId: string;
  /** the libp2p peer id of the same key (base58btc, 12D3KooW…) */
  readonly peerId: string;
  readonly ed25519: {
    /** raw 32 bytes */
    readonly publicKey: Uint8Array;
    /** Ed25519 signature (64 bytes) over `data` */
    sign(data: Uint8Array): Uint8Array;
    /** checks a signature by the node `nodeId` (any node, not only this one) */
    verify(nodeId: string, data: Uint8Array, signature: Uint8Array): boolean;
  };
  readonly x25519: {
    /** raw 32 bytes (RFC 7748 u-coordinate) */
    readonly publicKey: Uint8Array;
    /** the private key; node:crypto does not print its secret in logs or JSON */
    readonly privateKey: KeyObject;
    /** X25519(privateKey, peerPublic): the 32-byte shared secret (RFC 7748 §6.1) */
    agree(peerPublic: Uint8Array): Uint8Array;
  };
}

/** The standard file names inside a data directory. */
export function identityFiles(dataDir: string): IdentityFiles {
  return { nodeKeyFile: path.join(dataDir, 'node-key.pem'), x25519KeyFile: path.join(dataDir, 'node-x25519.pem') };
}

// The Ed25519 seed is kept off the identity object, so that logging an
// identity can never print it; only network/libp2p.ts asks for it.
const seeds = new WeakMap<NodeIdentity, Uint8Array>();

/**
 * Loads the node's identity, creating either key file (mode 0600) when absent.
 * @throws ValidationError (field `nodeKey`) when node-key.pem holds no Ed25519 key
 * @throws ValidationError (field `x25519Key`) when node-x25519.pem holds no X25519 key
 */
export async function loadNodeIdentity(files: IdentityFiles): Promise<NodeIdentity> {
  const material = await loadOrCreateNodeKeyMaterial(files.nodeKeyFile);
  const x25519 = await loadOrCreateX25519(files.x25519KeyFile);
  const x25519Public = rawPublic(x25519);
  const identity: NodeIdentity = {
    nodeId: material.key.publicKey,
    peerId: peerIdFromPublicKey(material.publicKey),
    ed25519: {
      publicKey: material.publicKey,
      sign: (data) => new Uint8Array(Buffer.from(material.key.sign(data), 'base64')),
      verify: (nodeId, data, signature) => verifyEd25519(nodeId, data, Buffer.from(signature).toString('base64')),
    },
    x25519: {
      publicKey: x25519Public,
      privateKey: x25519,
      agree: (peerPublic) => {
        if (peerPublic.length !== 32) throw new ValidationError('x25519PublicKey', 'must be 32 octets');
        const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peerPublic).toString('base64url') }, format: 'jwk' });
        return new Uint8Array(diffieHellman({ privateKey: x25519, publicKey: peer }));
      },
    },
  };
  seeds.set(identity, material.seed);
  return identity;
}

/**
 * The 32-byte Ed25519 seed behind an identity (for the libp2p private key only).
 * @throws ValidationError (field `identity`) for an object loadNodeIdentity did not make
 */
export function identitySeed(identity: NodeIdentity): Uint8Array {
  const seed = seeds.get(identity);
  if (seed === undefined) throw new ValidationError('identity', 'not made by loadNodeIdentity');
  return seed;
}

// protobuf PublicKey { Type (field 1, varint) = 1 (Ed25519), Data (field 2, bytes) = 32 octets }
// inside an identity multihash (code 0x00, length 36): libp2p peer-ids spec.
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20);

/** The libp2p peer id of a raw 32-byte Ed25519 public key. */
export function peerIdFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new ValidationError('publicKey', 'an Ed25519 public key is 32 octets');
  const bytes = new Uint8Array(PEER_ID_PREFIX.length + 32);
  bytes.set(PEER_ID_PREFIX);
  bytes.set(publicKey, PEER_ID_PREFIX.length);
  return base58btc.baseEncode(bytes);
}

/**
 * The libp2p peer id of a node id.
 * @throws ValidationError (field `nodeId`) unless it is canonical base64 of 32 octets
 */
export function peerIdFromNodeId(nodeId: string): string {
  const raw = Buffer.from(nodeId, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== nodeId) throw new ValidationError('nodeId', 'is not base64 of a 32-octet Ed25519 public key');
  return peerIdFromPublicKey(new Uint8Array(raw));
}

/**
 * The node id behind a peer id, or null when the peer id does not embed an
 * Ed25519 key (RSA/secp256k1 ids, CIDs, junk): such a peer is no Sealpost node.
 */
export function nodeIdFromPeerId(peerId: string): string | null {
  let bytes: Uint8Array;
  try {
    bytes = base58btc.baseDecode(peerId);
  } catch {
    return null;
  }
  if (bytes.length !== PEER_ID_PREFIX.length + 32 || !PEER_ID_PREFIX.every((b, i) => bytes[i] === b)) return null;
  return Buffer.from(bytes.subarray(PEER_ID_PREFIX.length)).toString('base64');
}

/**
 * Reads the X25519 key, or creates it without ever replacing one another
 * process wrote first: the new key is written to a temporary file and linked
 * into place (link fails if the name exists), then whatever holds the name is
 * read back.
 */
async function loadOrCreateX25519(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await createX25519File(file);
    pem = await fs.readFile(file, 'utf8');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ValidationError('x25519Key', `${file} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'x25519') throw new ValidationError('x25519Key', `${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not X25519`);
  return key;
}

async function createX25519File(file: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('x25519');
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

function rawPublic(privateKey: KeyObject): Uint8Array {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}
