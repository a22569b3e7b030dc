// The replica wire format (replica/wire.ts): requests and answers round-trip;
// malformed input is REPLICA_BAD_REQUEST (requests) or REPLICA_BAD_RESPONSE
// (answers) naming its field; CIDs must be canonical; the pointer's signed
// bytes bind owner, tag, seq and CID.
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { ReplicaError } from '../../src/replica/errors.ts';
import {
  decodeLatestAnswer, decodeListAnswer, decodePinAnswer, decodePointerAnswer, decodeRequest, decodeStatusAnswer, decodeUnpinAnswer,
  encodeLatestAnswer, encodeListAnswer, encodePinAnswer, encodePointerAnswer, encodeRequest, encodeStatusAnswer, encodeUnpinAnswer,
  MAX_CIDS_PER_REQUEST, MAX_LIST_LIMIT, pointerSigningBytes, type ReplicaRequest,
} from '../../src/replica/wire.ts';
import { cidString, singleBlockCid } from '../../src/storage/layout.ts';
import type { Cid } from '../../src/storage/types.ts';

const cidOf = (n: number): Cid => cidString(singleBlockCid(new TextEncoder().encode(`block ${n}`))!);
const tag = new Uint8Array(randomBytes(32));
const sig = new Uint8Array(randomBytes(64));
const pointer = { seq: 7, cid: cidOf(0), sig };

const requests: ReplicaRequest[] = [
  { op: 'pin', tag, cids: [cidOf(1), cidOf(2)], waitMs: 1500 },
  { op: 'unpin', tag, cids: [cidOf(3)] },
  { op: 'pointer', tag, pointer, waitMs: 10 },
  { op: 'status', tag },
  { op: 'latest', tag },
  { op: 'list', tag, after: null, limit: 5 },
  { op: 'list', tag, after: cidOf(4), limit: MAX_LIST_LIMIT },
];

function mutate(request: ReplicaRequest, change: (o: Record<string, unknown>) => void): Uint8Array {
  const o = JSON.parse(new TextDecoder().decode(encodeRequest(request))) as Record<string, unknown>;
  change(o);
  return new TextEncoder().encode(JSON.stringify(o));
}

function badRequest(t: ExecutionContext, bytes: Uint8Array): string | undefined {
  const err = t.throws(() => decodeRequest(bytes), { instanceOf: ReplicaError });
  t.is(err?.code, 'REPLICA_BAD_REQUEST');
  return err?.field;
}

test('every request round-trips', (t) => {
  for (const request of requests) t.deepEqual(decodeRequest(encodeRequest(request)), request, request.op);
});

test('answers round-trip', (t) => {
  const pin = { held: [cidOf(1)], failed: [{ cid: cidOf(2), code: 'REPLICA_FETCH_TIMEOUT' }] };
  t.deepEqual(decodePinAnswer(encodePinAnswer(pin)), pin);
  const unpin = { removed: [cidOf(1)], kept: [cidOf(0)] };
  t.deepEqual(decodeUnpinAnswer(encodeUnpinAnswer(unpin)), unpin);
  t.deepEqual(decodePointerAnswer(encodePointerAnswer({ accepted: false, pointer })), { accepted: false, pointer });
  t.deepEqual(decodeStatusAnswer(encodeStatusAnswer({ held: 3, bytes: null, pointer: null })), { held: 3, bytes: null, pointer: null });
  t.deepEqual(decodeStatusAnswer(encodeStatusAnswer({ held: 3, bytes: 99, pointer })), { held: 3, bytes: 99, pointer });
  t.deepEqual(decodeLatestAnswer(encodeLatestAnswer(pointer)), pointer);
  t.deepEqual(decodeListAnswer(encodeListAnswer({ cids: [cidOf(1)], next: cidOf(1) })), { cids: [cidOf(1)], next: cidOf(1) });
});

test('a CID repeated in one request counts once', (t) => {
  const decoded = decodeRequest(encodeRequest({ op: 'pin', tag, cids: [cidOf(1), cidOf(1), cidOf(2)], waitMs: 1 }));
  t.deepEqual(decoded.op === 'pin' ? decoded.cids : [], [cidOf(1), cidOf(2)]);
});

