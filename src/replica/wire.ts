// The replica protocol's wire format ('/sealpost/replica/1.0.0', one
// request/response exchange per stream, framed by network/rpc.ts) and the
// bytes an owner signs to publish a snapshot pointer.
//
// Messages are UTF-8 JSON objects (RFC 8259); `tag` is the 32-byte account tag
// as 64 lowercase hex digits; CIDs are canonical CIDv1 base32 strings of the
// kind storage `put` makes (raw or dag-pb, sha2-256: storage/layout.ts);
// `sig` is standard padded base64 (RFC 4648 §4). Unknown fields are refused;
// `v` is 1. The owner of every entry is the node Noise authenticated, so no
// request names it.
//
//   pin      {"v":1,"op":"pin","tag","cids":[1..256],"waitMs"}          → {"v":1,"held":[cid],"failed":[{"cid","code"}]}
//   unpin    {"v":1,"op":"unpin","tag","cids":[1..256]}                  → {"v":1,"removed":[cid],"kept":[cid]}
//   pointer  {"v":1,"op":"pointer","tag","seq","cid","sig","waitMs"}     → {"v":1,"accepted":bool,"pointer":P}
//   status   {"v":1,"op":"status","tag"}                                 → {"v":1,"held","bytes":n|null,"pointer":P|null}
//   latest   {"v":1,"op":"latest","tag"}                                 → {"v":1,"pointer":P}   (or REPLICA_NOT_FOUND)
//   list     {"v":1,"op":"list","tag","after"?:cid,"limit":1..1000}      → {"v":1,"cids":[cid],"next":cid|null}
//   P        {"seq","cid","sig"}
//   refusal  an rpc ERROR frame whose code is a ReplicaError code
//
// `waitMs` (1..600,000) is how long the owner waits for the answer; the
// replica fetches for at most that long (capped by its own limit) and
// answers, so the owner's request timeout is waitMs plus a margin.
//
// Pointer signature: Ed25519 (RFC 8032) by the owner's node key over
//   "sealpost/replica/pointer/v1\0" ‖ owner (32) ‖ tag (32) ‖ seq (u64 BE) ‖ CID bytes
// so a pointer is good for one owner and one account only.
import { ValidationError } from '../errors/index.ts';
import { cidString, parseCid } from '../storage/layout.ts';
import type { Cid } from '../storage/types.ts';
import { ReplicaError } from './errors.ts';
import {
  TAG_BYTES, type CidFailure, type HoldingStatus, type ListAnswer, type PinAnswer, type PointerAnswer, type SignedPointer, type UnpinAnswer,
} from './types.ts';

export const WIRE_VERSION = 1;
/** CIDs in one pin or unpin request */
export const MAX_CIDS_PER_REQUEST = 256;
/** CIDs in one list page */
export const MAX_LIST_LIMIT = 1000;
/** the longest waitMs a request may state */
export const MAX_WAIT_MS = 600_000;
/** a CID string from outside longer than this is refused before parsing (sha2-256 CIDv1 base32 is 59) */
export const MAX_CID_LENGTH = 128;
export const DEFAULT_MAX_REQUEST_BYTES = 32 * 1024;
/** the largest response an owner accepts (a full list page is about 62 KiB) */
export const MAX_RESPONSE_BYTES = 128 * 1024;
export const SIG_BYTES = 64;

export type ReplicaRequest =
  | { op: 'pin'; tag: Uint8Array; cids: Cid[]; waitMs: number }
  | { op: 'unpin'; tag: Uint8Array; cids: Cid[] }
  | { op: 'pointer'; tag: Uint8Array; pointer: SignedPointer; waitMs: number }
  | { op: 'status'; tag: Uint8Array }
  | { op: 'latest'; tag: Uint8Array }
  | { op: 'list'; tag: Uint8Array; after: Cid | null; limit: number };

export type ReplicaOp = ReplicaRequest['op'];

const encoder = new TextEncoder();
const POINTER_SIGN_TAG = new Uint8Array(Buffer.from('sealpost/replica/pointer/v1\0', 'latin1'));
const CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

