// The custody wire format (custody/wire.ts): requests, responses and tickets
// round-trip; malformed input is CUSTODY_BAD_REQUEST naming its field; the
// signed bytes separate operations.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { CustodyError } from '../../src/custody/errors.ts';
import { encodeCommitments } from '../../src/custody/pedersen.ts';
import { newExpirySecret } from '../../src/custody/session-key.ts';
import { split } from '../../src/custody/shamir.ts';
import type { CustodyTicket } from '../../src/custody/types.ts';
import {
  decodeReleaseResponse, decodeRequest, decodeTicket, encodeReleaseResponse, encodeRequest, encodeTicket, MAX_READERS,
  SEALED_SHARE_BYTES, signingBytes, type DepositRequest, type SignedRequest,
} from '../../src/custody/wire.ts';

const id = (): string => randomBytes(32).toString('base64');
const commitments = encodeCommitments(split(newExpirySecret(), { t: 3, n: 5 }).commitments);

const deposit: DepositRequest = {
  op: 'deposit', ref: new Uint8Array(randomBytes(32)), sender: id(), custodian: id(), index: 2, expiresAt: 1_700_000_000_000,
  readers: [id(), id()], commitments, sealed: new Uint8Array(randomBytes(SEALED_SHARE_BYTES)),
};
const release: SignedRequest = {
  op: 'release', ref: new Uint8Array(randomBytes(32)), sender: id(), custodian: id(), requester: id(), time: 1_700_000_000_000,
  sig: new Uint8Array(randomBytes(64)),
};

function mutate(request: DepositRequest | SignedRequest, change: (o: Record<string, unknown>) => void): Uint8Array {
  const o = JSON.parse(new TextDecoder().decode(encodeRequest(request))) as Record<string, unknown>;
  change(o);
  return new TextEncoder().encode(JSON.stringify(o));
}

function badField(t: import('ava').ExecutionContext, bytes: Uint8Array): string | undefined {
  const err = t.throws(() => decodeRequest(bytes), { instanceOf: CustodyError });
  t.is(err?.code, 'CUSTODY_BAD_REQUEST');
  return err?.field;
}

test('requests and responses round-trip', (t) => {
  t.deepEqual(decodeRequest(encodeRequest(deposit)), deposit);
  t.deepEqual(decodeRequest(encodeRequest(release)), release);
  t.deepEqual(decodeRequest(encodeRequest({ ...release, op: 'revoke' })), { ...release, op: 'revoke' });
  const answer = { index: 4, sealed: new Uint8Array(randomBytes(SEALED_SHARE_BYTES)) };
  t.deepEqual(decodeReleaseResponse(encodeReleaseResponse(answer)), answer);
  t.true(encodeRequest(deposit).length < 2048, 'a deposit with two readers is small');
});

test('malformed requests are CUSTODY_BAD_REQUEST naming the field', (t) => {
  t.is(badField(t, new TextEncoder().encode('not json')), 'request');
  t.is(badField(t, new TextEncoder().encode('[1]')), 'request');
  t.is(badField(t, mutate(release, (o) => { o.v = 2; })), 'v');
  t.is(badField(t, mutate(release, (o) => { o.op = 'steal'; })), 'op');
  t.is(badField(t, mutate(release, (o) => { o.extra = 1; })), 'extra');
  t.is(badField(t, mutate(release, (o) => { o.ref = (o.ref as string).toUpperCase(); })), 'ref');
  t.is(badField(t, mutate(release, (o) => { o.requester = 'AAAA'; })), 'requester');
  t.is(badField(t, mutate(release, (o) => { o.time = 1.5; })), 'time');
  t.is(badField(t, mutate(release, (o) => { o.sig = Buffer.alloc(63).toString('base64'); })), 'sig');
  // the same 64 bytes with a padding bit set: decodes, but is not the canonical spelling
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  t.is(badField(t, mutate(release, (o) => {
    const sig = o.sig as string;
    o.sig = `${sig.slice(0, 85)}${ALPHABET[ALPHABET.indexOf(sig[85]!) ^ 1]}==`;
  })), 'sig');
  t.is(badField(t, mutate(deposit, (o) => { o.sealed = Buffer.alloc(SEALED_SHARE_BYTES + 1).toString('base64'); })), 'sealed');
  t.is(badField(t, mutate(deposit, (o) => { o.index = 0; })), 'index');
  t.is(badField(t, mutate(deposit, (o) => { o.readers = Array.from({ length: MAX_READERS + 1 }, id); })), 'readers');
  t.is(badField(t, mutate(deposit, (o) => { o.readers = ['x']; })), 'readers[0]');
  t.is(badField(t, mutate(deposit, (o) => { o.commitments = Buffer.from([1, 1]).toString('base64'); })), 'commitments');
});

test('signed bytes bind the operation and every field', (t) => {
  const base = signingBytes('release', release);
  t.notDeepEqual(signingBytes('revoke', release), base);
  for (const change of [{ time: release.time + 1 }, { custodian: id() }, { requester: id() }, { sender: id() }, { ref: new Uint8Array(32) }]) {
    t.notDeepEqual(signingBytes('release', { ...release, ...change }), base);
  }
});

test('tickets round-trip in 77 + 32·(n + t) bytes; malformed ones are refused', (t) => {
  const ticket: CustodyTicket = { ref: new Uint8Array(randomBytes(32)), sender: id(), t: 3, custodians: [id(), id(), id(), id(), id()], commitments, expiresAt: 1_700_000_000_000 };
  const bytes = encodeTicket(ticket);
  t.is(bytes.length, 1 + 32 + 32 + 8 + 2 + 5 * 32 + 2 + 3 * 32);
  t.deepEqual(decodeTicket(bytes), ticket);
  t.is(t.throws(() => decodeTicket(bytes.subarray(0, bytes.length - 1)), { instanceOf: CustodyError })?.code, 'CUSTODY_BAD_REQUEST');
  const wrongT = new Uint8Array(bytes);
  wrongT[1 + 32 + 32 + 8] = 6;
  t.is(t.throws(() => decodeTicket(wrongT), { instanceOf: CustodyError })?.field, 'ticket.t');
  t.is(t.throws(() => encodeTicket({ ...ticket, t: 2 }), { instanceOf: CustodyError })?.field, 'commitments');
});
