// Canonical byte encodings of registry records, and their Ed25519 signatures
// (RFC 8032, through node:crypto). Every signed message starts with an ASCII
// tag naming what it is (NUL-terminated) and the registry's domain, so that a
// signature made for one kind of record, or for one registry, never verifies
// as another. Integers are big-endian; variable fields carry a length prefix,
// so no two records share an encoding.
//
//   domain   = 0x01 ‖ id (32)                              (memory, local)
//            | 0x02 ‖ chainId (u64) ‖ contract (20)        (evm)
//   node     = "sealpost/registry/node/v1\0" ‖ domain ‖ u8 len ‖ owner
//              ‖ nodeId (32) ‖ encKey (32) ‖ seq (u64) ‖ addrs
//     owner  = the EVM account that sends the record (20 bytes), empty elsewhere
//     addrs  = u8 count ‖ (u16 len ‖ UTF-8 multiaddr)*   (also stored as is on chain)
//   claim    = "sealpost/registry/claim/v1\0" ‖ domain ‖ addressHash (32)
//              ‖ nodeId (32) ‖ seq (u64) ‖ u8 len ‖ fingerprint ‖ u16 len ‖ keyRef
//   deletion = "sealpost/registry/deletion/v1\0" ‖ domain ‖ messageRef (32)
//              ‖ custodian (32) ‖ time (u64, ms)
//   announcement (packed, unsigned) = ephemeralPublic (32) ‖ viewTag (1)
//              ‖ tag (32) ‖ u16 len ‖ payload; a batch is entries back to back.
//
// addressHash = SHA-256("sealpost-address-v1:" ‖ UTF-8 of the lower-cased
// address). The prefix keeps the hash apart from plain SHA-256 of addresses
// (Gravatar's, and the lookup tables built for it): a registry entry cannot
// be matched against those without hashing each candidate anew.
import { createHash, createPublicKey, generateKeyPairSync, sign as signRaw, verify as verifyRaw, type KeyObject } from 'node:crypto';
import { base58btc } from 'multiformats/bases/base58';
import { ValidationError } from '../errors/index.ts';
import type { AddressClaim, Announcement, DeletionReceipt, NodeRecord, RegistryDomain } from './types.ts';

export const MAX_ADDRS = 16;
/** bytes of one multiaddr (UTF-8) */
export const MAX_ADDR_LENGTH = 256;
/** bytes of one announcement's payload */
export const MAX_PAYLOAD = 1024;
export const MAX_BATCH_ENTRIES = 256;
/** bytes of one packed batch (an EVM transaction stays well under the 128 KiB a node relays) */
export const MAX_BATCH_BYTES = 64 * 1024;
/** characters of a key reference (a CIDv1 in base32 with SHA-256 is 59) */
export const MAX_KEY_REF = 200;
/** octets of a mail address (RFC 5321 §4.5.3.1.3 path limit, less the brackets) */
export const MAX_ADDRESS_BYTES = 254;
/** bytes of the fixed part of a packed announcement */
export const ANNOUNCEMENT_HEAD = 67;

const TAG_NODE = ascii('sealpost/registry/node/v1\0');
const TAG_CLAIM = ascii('sealpost/registry/claim/v1\0');
const TAG_DELETION = ascii('sealpost/registry/deletion/v1\0');
const ADDRESS_PREFIX = 'sealpost-address-v1:';
const FINGERPRINT = /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/; // v4 (RFC 4880) or v6 (RFC 9580)
const PRINTABLE = /^[\x21-\x7e]+$/; // printable ASCII, no spaces
const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
// SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4) up to the 32 raw bytes.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
// libp2p peer id: identity multihash of protobuf PublicKey { Type: Ed25519, Data: 32 bytes }.
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20);

// ── Signing ─────────────────────────────────────────────────────────────────

/**
 * Whatever holds a node's Ed25519 private key. network/identity.ts's
 * `identity.ed25519` fits as it is; signerFromPrivateKey wraps a KeyObject.
 */