// ── Signed bytes ────────────────────────────────────────────────────────────

/**
 * The bytes an owner signs for a snapshot pointer (layout in the header).
 * @throws ValidationError (field `cid`) when the CID does not parse
 */
export function pointerSigningBytes(owner: Uint8Array, tag: Uint8Array, seq: number, cid: Cid): Uint8Array {
  const seqBytes = new Uint8Array(8);
  new DataView(seqBytes.buffer).setBigUint64(0, BigInt(seq));
  return new Uint8Array(Buffer.concat([POINTER_SIGN_TAG, owner, tag, seqBytes, parseCid(cid).bytes]));
}

// ── Requests ────────────────────────────────────────────────────────────────

/** The JSON bytes of a request. */
export function encodeRequest(r: ReplicaRequest): Uint8Array {
  const common = { v: WIRE_VERSION, op: r.op, tag: tagToHex(r.tag) };
  switch (r.op) {
    case 'pin':
      return json({ ...common, cids: r.cids, waitMs: r.waitMs });
    case 'unpin':
      return json({ ...common, cids: r.cids });
    case 'pointer':
      return json({ ...common, seq: r.pointer.seq, cid: r.pointer.cid, sig: b64(r.pointer.sig), waitMs: r.waitMs });
    case 'status':
    case 'latest':
      return json(common);
    case 'list':
      return json(r.after === null ? { ...common, limit: r.limit } : { ...common, after: r.after, limit: r.limit });
  }
}

/**
 * Parses and validates a request (shape only: quotas and signatures are the service's).
 * CIDs repeated in one request count once.
 * @throws ReplicaError REPLICA_BAD_REQUEST naming the field at fault
 */
export function decodeRequest(bytes: Uint8Array): ReplicaRequest {
  const o = parseObject(bytes, 'request', bad);
  if (o.v !== WIRE_VERSION) throw bad('v', `unsupported version ${JSON.stringify(o.v)}`);
  const op = o.op;
  switch (op) {
    case 'pin':
      onlyKeys(o, ['v', 'op', 'tag', 'cids', 'waitMs'], bad);
      return { op, tag: tagField(o.tag, bad), cids: cidList(o.cids, 'cids', 1, MAX_CIDS_PER_REQUEST, bad), waitMs: intField(o.waitMs, 'waitMs', 1, MAX_WAIT_MS, bad) };
    case 'unpin':
      onlyKeys(o, ['v', 'op', 'tag', 'cids'], bad);
      return { op, tag: tagField(o.tag, bad), cids: cidList(o.cids, 'cids', 1, MAX_CIDS_PER_REQUEST, bad) };
    case 'pointer':
      onlyKeys(o, ['v', 'op', 'tag', 'seq', 'cid', 'sig', 'waitMs'], bad);
      return { op, tag: tagField(o.tag, bad), pointer: pointerFields(o, bad), waitMs: intField(o.waitMs, 'waitMs', 1, MAX_WAIT_MS, bad) };
    case 'status':
    case 'latest':
      onlyKeys(o, ['v', 'op', 'tag'], bad);
      return { op, tag: tagField(o.tag, bad) };
    case 'list':
      onlyKeys(o, ['v', 'op', 'tag', 'after', 'limit'], bad);
      return {
        op,
        tag: tagField(o.tag, bad),
        after: o.after === undefined ? null : cidField(o.after, 'after', bad),
        limit: intField(o.limit, 'limit', 1, MAX_LIST_LIMIT, bad),
      };
    default:
      throw bad('op', `unknown operation ${JSON.stringify(op)}`);
  }
}

// ── Responses ───────────────────────────────────────────────────────────────

export function encodePinAnswer(a: PinAnswer): Uint8Array {
  return json({ v: WIRE_VERSION, held: a.held, failed: a.failed.map((f) => ({ cid: f.cid, code: f.code })) });
}

export function encodeUnpinAnswer(a: UnpinAnswer): Uint8Array {
  return json({ v: WIRE_VERSION, removed: a.removed, kept: a.kept });
}