test('malformed requests are REPLICA_BAD_REQUEST naming the field', (t) => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const pin = requests[0]!;
  t.is(badRequest(t, enc('not json')), 'request');
  t.is(badRequest(t, Uint8Array.of(0xff, 0xfe)), 'request');
  t.is(badRequest(t, enc('[1]')), 'request');
  t.is(badRequest(t, mutate(pin, (o) => { o.v = 2; })), 'v');
  t.is(badRequest(t, mutate(pin, (o) => { o.op = 'delete'; })), 'op');
  t.is(badRequest(t, mutate(pin, (o) => { o.owner = 'me'; })), 'owner', 'the owner is never a field');
  t.is(badRequest(t, mutate(pin, (o) => { o.tag = 'AB'.repeat(32); })), 'tag', 'upper-case hex');
  t.is(badRequest(t, mutate(pin, (o) => { o.tag = 'ab'.repeat(31); })), 'tag');
  t.is(badRequest(t, mutate(pin, (o) => { o.cids = []; })), 'cids');
  t.is(badRequest(t, mutate(pin, (o) => { o.cids = Array.from({ length: MAX_CIDS_PER_REQUEST + 1 }, (_, i) => cidOf(i)); })), 'cids');
  t.is(badRequest(t, mutate(pin, (o) => { o.cids = [cidOf(1), 'bafynotacid']; })), 'cids[1]');
  t.is(badRequest(t, mutate(pin, (o) => { o.cids = [cidOf(1).toUpperCase()]; })), 'cids[0]', 'not the canonical spelling');
  // CIDv0 of a dag-pb block: parses, but is not the canonical v1 base32 form
  t.is(badRequest(t, mutate(pin, (o) => { o.cids = ['QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG']; })), 'cids[0]');
  t.is(badRequest(t, mutate(pin, (o) => { o.waitMs = 0; })), 'waitMs');
  t.is(badRequest(t, mutate(pin, (o) => { o.waitMs = 1.5; })), 'waitMs');
  t.is(badRequest(t, mutate(requests[2]!, (o) => { o.seq = -1; })), 'seq');
  t.is(badRequest(t, mutate(requests[2]!, (o) => { o.sig = Buffer.from(randomBytes(63)).toString('base64'); })), 'sig');
  t.is(badRequest(t, mutate(requests[5]!, (o) => { o.limit = MAX_LIST_LIMIT + 1; })), 'limit');
  t.is(badRequest(t, mutate(requests[5]!, (o) => { o.after = 42; })), 'after');
});

test('malformed answers are REPLICA_BAD_RESPONSE naming the field', (t) => {
  const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
  const bad = (fn: () => unknown): string | undefined => {
    const err = t.throws(fn, { instanceOf: ReplicaError });
    t.is(err?.code, 'REPLICA_BAD_RESPONSE');
    return err?.field;
  };
  t.is(bad(() => decodePinAnswer(enc({ v: 1, held: [], failed: [{ cid: cidOf(1), code: 'lower case' }] }))), 'failed[0].code');
  t.is(bad(() => decodePinAnswer(enc({ v: 1, held: ['x'], failed: [] }))), 'held[0]');
  t.is(bad(() => decodeStatusAnswer(enc({ v: 1, held: -1, bytes: null, pointer: null }))), 'held');
  t.is(bad(() => decodeLatestAnswer(enc({ v: 1, pointer: { seq: 1, cid: cidOf(1), sig: 'AA==' } }))), 'pointer.sig');
  t.is(bad(() => decodeLatestAnswer(enc({ v: 1, pointer: { ...JSON.parse(new TextDecoder().decode(encodeLatestAnswer(pointer))).pointer, extra: 1 } }))), 'pointer.extra');
  t.is(bad(() => decodeListAnswer(enc({ v: 1, cids: [], next: 'nope' }))), 'next');
  t.is(bad(() => decodeUnpinAnswer(enc({ v: 1, removed: [] }))), 'kept');
});

test('the signed bytes of a pointer bind owner, tag, seq and CID', (t) => {
  const owner = new Uint8Array(randomBytes(32));
  const base = Buffer.from(pointerSigningBytes(owner, tag, 7, cidOf(0)));
  t.true(base.subarray(0, 28).equals(Buffer.from('sealpost/replica/pointer/v1\0', 'latin1')));
  const other = new Uint8Array(randomBytes(32));
  for (const variant of [
    pointerSigningBytes(other, tag, 7, cidOf(0)),
    pointerSigningBytes(owner, other, 7, cidOf(0)),
    pointerSigningBytes(owner, tag, 8, cidOf(0)),
    pointerSigningBytes(owner, tag, 7, cidOf(1)),
  ]) t.false(base.equals(Buffer.from(variant)));
});