export interface RegistrySigner {
  /** raw 32-byte Ed25519 public key: the node id */
  readonly publicKey: Uint8Array;
  /** 64-byte Ed25519 signature over `message` */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/**
 * A signer from a node:crypto Ed25519 private key.
 * @throws ValidationError (field `privateKey`) for a key of another type
 */
export function signerFromPrivateKey(privateKey: KeyObject): RegistrySigner {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new ValidationError('privateKey', 'must be an Ed25519 private key');
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
  return { publicKey, sign: (message) => new Uint8Array(signRaw(null, message, privateKey)) };
}

/** A signer with a fresh key (tests, throwaway nodes). */
export function generateSigner(): RegistrySigner {
  return signerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
}

/**
 * Checks an Ed25519 signature; malformed keys or signatures are simply invalid.
 * node:crypto verifies per RFC 8032 (cofactorless, canonical S).
 */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return verifyRaw(null, message, key, signature);
  } catch {
    return false;
  }
}

/** The `owner` bound into node records: the sending EVM account, or nothing. */
export function domainOwner(domain: RegistryDomain): Uint8Array {
  if (domain.kind === 'local') return new Uint8Array(0);
  if (domain.account === null) throw new ValidationError('domain.account', 'a read-only EVM registry cannot sign node records');
  return accountBytes(domain.account, 'domain.account');
}

/**
 * Signs a node record for `domain`; the node id is the signer's public key.
 * @throws ValidationError naming the bad field
 */
export async function signNodeRecord(signer: RegistrySigner, domain: RegistryDomain, fields: Pick<NodeRecord, 'encKey' | 'addrs' | 'seq'>): Promise<NodeRecord> {
  const unsigned = validateNodeRecord({ ...fields, nodeId: signer.publicKey, signature: new Uint8Array(64) });
  const signature = await signer.sign(encodeNodeRecord(domain, domainOwner(domain), unsigned));
  return { ...unsigned, signature: new Uint8Array(signature) };
}

/**
 * Signs an address claim for `domain` by the signer's node.
 * @throws ValidationError naming the bad field
 */
export async function signAddressClaim(
  signer: RegistrySigner,
  domain: RegistryDomain,
  fields: Pick<AddressClaim, 'address' | 'fingerprint' | 'keyRef' | 'seq'>,
): Promise<AddressClaim> {
  const unsigned = validateAddressClaim({ ...fields, nodeId: signer.publicKey, signature: new Uint8Array(64) });
  const signature = await signer.sign(encodeAddressClaim(domain, unsigned));
  return { ...unsigned, signature: new Uint8Array(signature) };
}

/**
 * Signs a deletion receipt for `domain`; the custodian is the signer's node.
 * @throws ValidationError naming the bad field
 */
export async function signDeletionReceipt(
  signer: RegistrySigner,
  domain: RegistryDomain,
  fields: Pick<DeletionReceipt, 'messageRef' | 'time'>,
): Promise<DeletionReceipt> {
  const unsigned = validateDeletionReceipt({ ...fields, custodian: signer.publicKey, signature: new Uint8Array(64) });
  const signature = await signer.sign(encodeDeletionReceipt(domain, unsigned));
  return { ...unsigned, signature: new Uint8Array(signature) };
}

/** The node's signature verifies for `domain` and `owner` (default: the domain's own). Never throws. */
export function verifyNodeRecord(domain: RegistryDomain, record: NodeRecord, owner?: Uint8Array): boolean {
  try {
    const r = validateNodeRecord(record);
    return verifyEd25519(r.nodeId, encodeNodeRecord(domain, owner ?? domainOwner(domain), r), r.signature);
  } catch {
    return false;
  }
}

/** The claiming node's signature verifies for `domain`. Never throws. */
export function verifyAddressClaim(domain: RegistryDomain, claim: AddressClaim): boolean {
  try {
    const c = validateAddressClaim(claim);
    return verifyEd25519(c.nodeId, encodeAddressClaim(domain, c), c.signature);
  } catch {
    return false;
  }
}

/** The custodian's signature verifies for `domain`. Never throws. */
export function verifyDeletionReceipt(domain: RegistryDomain, receipt: DeletionReceipt): boolean {
  try {
    const r = validateDeletionReceipt(receipt);
    return verifyEd25519(r.custodian, encodeDeletionReceipt(domain, r), r.signature);
  } catch {
    return false;
  }
}

// ── Encodings ───────────────────────────────────────────────────────────────

/**
 * The domain's bytes in every signed message.
 * @throws ValidationError (field `domain…`) for a malformed domain
 */
