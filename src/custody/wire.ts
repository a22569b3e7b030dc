// The custody protocol's wire format ('/sealpost/custody/1.0.0', one
// request/response exchange per stream, framed by network/rpc.ts), the bytes
// requesters sign, the AAD that binds each sealed share to its context, and
// the binary ticket an announcement carries.
//
// Messages are UTF-8 JSON objects; byte fields are standard base64 (RFC 4648
// §4, canonical, padded); `ref` is the 32-byte message hash as 64 lowercase hex
// digits; node ids are base64 of 32 bytes; times are integer ms since the
// epoch. Unknown fields are refused; `v` is 1.
//
//   deposit  {"v":1,"op":"deposit","ref","sender","custodian","index","expiresAt","readers":[≤32 ids],"commitments","sealed"}
//            → {"v":1,"stored":true,"expiresAt"}
//   release  {"v":1,"op":"release","ref","sender","custodian","requester","time","sig"}
//            → {"v":1,"index","sealed"}      (the share re-sealed to the requester's registered X25519 key)
//   revoke   {"v":1,"op":"revoke", same fields as release}
//            → {"v":1,"deleted":bool}        (false: it was already gone)
//   refusal  an rpc ERROR frame whose code is a CustodyError code (CUSTODY_NOT_AUTHORISED, CUSTODY_EXPIRED, …)
//
// `sig` is Ed25519 (RFC 8032) by the requester's node key over
//   "sealpost/custody/<op>/v1\0" ‖ ref (32) ‖ sender (32) ‖ custodian (32) ‖ requester (32) ‖ time (u64 BE)
// so a signature is good for one operation, one message, one custodian and a
// few minutes only. Sealed shares are ecies.ts boxes (60 + 66 = 126 bytes) of
// a shamir.ts encoded share, with AAD
//   deposit box (to the custodian):   "sealpost/custody/deposit-box/v1\0" ‖ ref ‖ sender ‖ custodian ‖ index (u8)
//   release box (to the requester):   "sealpost/custody/release-box/v1\0" ‖ ref ‖ sender ‖ custodian ‖ requester ‖ index (u8)
// so a box cannot be passed off as another message's, custodian's or index's.
//
// Ticket (binary, in the announcement): version 0x01 ‖ ref (32) ‖ sender (32)
// ‖ expiresAt (u64 BE) ‖ t (u8) ‖ n (u8) ‖ n × custodian (32) ‖ commitments
// (pedersen.ts encoding, 2 + 32·t).
import type { KeyObject } from 'node:crypto';
import { ValidationError } from '../errors/index.ts';
import { formatNodeId, parseNodeId } from '../registry/records.ts';
import { SEALED_OVERHEAD } from './ecies.ts';
import { CustodyError } from './errors.ts';
import { COMMITMENTS_VERSION, commitmentsByteLength, decodeCommitments } from './pedersen.ts';
import { SHARE_BYTES } from './shamir.ts';
import { REF_BYTES, type CustodyTicket } from './types.ts';

export const WIRE_VERSION = 1;
/** readers named in one deposit */
export const MAX_READERS = 32;
/** custodians of one message (n); keeps a deposit and a ticket small */
export const MAX_CUSTODIANS = 64;
/** bytes of a sealed share */
export const SEALED_SHARE_BYTES = SEALED_OVERHEAD + SHARE_BYTES;
/** the largest response a client accepts */
export const MAX_RESPONSE_BYTES = 4096;
export const DEFAULT_MAX_REQUEST_BYTES = 8192;
export const TICKET_VERSION = 0x01;

export type SignedOp = 'release' | 'revoke';

export interface DepositRequest {
  op: 'deposit';
  ref: Uint8Array;
  sender: string;
  custodian: string;
  index: number;
  expiresAt: number;
  readers: string[];
  commitments: Uint8Array;
  sealed: Uint8Array;
}

/** The fields a release or revoke signature covers. */
export interface SignedFields {
  ref: Uint8Array;
  sender: string;
  custodian: string;
  requester: string;
  time: number;
}

export interface SignedRequest extends SignedFields {
  op: SignedOp;
  sig: Uint8Array;
}

export type CustodyRequest = DepositRequest | SignedRequest;

export interface DepositResponse { stored: true; expiresAt: number }
export interface ReleaseResponse { index: number; sealed: Uint8Array }
export interface RevokeResponse { deleted: boolean }

