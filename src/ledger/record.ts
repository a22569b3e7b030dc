// The canonical encoding of a ledger record and its RFC 6962 §2.1 leaf hash.
// A record is hashed as compact JSON with a version field and a fixed key
// order, so the same record always gives the same bytes (and leaf) on every
// node and in every language: {"v":1,"cid":…,"messageHash":…,"sender":…,
// "time":…,"expires":…}. Every value is ASCII or an integer, so JSON's
// escaping leaves no room for two spellings of one record.
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/index.ts';
import type { LedgerRecord } from './types.ts';

/** Version of the canonical encoding; a new encoding gets a new number. */
export const RECORD_VERSION = 1;

/** Longest CID accepted (a CIDv1 in base32 with SHA-256 is 59 characters). */
export const MAX_CID_LENGTH = 200;

const CID = /^[\x21-\x7e]+$/; // printable ASCII, no spaces: every multibase alphabet fits
const SHA256_HEX = /^[0-9a-f]{64}$/;
const FINGERPRINT = /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/; // v4 (RFC 4880) or v6 (RFC 9580)

/**
 * Checks a record from outside (the SMTP pipeline, a proof file) and returns
 * a copy holding exactly the record's fields.
 * @throws ValidationError naming the first bad field
 */
export function validateRecord(input: unknown): LedgerRecord {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('record', 'must be an object');
  }
  const r = input as Record<string, unknown>;
  const { cid, messageHash, sender, time, expires } = r;
  if (typeof cid !== 'string' || cid.length === 0) throw new ValidationError('cid', 'must be a non-empty string');
  if (cid.length > MAX_CID_LENGTH) throw new ValidationError('cid', `must be at most ${MAX_CID_LENGTH} characters`);
  if (!CID.test(cid)) throw new ValidationError('cid', 'must be printable ASCII without spaces');
  if (typeof messageHash !== 'string' || !SHA256_HEX.test(messageHash)) {
    throw new ValidationError('messageHash', 'must be 64 lowercase hex digits (SHA-256)');
  }
  if (typeof sender !== 'string' || !FINGERPRINT.test(sender)) {
    throw new ValidationError('sender', 'must be an OpenPGP fingerprint: 40 (v4) or 64 (v6) uppercase hex digits');
  }
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) {
    throw new ValidationError('time', 'must be a non-negative integer (ms since the epoch)');
  }
  if (expires !== null && (typeof expires !== 'number' || !Number.isSafeInteger(expires))) {
    throw new ValidationError('expires', 'must be null or an integer (ms since the epoch)');
  }
  return { cid, messageHash, sender, time, expires };
}

/**
 * The canonical encoding of a record (compact JSON, fixed key order, version first).
 * @throws ValidationError when the record is malformed
 */
export function encodeRecord(record: LedgerRecord): string {
  const r = validateRecord(record);
  return canonical(r);
}

/** Encoding of an already validated record (the append hot path validates once). */
export function canonical(r: LedgerRecord): string {
  // Built by hand: the key order is the format, not an accident of object literals.
  return `{"v":${RECORD_VERSION},"cid":${JSON.stringify(r.cid)},"messageHash":"${r.messageHash}","sender":"${r.sender}","time":${r.time},"expires":${r.expires === null ? 'null' : r.expires}}`;
}

/**
 * Reads a stored encoding back. Lenient on purpose: it does not validate, so
 * that a record altered in the database still reaches `verify`, which then
 * reports what is wrong with it instead of the proof failing to build.
 * @throws ValidationError when the text is not a JSON object of this version
 */
export function decodeRecord(text: string): LedgerRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('record', 'is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError('record', 'must be a JSON object');
  }
  const o = parsed as Record<string, unknown>;
  if (o['v'] !== RECORD_VERSION) throw new ValidationError('v', `unknown record version ${String(o['v'])}`);
  return {
    cid: o['cid'] as string,
    messageHash: o['messageHash'] as string,
    sender: o['sender'] as string,
    time: o['time'] as number,
    expires: o['expires'] as number | null,
  };
}

/** RFC 6962 §2.1 leaf hash of raw bytes: SHA-256(0x00 || data). */
export function leafHashBytes(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/**
 * The leaf hash of a record: SHA-256(0x00 || canonical encoding), lowercase hex.
 * @throws ValidationError when the record is malformed
 */
export function leafHash(record: LedgerRecord): string {
  return leafHashBytes(encodeRecord(record)).toString('hex');
}

const LEAF_PREFIX = new Uint8Array([0x00]);