export function encodeDomain(domain: RegistryDomain): Uint8Array {
  if (domain.kind === 'local') {
    bytes(domain.id, 'domain.id', 32);
    return concat([Uint8Array.of(0x01), domain.id]);
  }
  if (!Number.isSafeInteger(domain.chainId) || domain.chainId < 1) throw new ValidationError('domain.chainId', 'must be a positive integer');
  return concat([Uint8Array.of(0x02), u64(domain.chainId), accountBytes(domain.contract, 'domain.contract')]);
}

/** The signed message of a node record (validate first). */
export function encodeNodeRecord(domain: RegistryDomain, owner: Uint8Array, r: NodeRecord): Uint8Array {
  if (owner.length > 255) throw new ValidationError('owner', 'is too long');
  return concat([TAG_NODE, encodeDomain(domain), Uint8Array.of(owner.length), owner, r.nodeId, r.encKey, u64(r.seq), encodeAddrs(r.addrs)]);
}

/** The signed message of an address claim (validate first). */
export function encodeAddressClaim(domain: RegistryDomain, c: AddressClaim): Uint8Array {
  const fingerprint = Buffer.from(c.fingerprint, 'hex');
  const keyRef = Buffer.from(c.keyRef, 'utf8');
  return concat([TAG_CLAIM, encodeDomain(domain), addressHash(c.address), c.nodeId, u64(c.seq), Uint8Array.of(fingerprint.length), fingerprint, u16(keyRef.length), keyRef]);
}

/** The signed message of a deletion receipt (validate first). */
export function encodeDeletionReceipt(domain: RegistryDomain, r: DeletionReceipt): Uint8Array {
  return concat([TAG_DELETION, encodeDomain(domain), r.messageRef, r.custodian, u64(r.time)]);
}

/**
 * The canonical address list: u8 count ‖ (u16 length ‖ UTF-8)*.
 * @throws ValidationError (field `addrs…`)
 */
export function encodeAddrs(addrs: readonly string[]): Uint8Array {
  if (addrs.length > MAX_ADDRS) throw new ValidationError('addrs', `at most ${MAX_ADDRS} addresses`);
  const parts: Uint8Array[] = [Uint8Array.of(addrs.length)];
  for (const a of addrs) {
    const utf8 = Buffer.from(a, 'utf8');
    parts.push(u16(utf8.length), utf8);
  }
  return concat(parts);
}

/**
 * Reads an address list, accepting only its canonical form.
 * @throws ValidationError (field `addrs`) when it is malformed
 */
export function decodeAddrs(encoded: Uint8Array): string[] {
  const fail = (): never => {
    throw new ValidationError('addrs', 'is not a canonical address list');
  };
  const count = encoded[0] ?? fail();
  const out: string[] = [];
  let at = 1;
  for (let i = 0; i < count; i++) {
    if (at + 2 > encoded.length) fail();
    const len = ((encoded[at] as number) << 8) | (encoded[at + 1] as number);
    at += 2;
    if (at + len > encoded.length) fail();
    out.push(Buffer.from(encoded.subarray(at, at + len)).toString('utf8'));
    at += len;
  }
  if (at !== encoded.length || !bytesEqual(encodeAddrs(out), encoded)) fail();
  return out;
}

/**
 * Packs a batch of announcements back to back (what the EVM contract logs).
 * @throws ValidationError naming the bad entry's field
 */
export function packAnnouncements(entries: readonly Announcement[]): Uint8Array {
  const checked = validateAnnouncements(entries);
  const parts: Uint8Array[] = [];
  for (const e of checked) parts.push(e.ephemeralPublic, Uint8Array.of(e.viewTag), e.tag, u16(e.payload.length), e.payload);
  return concat(parts);
}

/**
 * Unpacks a batch packed by packAnnouncements.
 * @throws ValidationError (field `entries`) when it is malformed
 */