const encoder = new TextEncoder();
const SIGN_TAGS: Record<SignedOp, Uint8Array> = {
  release: ascii('sealpost/custody/release/v1\0'),
  revoke: ascii('sealpost/custody/revoke/v1\0'),
};
const DEPOSIT_BOX_TAG = ascii('sealpost/custody/deposit-box/v1\0');
const RELEASE_BOX_TAG = ascii('sealpost/custody/release-box/v1\0');

// ── Signed bytes and AADs ──────────────────────────────────────────────────

/** The bytes a release or revoke signature covers (layout in the header). */
export function signingBytes(op: SignedOp, f: SignedFields): Uint8Array {
  return concat([SIGN_TAGS[op], f.ref, parseNodeId(f.sender), parseNodeId(f.custodian), parseNodeId(f.requester), u64(f.time)]);
}

/**
 * A signed release or revoke request.
 * @throws ValidationError (field `nodeId`) when a node id is not base64 of 32 bytes
 */
export async function signRequest(op: SignedOp, fields: SignedFields, sign: (data: Uint8Array) => Uint8Array | Promise<Uint8Array>): Promise<SignedRequest> {
  return { op, ...fields, sig: new Uint8Array(await sign(signingBytes(op, fields))) };
}

/** AAD of the box a sender seals to a custodian. */
export function depositAad(ref: Uint8Array, sender: string, custodian: string, index: number): Uint8Array {
  return concat([DEPOSIT_BOX_TAG, ref, parseNodeId(sender), parseNodeId(custodian), Uint8Array.of(index)]);
}

/** AAD of the box a custodian seals to a requester. */
export function releaseAad(ref: Uint8Array, sender: string, custodian: string, requester: string, index: number): Uint8Array {
  return concat([RELEASE_BOX_TAG, ref, parseNodeId(sender), parseNodeId(custodian), parseNodeId(requester), Uint8Array.of(index)]);
}

// ── Keys ──

/**
 * The raw 32-byte X25519 private key that ecies.ts openSealed takes, from the
 * KeyObject network/identity.ts keeps it in.
 * @throws CustodyError CUSTODY_BAD_KEY for a key that is not an X25519 private key
 */
export function rawX25519Private(key: KeyObject): Uint8Array {
  const d = key.type === 'private' && key.asymmetricKeyType === 'x25519' ? key.export({ format: 'jwk' }).d : undefined;
  if (d === undefined) throw new CustodyError('CUSTODY_BAD_KEY', 'not an X25519 private key', { field: 'x25519.privateKey' });
  return new Uint8Array(Buffer.from(d, 'base64url'));
}

// ── Requests ────────────────────────────────────────────────────────────────

/** The JSON bytes of a request. */
export function encodeRequest(r: CustodyRequest): Uint8Array {
  const common = { v: WIRE_VERSION, op: r.op, ref: refToHex(r.ref), sender: r.sender, custodian: r.custodian };
  if (r.op === 'deposit') {
    return json({ ...common, index: r.index, expiresAt: r.expiresAt, readers: r.readers, commitments: b64(r.commitments), sealed: b64(r.sealed) });
  }
  return json({ ...common, requester: r.requester, time: r.time, sig: b64(r.sig) });
}

/**
 * Parses and validates a request (shape only: signatures and authorisation are the service's).
 * @throws CustodyError CUSTODY_BAD_REQUEST naming the field at fault
 */