export function encodePointerAnswer(a: PointerAnswer): Uint8Array {
  return json({ v: WIRE_VERSION, accepted: a.accepted, pointer: pointerJson(a.pointer) });
}

export function encodeStatusAnswer(a: HoldingStatus): Uint8Array {
  return json({ v: WIRE_VERSION, held: a.held, bytes: a.bytes, pointer: a.pointer === null ? null : pointerJson(a.pointer) });
}

export function encodeLatestAnswer(pointer: SignedPointer): Uint8Array {
  return json({ v: WIRE_VERSION, pointer: pointerJson(pointer) });
}

export function encodeListAnswer(a: ListAnswer): Uint8Array {
  return json({ v: WIRE_VERSION, cids: a.cids, next: a.next });
}

/** @throws ReplicaError REPLICA_BAD_RESPONSE naming the field at fault */
export function decodePinAnswer(bytes: Uint8Array): PinAnswer {
  const o = response(bytes, ['v', 'held', 'failed']);
  const held = cidList(o.held, 'held', 0, MAX_CIDS_PER_REQUEST, badResponse);
  const failed = o.failed;
  if (!Array.isArray(failed) || failed.length > MAX_CIDS_PER_REQUEST) throw badResponse('failed', `must be an array of at most ${MAX_CIDS_PER_REQUEST}`);
  return {
    held,
    failed: failed.map((f: unknown, i): CidFailure => {
      if (typeof f !== 'object' || f === null || Array.isArray(f)) throw badResponse(`failed[${i}]`, 'must be an object');
      const entry = f as Record<string, unknown>;
      onlyKeys(entry, ['cid', 'code'], badResponse);
      if (typeof entry.code !== 'string' || !CODE_RE.test(entry.code)) throw badResponse(`failed[${i}].code`, 'must be an error code');
      return { cid: cidField(entry.cid, `failed[${i}].cid`, badResponse), code: entry.code };
    }),
  };
}

/** @throws ReplicaError REPLICA_BAD_RESPONSE naming the field at fault */
export function decodeUnpinAnswer(bytes: Uint8Array): UnpinAnswer {
  const o = response(bytes, ['v', 'removed', 'kept']);
  return { removed: cidList(o.removed, 'removed', 0, MAX_CIDS_PER_REQUEST, badResponse), kept: cidList(o.kept, 'kept', 0, MAX_CIDS_PER_REQUEST, badResponse) };
}

/** @throws ReplicaError REPLICA_BAD_RESPONSE naming the field at fault */
export function decodePointerAnswer(bytes: Uint8Array): PointerAnswer {
  const o = response(bytes, ['v', 'accepted', 'pointer']);
  if (typeof o.accepted !== 'boolean') throw badResponse('accepted', 'must be a boolean');
  return { accepted: o.accepted, pointer: pointerObject(o.pointer) };
}

/** @throws ReplicaError REPLICA_BAD_RESPONSE naming the field at fault */
export function decodeStatusAnswer(bytes: Uint8Array): HoldingStatus {
  const o = response(bytes, ['v', 'held', 'bytes', 'pointer']);
  return {
    held: intField(o.held, 'held', 0, Number.MAX_SAFE_INTEGER, badResponse),
    bytes: o.bytes === null ? null : intField(o.bytes, 'bytes', 0, Number.MAX_SAFE_INTEGER, badResponse),
    pointer: o.pointer === null ? null : pointerObject(o.pointer),
  };
}

/** @throws ReplicaError REPLICA_BAD_RESPONSE naming the field at fault */
export function decodeLatestAnswer(bytes: Uint8Array): SignedPointer {
  return pointerObject(response(bytes, ['v', 'pointer']).pointer);
}

/** @throws ReplicaError REPLICA_BAD_RESPONSE naming the field at fault */
export function decodeListAnswer(bytes: Uint8Array): ListAnswer {
  const o = response(bytes, ['v', 'cids', 'next']);
  return { cids: cidList(o.cids, 'cids', 0, MAX_LIST_LIMIT, badResponse), next: o.next === null ? null : cidField(o.next, 'next', badResponse) };
}