export function unpackAnnouncements(packed: Uint8Array): Announcement[] {
  const out: Announcement[] = [];
  let at = 0;
  while (at < packed.length) {
    if (packed.length - at < ANNOUNCEMENT_HEAD) throw new ValidationError('entries', `truncated entry at byte ${at}`);
    const len = ((packed[at + 65] as number) << 8) | (packed[at + 66] as number);
    if (len > MAX_PAYLOAD || packed.length - at - ANNOUNCEMENT_HEAD < len) throw new ValidationError('entries', `bad payload length at byte ${at}`);
    out.push({
      ephemeralPublic: packed.slice(at, at + 32),
      viewTag: packed[at + 32] as number,
      tag: packed.slice(at + 33, at + 65),
      payload: packed.slice(at + ANNOUNCEMENT_HEAD, at + ANNOUNCEMENT_HEAD + len),
    });
    at += ANNOUNCEMENT_HEAD + len;
  }
  if (out.length === 0) throw new ValidationError('entries', 'empty batch');
  return out;
}

// ── Addresses and ids ───────────────────────────────────────────────────────

/**
 * The canonical form of a mail address: Unicode NFC, lower-cased.
 * @throws ValidationError (field `address`) unless it looks like local@domain
 */
export function canonicalAddress(address: string): string {
  if (typeof address !== 'string') throw new ValidationError('address', 'must be a string');
  const a = address.normalize('NFC').toLowerCase();
  if (!/^[^\s@<>]+@[^\s@<>]+$/u.test(a)) throw new ValidationError('address', 'must be a mail address local@domain');
  if (Buffer.byteLength(a, 'utf8') > MAX_ADDRESS_BYTES) throw new ValidationError('address', `must be at most ${MAX_ADDRESS_BYTES} octets`);
  return a;
}

/**
 * What the registry stores for an address: SHA-256("sealpost-address-v1:" ‖ canonical address).
 * @throws ValidationError (field `address`)
 */
export function addressHash(address: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(ADDRESS_PREFIX).update(canonicalAddress(address), 'utf8').digest());
}

/** A node id as text: base64 of the 32 raw bytes (the spelling network/ and custody/ use). */
export function formatNodeId(nodeId: Uint8Array): string {
  return Buffer.from(nodeId).toString('base64');
}

/**
 * The bytes of a node id written by formatNodeId.
 * @throws ValidationError (field `nodeId`) unless canonical base64 of 32 bytes
 */
export function parseNodeId(text: string): Uint8Array {
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== text) throw new ValidationError('nodeId', 'must be base64 of 32 bytes');
  return new Uint8Array(raw);
}

/** The libp2p peer id (12D3KooW…) of a node id: base58btc of its identity multihash. */
export function peerIdOf(nodeId: Uint8Array): string {
  return base58btc.baseEncode(concat([PEER_ID_PREFIX, nodeId]));
}

// ── Validation (copies out exactly the fields, so callers cannot alter what was checked) ──

/**
 * Checks a node record's form (not its signature).
 * @throws ValidationError naming the bad field
 */
export function validateNodeRecord(input: NodeRecord): NodeRecord {
  object(input, 'record');
  const nodeId = bytes(input.nodeId, 'nodeId', 32);
  const encKey = bytes(input.encKey, 'encKey', 32);
  if (encKey.every((b) => b === 0)) throw new ValidationError('encKey', 'must not be zero');
  if (!Array.isArray(input.addrs)) throw new ValidationError('addrs', 'must be an array');
  if (input.addrs.length > MAX_ADDRS) throw new ValidationError('addrs', `at most ${MAX_ADDRS} addresses`);
  const peerId = peerIdOf(nodeId);
  const addrs = input.addrs.map((a: unknown, i) => checkMultiaddr(a, `addrs[${i}]`, peerId));
  return { nodeId, encKey, addrs, seq: seq(input.seq), signature: bytes(input.signature, 'signature', 64) };
}

/**
 * Checks an address claim's form (not its signature); the address comes back canonical.
 * @throws ValidationError naming the bad field
 */
export function validateAddressClaim(input: AddressClaim): AddressClaim {
  object(input, 'claim');
  const address = canonicalAddress(input.address);
  const nodeId = bytes(input.nodeId, 'nodeId', 32);
  if (typeof input.fingerprint !== 'string' || !FINGERPRINT.test(input.fingerprint)) {
    throw new ValidationError('fingerprint', 'must be an OpenPGP fingerprint: 40 (v4) or 64 (v6) uppercase hex digits');
  }
  const keyRef: unknown = input.keyRef;
  if (typeof keyRef !== 'string' || !PRINTABLE.test(keyRef) || keyRef.length > MAX_KEY_REF) {
    throw new ValidationError('keyRef', `must be a CID: 1 to ${MAX_KEY_REF} printable ASCII characters`);
  }
  return { address, nodeId, fingerprint: input.fingerprint, keyRef, seq: seq(input.seq), signature: bytes(input.signature, 'signature', 64) };
}