export function decodeRequest(bytes: Uint8Array): CustodyRequest {
  const o = parseObject(bytes, 'request');
  if (o.v !== WIRE_VERSION) throw bad('v', `unsupported version ${JSON.stringify(o.v)}`);
  const op = o.op;
  if (op === 'deposit') {
    onlyKeys(o, ['v', 'op', 'ref', 'sender', 'custodian', 'index', 'expiresAt', 'readers', 'commitments', 'sealed']);
    const readers = o.readers;
    if (!Array.isArray(readers) || readers.length > MAX_READERS) throw bad('readers', `must be an array of at most ${MAX_READERS} node ids`);
    // the shape only; the points are decoded (and checked) where they are used
    const commitments = base64Field(o.commitments, 'commitments');
    const t = commitments[1] ?? 0;
    if (commitments[0] !== COMMITMENTS_VERSION || t < 1 || t > MAX_CUSTODIANS || commitments.length !== commitmentsByteLength(t)) {
      throw bad('commitments', `not encoded Pedersen commitments for a threshold in 1..${MAX_CUSTODIANS}`);
    }
    return {
      op,
      ref: refField(o.ref),
      sender: nodeIdField(o.sender, 'sender'),
      custodian: nodeIdField(o.custodian, 'custodian'),
      index: intField(o.index, 'index', 1, 255),
      expiresAt: intField(o.expiresAt, 'expiresAt', 0, Number.MAX_SAFE_INTEGER),
      readers: [...new Set(readers.map((r: unknown, i) => nodeIdField(r, `readers[${i}]`)))],
      commitments,
      sealed: base64Field(o.sealed, 'sealed', SEALED_SHARE_BYTES),
    };
  }
  if (op === 'release' || op === 'revoke') {
    onlyKeys(o, ['v', 'op', 'ref', 'sender', 'custodian', 'requester', 'time', 'sig']);
    return {
      op,
      ref: refField(o.ref),
      sender: nodeIdField(o.sender, 'sender'),
      custodian: nodeIdField(o.custodian, 'custodian'),
      requester: nodeIdField(o.requester, 'requester'),
      time: intField(o.time, 'time', 0, Number.MAX_SAFE_INTEGER),
      sig: base64Field(o.sig, 'sig', 64),
    };
  }
  throw bad('op', `unknown operation ${JSON.stringify(op)}`);
}

// ── Responses ───────────────────────────────────────────────────────────────

export function encodeDepositResponse(r: DepositResponse): Uint8Array {
  return json({ v: WIRE_VERSION, stored: true, expiresAt: r.expiresAt });
}

export function encodeReleaseResponse(r: ReleaseResponse): Uint8Array {
  return json({ v: WIRE_VERSION, index: r.index, sealed: b64(r.sealed) });
}

export function encodeRevokeResponse(r: RevokeResponse): Uint8Array {
  return json({ v: WIRE_VERSION, deleted: r.deleted });
}

/** @throws CustodyError CUSTODY_BAD_REQUEST naming the field at fault */
export function decodeDepositResponse(bytes: Uint8Array): DepositResponse {
  const o = response(bytes, ['v', 'stored', 'expiresAt']);
  if (o.stored !== true) throw bad('stored', 'must be true');
  return { stored: true, expiresAt: intField(o.expiresAt, 'expiresAt', 0, Number.MAX_SAFE_INTEGER) };
}

/** @throws CustodyError CUSTODY_BAD_REQUEST naming the field at fault */
export function decodeReleaseResponse(bytes: Uint8Array): ReleaseResponse {
  const o = response(bytes, ['v', 'index', 'sealed']);
  return { index: intField(o.index, 'index', 1, 255), sealed: base64Field(o.sealed, 'sealed', SEALED_SHARE_BYTES) };
}

/** @throws CustodyError CUSTODY_BAD_REQUEST naming the field at fault */
export function decodeRevokeResponse(bytes: Uint8Array): RevokeResponse {
  const o = response(bytes, ['v', 'deleted']);
  if (typeof o.deleted !== 'boolean') throw bad('deleted', 'must be a boolean');
  return { deleted: o.deleted };
}

// ── Ticket ──────────────────────────────────────────────────────────────────

/**
 * The binary ticket (layout in the header).
 * @throws CustodyError CUSTODY_BAD_PARAMS for a ticket out of range (field named)
 */
export function encodeTicket(ticket: CustodyTicket): Uint8Array {
  const n = ticket.custodians.length;
  if (ticket.ref.length !== REF_BYTES) throw new CustodyError('CUSTODY_BAD_PARAMS', `must be ${REF_BYTES} bytes`, { field: 'ref' });
  if (n < 1 || n > MAX_CUSTODIANS) throw new CustodyError('CUSTODY_BAD_PARAMS', `1..${MAX_CUSTODIANS} custodians`, { field: 'custodians' });
  if (!Number.isInteger(ticket.t) || ticket.t < 1 || ticket.t > n) throw new CustodyError('CUSTODY_BAD_PARAMS', 'must be in 1..n', { field: 't' });
  if (ticket.commitments.length !== commitmentsByteLength(ticket.t)) throw new CustodyError('CUSTODY_BAD_PARAMS', 'do not match t', { field: 'commitments' });
  if (!Number.isSafeInteger(ticket.expiresAt) || ticket.expiresAt < 0) throw new CustodyError('CUSTODY_BAD_PARAMS', 'must be ms since the epoch', { field: 'expiresAt' });
  return concat([
    Uint8Array.of(TICKET_VERSION), ticket.ref, nodeIdBytes(ticket.sender, 'sender'), u64(ticket.expiresAt), Uint8Array.of(ticket.t, n),
    ...ticket.custodians.map((c, i) => nodeIdBytes(c, `custodians[${i}]`)), ticket.commitments,
  ]);
}