// ── Fields ──────────────────────────────────────────────────────────────────

type Bad = (field: string, message: string, cause?: unknown) => ReplicaError;

export function tagToHex(tag: Uint8Array): string {
  return Buffer.from(tag.buffer, tag.byteOffset, tag.byteLength).toString('hex');
}

/**
 * A CID from outside in its canonical form, or null when it is not one storage
 * `put` could have made (another codec or hash, or not canonical base32 CIDv1:
 * one object must have one spelling, or quotas and reference counts split).
 */
export function canonicalCid(value: unknown): Cid | null {
  if (typeof value !== 'string' || value.length > MAX_CID_LENGTH) return null;
  try {
    const cid = cidString(parseCid(value));
    return cid === value ? cid : null;
  } catch (err) {
    if (err instanceof ValidationError) return null;
    throw err;
  }
}

function tagField(value: unknown, fail: Bad): Uint8Array {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw fail('tag', `must be ${TAG_BYTES * 2} lowercase hex digits`);
  return new Uint8Array(Buffer.from(value, 'hex'));
}

function cidField(value: unknown, field: string, fail: Bad): Cid {
  const cid = canonicalCid(value);
  if (cid === null) throw fail(field, 'must be a canonical CIDv1 (base32; raw or dag-pb; sha2-256)');
  return cid;
}

function cidList(value: unknown, field: string, min: number, max: number, fail: Bad): Cid[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) throw fail(field, `must be an array of ${min}..${max} CIDs`);
  return [...new Set(value.map((c: unknown, i) => cidField(c, `${field}[${i}]`, fail)))];
}

function intField(value: unknown, field: string, min: number, max: number, fail: Bad): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw fail(field, `must be an integer in ${min}..${max}`);
  return value;
}

function sigField(value: unknown, field: string, fail: Bad): Uint8Array {
  if (typeof value !== 'string' || value.length !== 88) throw fail(field, `must be base64 of ${SIG_BYTES} bytes`);
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== SIG_BYTES || raw.toString('base64') !== value) throw fail(field, `must be canonical base64 of ${SIG_BYTES} bytes`);
  return new Uint8Array(raw);
}

function pointerFields(o: Record<string, unknown>, fail: Bad, prefix = ''): SignedPointer {
  return {
    seq: intField(o.seq, `${prefix}seq`, 0, Number.MAX_SAFE_INTEGER, fail),
    cid: cidField(o.cid, `${prefix}cid`, fail),
    sig: sigField(o.sig, `${prefix}sig`, fail),
  };
}

function pointerObject(value: unknown): SignedPointer {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badResponse('pointer', 'must be an object');
  const o = value as Record<string, unknown>;
  onlyKeys(o, ['seq', 'cid', 'sig'], badResponse, 'pointer.');
  return pointerFields(o, badResponse, 'pointer.');
}

function pointerJson(p: SignedPointer): { seq: number; cid: Cid; sig: string } {
  return { seq: p.seq, cid: p.cid, sig: b64(p.sig) };
}

function parseObject(bytes: Uint8Array, what: string, fail: Bad): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw fail(what, 'is not UTF-8 JSON', cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fail(what, 'must be a JSON object');
  return parsed as Record<string, unknown>;
}

function response(bytes: Uint8Array, keys: readonly string[]): Record<string, unknown> {
  const o = parseObject(bytes, 'response', badResponse);
  if (o.v !== WIRE_VERSION) throw badResponse('v', `unsupported version ${JSON.stringify(o.v)}`);
  onlyKeys(o, keys, badResponse);
  return o;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], fail: Bad, prefix = ''): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw fail(`${prefix}${k}`, 'unknown field');
}

function bad(field: string, message: string, cause?: unknown): ReplicaError {
  return new ReplicaError('REPLICA_BAD_REQUEST', message, cause === undefined ? { field } : { field, cause });
}

function badResponse(field: string, message: string, cause?: unknown): ReplicaError {
  return new ReplicaError('REPLICA_BAD_RESPONSE', message, cause === undefined ? { field } : { field, cause });
}

function json(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
