// The canonical record encoding and its leaf hash: byte-exact encoding (a
// fixed vector, so a change of format cannot slip in unnoticed), field
// validation by field name, and a decode that gives altered records back as
// they are.
import { createHash } from 'node:crypto';
import test from 'ava';
import { decodeRecord, encodeRecord, leafHash, validateRecord } from '../../src/ledger/record.ts';
import type { LedgerRecord } from '../../src/ledger/types.ts';

const RECORD: LedgerRecord = {
  cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
  messageHash: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
  sender: '0123456789ABCDEF0123456789ABCDEF01234567',
  time: 1764067200000,
  expires: null,
};

const ENCODED =
  '{"v":1,"cid":"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",' +
  '"messageHash":"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",' +
  '"sender":"0123456789ABCDEF0123456789ABCDEF01234567","time":1764067200000,"expires":null}';

test('canonical encoding: fixed key order and version, whatever the input key order or extra fields', (t) => {
  t.is(encodeRecord(RECORD), ENCODED);
  const shuffled = { expires: null, time: RECORD.time, sender: RECORD.sender, extra: 'ignored', messageHash: RECORD.messageHash, cid: RECORD.cid };
  t.is(encodeRecord(shuffled as LedgerRecord), ENCODED);
  t.is(encodeRecord({ ...RECORD, expires: 1764153600000 }), ENCODED.replace('"expires":null', '"expires":1764153600000'));
  t.deepEqual(decodeRecord(ENCODED), RECORD);
});

test('leaf hash is SHA-256(0x00 || canonical encoding) (RFC 6962 §2.1)', (t) => {
  const expected = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(ENCODED)])).digest('hex');
  t.is(leafHash(RECORD), expected);
  t.not(leafHash({ ...RECORD, time: RECORD.time + 1 }), expected);
  t.regex(leafHash(RECORD), /^[0-9a-f]{64}$/);
});

test('v6 fingerprints (64 hex digits) are accepted', (t) => {
  t.notThrows(() => validateRecord({ ...RECORD, sender: 'AB'.repeat(32) }));
});

const INVALID: [string, Partial<Record<keyof LedgerRecord, unknown>>][] = [
  ['cid', { cid: '' }],
  ['cid', { cid: 'b'.repeat(201) }],
  ['cid', { cid: 'bafy with space' }],
  ['cid', { cid: 'bafyé' }],
  ['cid', { cid: 42 }],
  ['messageHash', { messageHash: RECORD.messageHash.toUpperCase() }],
  ['messageHash', { messageHash: RECORD.messageHash.slice(1) }],
  ['messageHash', { messageHash: `0x${RECORD.messageHash.slice(2)}` }],
  ['sender', { sender: RECORD.sender.toLowerCase() }],
  ['sender', { sender: RECORD.sender.slice(2) }],
  ['sender', { sender: `${RECORD.sender}00` }],
  ['time', { time: 1.5 }],
  ['time', { time: -1 }],
  ['time', { time: '1764067200000' }],
  ['time', { time: Number.MAX_SAFE_INTEGER + 1 }],
  ['time', { time: Number.NaN }],
  ['expires', { expires: 1.5 }],
  ['expires', { expires: undefined }],
  ['expires', { expires: '0' }],
];

test('invalid records throw ValidationError naming the field', (t) => {
  t.notThrows(() => validateRecord({ ...RECORD, cid: 'b'.repeat(200) }));
  for (const [field, change] of INVALID) {
    const err = t.throws(() => validateRecord({ ...RECORD, ...change }), undefined, `${field} ${JSON.stringify(change)}`) as { code?: string; field?: string };
    t.is(err.code, 'INVALID');
    t.is(err.field, field, JSON.stringify(change));
  }
  for (const bad of [null, 'record', [RECORD]]) t.is((t.throws(() => validateRecord(bad)) as { field?: string }).field, 'record');
  t.is((t.throws(() => leafHash({ ...RECORD, sender: '' })) as { field?: string }).field, 'sender');
});

test('decode gives an altered record back unvalidated; refuses non-JSON and unknown versions', (t) => {
  const altered = ENCODED.replace('"time":1764067200000', '"time":"later"');
  t.is(decodeRecord(altered).time as unknown, 'later');
  t.is((t.throws(() => decodeRecord('{"v":1,')) as { field?: string }).field, 'record');
  t.is((t.throws(() => decodeRecord('[]')) as { field?: string }).field, 'record');
  t.is((t.throws(() => decodeRecord(ENCODED.replace('"v":1', '"v":2'))) as { field?: string }).field, 'v');
});