/**
 * Reads a ticket made by encodeTicket.
 * @throws CustodyError CUSTODY_BAD_REQUEST naming the field at fault
 */
export function decodeTicket(bytes: Uint8Array): CustodyTicket {
  const head = 1 + REF_BYTES + 32 + 8 + 2;
  if (bytes.length < head) throw bad('ticket', 'too short');
  if (bytes[0] !== TICKET_VERSION) throw bad('ticket.version', `unknown version ${bytes[0]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const expiresAt = Number(view.getBigUint64(1 + REF_BYTES + 32));
  if (!Number.isSafeInteger(expiresAt)) throw bad('ticket.expiresAt', 'out of range');
  const t = bytes[head - 2]!;
  const n = bytes[head - 1]!;
  if (n < 1 || n > MAX_CUSTODIANS || t < 1 || t > n) throw bad('ticket.t', `t=${t}, n=${n}`);
  if (bytes.length !== head + 32 * n + commitmentsByteLength(t)) throw bad('ticket', 'length does not match t and n');
  const custodians: string[] = [];
  for (let i = 0; i < n; i++) custodians.push(formatNodeId(bytes.slice(head + 32 * i, head + 32 * (i + 1))));
  const commitments = bytes.slice(head + 32 * n);
  try {
    decodeCommitments(commitments);
  } catch (cause) {
    throw bad('ticket.commitments', 'not encoded Pedersen commitments', cause);
  }
  return {
    ref: bytes.slice(1, 1 + REF_BYTES),
    sender: formatNodeId(bytes.slice(1 + REF_BYTES, 1 + REF_BYTES + 32)),
    t,
    custodians,
    commitments,
    expiresAt,
  };
}

// ── Fields ──────────────────────────────────────────────────────────────────

export function refToHex(ref: Uint8Array): string {
  return Buffer.from(ref).toString('hex');
}

function refField(value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw bad('ref', 'must be 64 lowercase hex digits');
  return new Uint8Array(Buffer.from(value, 'hex'));
}

function nodeIdField(value: unknown, field: string): string {
  if (typeof value !== 'string') throw bad(field, 'must be a node id');
  nodeIdBytes(value, field);
  return value;
}

function nodeIdBytes(value: string, field: string): Uint8Array {
  try {
    return parseNodeId(value);
  } catch (cause) {
    if (cause instanceof ValidationError) throw bad(field, 'must be base64 of a 32-byte node id', cause);
    throw cause;
  }
}

function intField(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw bad(field, `must be an integer in ${min}..${max}`);
  return value;
}

function base64Field(value: unknown, field: string, length?: number): Uint8Array {
  if (typeof value !== 'string' || value.length > 16_384) throw bad(field, 'must be base64');
  const raw = Buffer.from(value, 'base64');
  if (raw.toString('base64') !== value) throw bad(field, 'must be canonical base64');
  if (length !== undefined && raw.length !== length) throw bad(field, `must be ${length} bytes`);
  return new Uint8Array(raw);
}

function parseObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw bad(what, 'is not UTF-8 JSON', cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(what, 'must be a JSON object');
  return parsed as Record<string, unknown>;
}

function response(bytes: Uint8Array, keys: readonly string[]): Record<string, unknown> {
  const o = parseObject(bytes, 'response');
  if (o.v !== WIRE_VERSION) throw bad('v', `unsupported version ${JSON.stringify(o.v)}`);
  onlyKeys(o, keys);
  return o;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(k, 'unknown field');
}

function bad(field: string, message: string, cause?: unknown): CustodyError {
  return new CustodyError('CUSTODY_BAD_REQUEST', message, cause === undefined ? { field } : { field, cause });
}

function json(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
