// How an object becomes blocks and how blocks are checked, shared by every
// storage backend so that the same bytes get the same CID everywhere: UnixFS
// import settings (CIDv1, raw leaves, 1 MiB chunks, balanced DAG — the
// @helia/unixfs defaults, written out so a library upgrade cannot change our
// CIDs), CID parsing at the edge, and hash verification of a block.
import { createHash } from 'node:crypto';
import * as dagPb from '@ipld/dag-pb';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import type { ImporterOptions } from 'ipfs-unixfs-importer';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { LimitError, ValidationError } from '../errors/index.ts';
import { BlockCorruptError } from './errors.ts';
import type { Cid } from './types.ts';

/** Largest object `put` accepts unless configured otherwise (a message's ciphertext). */
export const DEFAULT_MAX_OBJECT_SIZE = 64 * 1024 * 1024;

export const CHUNK_SIZE = 1024 * 1024;
const SHA2_256 = 0x12;
const IDENTITY = 0x00;

/**
 * UnixFS import settings for `put`. A fresh object per call: the importer may
 * write defaults into the options it is given.
 */
export function importOptions(): Omit<ImporterOptions, 'onProgress'> {
  return {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: 1024 }),
    fieldOrder: 'links-first',
  };
}

/**
 * Parses a CID string from outside (IMAP state, ledger, config). Only what
 * `put` can produce is accepted: codec raw or dag-pb, hash sha2-256.
 * @throws ValidationError (field `cid`) when `text` is not such a CID
 */
export function parseCid(text: string): CID {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    throw new ValidationError('cid', 'not a CID');
  }
  if (cid.code !== raw.code && cid.code !== dagPb.code) throw new ValidationError('cid', 'codec is neither raw nor dag-pb');
  if (cid.multihash.code !== SHA2_256) throw new ValidationError('cid', 'hash is not sha2-256');
  return cid;
}

/** The canonical string form of a CID: CIDv1 in base32 (`bafk…`, `bafy…`). */
export function cidString(cid: CID): Cid {
  return cid.toV1().toString(base32) as Cid;
}

/**
 * Checks that `bytes` hash to the digest in `cid`.
 * @throws BlockCorruptError when they do not, or when the hash function is not one we can check
 */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  const { code, digest } = cid.multihash;
  let actual: Uint8Array;
  if (code === SHA2_256) actual = createHash('sha256').update(bytes).digest();
  else if (code === IDENTITY) actual = bytes;
  // Never hand out bytes we could not check.
  else throw new BlockCorruptError(cid.toString(), `block ${cid.toString()} uses hash 0x${code.toString(16)}, which cannot be verified`);
  if (!equalBytes(actual, digest)) throw new BlockCorruptError(cid.toString());
}

/** True when the block may link to others (a dag-pb node), false for a raw leaf. */
export function hasLinks(cid: CID): boolean {
  return cid.code === dagPb.code;
}

/** The CIDs a block links to (the chunks of a large object); none for a raw block. */
export function blockLinks(cid: CID, bytes: Uint8Array): CID[] {
  if (cid.code !== dagPb.code) return [];
  return dagPb.decode(bytes).Links.map((link) => link.Hash);
}

/** @throws LimitError when `bytes` is longer than `max` */
export function assertObjectSize(bytes: Uint8Array, max: number): void {
  if (bytes.byteLength > max) throw new LimitError(`object of ${bytes.byteLength} octets exceeds the limit of ${max}`);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Joins the chunks an object was read in (one chunk is returned as is). */
export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * The CID `put` gives an object of one chunk (1 ≤ size ≤ CHUNK_SIZE): with
 * raw leaves and reduceSingleLeafToSelf the UnixFS importer makes it a single
 * raw block, CIDv1 raw sha2-256 (`bafkrei…`), so it can be written directly.
 */
export function singleBlockCid(bytes: Uint8Array): CID | null {
  if (bytes.byteLength === 0 || bytes.byteLength > CHUNK_SIZE) return null;
  return CID.createV1(raw.code, createDigest(SHA2_256, createHash('sha256').update(bytes).digest()));
}