/**
 * Checks a batch of announcements: 1 to MAX_BATCH_ENTRIES, at most MAX_BATCH_BYTES packed.
 * @throws ValidationError naming the bad field (`entries[i].tag`, …)
 */
export function validateAnnouncements(entries: readonly Announcement[]): Announcement[] {
  if (!Array.isArray(entries) || entries.length === 0) throw new ValidationError('entries', 'must be a non-empty array');
  if (entries.length > MAX_BATCH_ENTRIES) throw new ValidationError('entries', `at most ${MAX_BATCH_ENTRIES} in one batch`);
  let size = 0;
  const out = entries.map((e: Announcement, i) => {
    const f = `entries[${i}]`;
    object(e, f);
    if (!Number.isInteger(e.viewTag) || e.viewTag < 0 || e.viewTag > 255) throw new ValidationError(`${f}.viewTag`, 'must be an integer 0..255');
    const payload = bytes(e.payload, `${f}.payload`);
    if (payload.length > MAX_PAYLOAD) throw new ValidationError(`${f}.payload`, `must be at most ${MAX_PAYLOAD} bytes`);
    size += ANNOUNCEMENT_HEAD + payload.length;
    return { ephemeralPublic: bytes(e.ephemeralPublic, `${f}.ephemeralPublic`, 32), viewTag: e.viewTag, tag: bytes(e.tag, `${f}.tag`, 32), payload };
  });
  if (size > MAX_BATCH_BYTES) throw new ValidationError('entries', `at most ${MAX_BATCH_BYTES} bytes packed in one batch`);
  return out;
}

/**
 * Checks a deletion receipt's form (not its signature).
 * @throws ValidationError naming the bad field
 */
export function validateDeletionReceipt(input: DeletionReceipt): DeletionReceipt {
  object(input, 'receipt');
  if (!Number.isSafeInteger(input.time) || input.time < 0) throw new ValidationError('time', 'must be a non-negative integer (ms since the epoch)');
  return {
    messageRef: bytes(input.messageRef, 'messageRef', 32),
    custodian: bytes(input.custodian, 'custodian', 32),
    time: input.time,
    signature: bytes(input.signature, 'signature', 64),
  };
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

// ── Helpers ─────────────────────────────────────────────────────────────────

/**
 * A multiaddr in text form: printable ASCII starting with '/'. A /p2p/
 * component (the last one: after /p2p-circuit it names the target) must be
 * the record's own peer id, so a record cannot point peers at another node.
 */
function checkMultiaddr(a: unknown, field: string, peerId: string): string {
  if (typeof a !== 'string' || !a.startsWith('/') || !PRINTABLE.test(a) || a.length > MAX_ADDR_LENGTH) {
    throw new ValidationError(field, `must be a multiaddr: printable ASCII starting with /, at most ${MAX_ADDR_LENGTH} characters`);
  }
  const parts = a.split('/');
  const at = Math.max(parts.lastIndexOf('p2p'), parts.lastIndexOf('ipfs'));
  if (at !== -1 && parts[at + 1] !== peerId) throw new ValidationError(field, `names peer ${parts[at + 1] ?? '(none)'}, not this node (${peerId})`);
  return a;
}

function object(input: unknown, field: string): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError(field, 'must be an object');
}

function bytes(value: unknown, field: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ValidationError(field, 'must be a Uint8Array');
  if (length !== undefined && value.length !== length) throw new ValidationError(field, `must be ${length} bytes`);
  return new Uint8Array(value);
}

function seq(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ValidationError('seq', 'must be a positive integer');
  return value;
}

function accountBytes(account: string, field: string): Uint8Array {
  if (!HEX_ADDRESS.test(account)) throw new ValidationError(field, 'must be a 0x-prefixed 20-byte hex address');
  return new Uint8Array(Buffer.from(account.slice(2), 'hex'));
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
