// The replica's limits and bookkeeping under load (replica/service.ts) on real
// libp2p nodes with real Helia storage and replica.db: quotas per owner
// (CIDs, bytes) refuse without harming other owners and leave no stray pins;
// blocks nobody has fail with FETCH_TIMEOUT or FETCH_FAILED; a fetch that
// outlives its request is still recorded; a CID two owners hold, or that the
// node pinned for itself, survives one owner's unpin; too many requests at
// once get BUSY.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { parseNodeId } from '../../src/registry/records.ts';
import { cidString, singleBlockCid } from '../../src/storage/layout.ts';
import type { Cid } from '../../src/storage/types.ts';
import { decodePinAnswer, decodeStatusAnswer, decodeUnpinAnswer, pointerSigningBytes } from '../../src/replica/wire.ts';
import { ask, eventually, randomObject, refusal, startCluster } from './cluster.ts';

/** A CID of bytes no node has. */
const nowhere = (): Cid => cidString(singleBlockCid(new Uint8Array(randomBytes(64)))!);

test('quotas per owner: CIDs and bytes refuse the excess, leave no stray pin, and leave other owners alone', async (t) => {
  const c = await startCluster(t, { names: ['owner', 'r1', 'other'], k: 1, limits: { maxCidsPerOwner: 3, maxBytesPerOwner: 1_000 } });
  const [owner, r1, other] = [c.node('owner'), c.node('r1'), c.node('other')];
  const tag = new Uint8Array(randomBytes(32));
  const cids = [await owner.storage.put(randomObject(100)), await owner.storage.put(randomObject(100)), await owner.storage.put(randomObject(100)), await owner.storage.put(randomObject(100))];

  const answer = decodePinAnswer(await ask(owner, r1, { op: 'pin', tag, cids, waitMs: 5_000 }));
  t.is(answer.held.length, 3);
  t.deepEqual(answer.failed.map((f) => f.code), ['REPLICA_QUOTA_EXCEEDED']);
  const refused = answer.failed[0]!.cid;
  t.false(await r1.storage.has(refused), 'refused before fetching: the owner\'s in-flight CIDs count');
  t.deepEqual(r1.store.usage(parseNodeId(owner.nodeId)), { held: 3, bytes: 300 });

  // a pointer to a fourth CID is refused as a whole
  const snapshot = await owner.storage.put(randomObject(50));
  const owner32 = parseNodeId(owner.nodeId);
  const pointer = { seq: 1, cid: snapshot, sig: owner.identity.ed25519.sign(pointerSigningBytes(owner32, tag, 1, snapshot)) };
  t.is(await refusal(t, ask(owner, r1, { op: 'pointer', tag, pointer, waitMs: 5_000 })), 'REPLICA_QUOTA_EXCEEDED');

  // another owner is not affected; its byte quota is its own
  const otherCid = await other.storage.put(randomObject(900));
  t.deepEqual(decodePinAnswer(await ask(other, r1, { op: 'pin', tag, cids: [otherCid], waitMs: 5_000 })).held, [otherCid]);
  const tooBig = await other.storage.put(randomObject(200));
  t.deepEqual(decodePinAnswer(await ask(other, r1, { op: 'pin', tag, cids: [tooBig], waitMs: 5_000 })).failed, [{ cid: tooBig, code: 'REPLICA_QUOTA_EXCEEDED' }]);
  t.false(await r1.storage.isPinned(tooBig), 'fetched, found too big, and unpinned again');

  // room again after an unpin
  t.deepEqual(decodeUnpinAnswer(await ask(owner, r1, { op: 'unpin', tag, cids: [cids[0]!] })).removed, [cids[0]!]);
  t.deepEqual((await owner.client.replicate(tag, [refused]))[0]?.held, [refused]);
});

test('blocks nobody has: FETCH_TIMEOUT within the wait, FETCH_FAILED when storage gives up; nothing is recorded', async (t) => {
  const c = await startCluster(t, { names: ['owner', 'r1'], k: 1, fetchTimeoutMs: 2_000 });
  const [owner, r1] = [c.node('owner'), c.node('r1')];
  const tag = new Uint8Array(randomBytes(32));
  const [a, b] = [nowhere(), nowhere()];
  await ask(owner, r1, { op: 'status', tag }); // connected first: the time below is the replica's alone
  const started = Date.now();
  t.deepEqual(decodePinAnswer(await ask(owner, r1, { op: 'pin', tag, cids: [a], waitMs: 300 })).failed, [{ cid: a, code: 'REPLICA_FETCH_TIMEOUT' }]);
  t.true(Date.now() - started < 1_500, 'answered at the wait, not at the storage timeout');
  const [result] = await owner.client.replicate(tag, [b]);
  t.deepEqual(result?.failed, [{ cid: b, code: 'REPLICA_FETCH_FAILED' }]);

  const pointer = { seq: 1, cid: b, sig: owner.identity.ed25519.sign(pointerSigningBytes(parseNodeId(owner.nodeId), tag, 1, b)) };
  t.is(await refusal(t, ask(owner, r1, { op: 'pointer', tag, pointer, waitMs: 5_000 })), 'REPLICA_FETCH_FAILED');
  t.is(await refusal(t, ask(owner, r1, { op: 'latest', tag })), 'REPLICA_NOT_FOUND', 'no pointer without its block');
  await new Promise((resolve) => setTimeout(resolve, 2_200)); // the timed-out fetch of `a` ends too
  t.deepEqual(decodeStatusAnswer(await ask(owner, r1, { op: 'status', tag })), { held: 0, bytes: 0, pointer: null });
  t.false(await r1.storage.isPinned(a));
});

test('a fetch that outlives its request is recorded when it lands', async (t) => {
  const c = await startCluster(t, { names: ['owner', 'r1'], k: 1 });
  const [owner, r1] = [c.node('owner'), c.node('r1')];
  const tag = new Uint8Array(randomBytes(32));
  const cids = await Promise.all(Array.from({ length: 12 }, () => owner.storage.put(randomObject(300_000))));
  const answer = decodePinAnswer(await ask(owner, r1, { op: 'pin', tag, cids, waitMs: 1 }));
  t.is(answer.held.length + answer.failed.length, cids.length);
  t.true(answer.failed.every((f) => f.code === 'REPLICA_FETCH_TIMEOUT'));
  t.true(answer.failed.length > 0, 'one millisecond is too short for twelve fetches');
  // the fetches already started finish and are recorded; those still queued were never begun
  const owner32 = parseNodeId(owner.nodeId);
  t.true(await eventually(() => r1.store.status(owner32, tag).held > answer.held.length), 'late fetches recorded');
  // asking again completes the rest
  const again = decodePinAnswer(await ask(owner, r1, { op: 'pin', tag, cids, waitMs: 10_000 }));
  t.is(again.held.length, cids.length);
  for (const cid of cids) t.true(await r1.storage.isPinned(cid));

  // a holding whose storage pin went missing is pinned again, not just answered "held"
  await r1.storage.unpin(cids[0]!);
  t.deepEqual(decodePinAnswer(await ask(owner, r1, { op: 'pin', tag, cids: [cids[0]!], waitMs: 5_000 })).held, [cids[0]!]);
  t.true(await r1.storage.isPinned(cids[0]!));
});

test('a CID held by two owners, or pinned by the node itself, survives one owner\'s unpin', async (t) => {
  const c = await startCluster(t, { names: ['a', 'b', 'r1'], k: 1 });
  const [a, b, r1] = [c.node('a'), c.node('b'), c.node('r1')];
  const [tagA, tagB] = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))];
  const shared = randomObject(700);
  const cid = await a.storage.put(shared);
  t.deepEqual(decodePinAnswer(await ask(a, r1, { op: 'pin', tag: tagA, cids: [cid], waitMs: 5_000 })).held, [cid]);
  t.deepEqual(decodePinAnswer(await ask(b, r1, { op: 'pin', tag: tagB, cids: [cid], waitMs: 5_000 })).held, [cid], 'b need not have it: r1 does');
  t.deepEqual(decodePinAnswer(await ask(a, r1, { op: 'pin', tag: tagB, cids: [cid], waitMs: 5_000 })).held, [cid], 'a second tag of a');
  await ask(a, r1, { op: 'unpin', tag: tagA, cids: [cid] });
  await ask(a, r1, { op: 'unpin', tag: tagB, cids: [cid] });
  t.true(await r1.storage.isPinned(cid), 'b still holds it');
  await ask(b, r1, { op: 'unpin', tag: tagB, cids: [cid] });
  t.false(await r1.storage.isPinned(cid), 'nobody holds it');

  // the node's own mail: pinned before any replica holding, never unpinned by one
  const own = randomObject(600);
  const ownCid = await r1.storage.put(own);
  await a.storage.put(own);
  t.deepEqual(decodePinAnswer(await ask(a, r1, { op: 'pin', tag: tagA, cids: [ownCid], waitMs: 5_000 })).held, [ownCid]);
  await ask(a, r1, { op: 'unpin', tag: tagA, cids: [ownCid] });
  t.true(await r1.storage.isPinned(ownCid));
});

test('more requests at once than the replica serves get BUSY', async (t) => {
  const c = await startCluster(t, { names: ['owner', 'r1'], k: 1, limits: { maxConcurrent: 1 } });
  const [owner, r1] = [c.node('owner'), c.node('r1')];
  const tag = new Uint8Array(randomBytes(32));
  await ask(owner, r1, { op: 'status', tag }); // the connection is up before the race: no dial in between
  const slow = ask(owner, r1, { op: 'pin', tag, cids: [nowhere()], waitMs: 2_000 });
  slow.catch(() => undefined); // awaited below; a failure before then is not unhandled
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(await refusal(t, ask(owner, r1, { op: 'status', tag })), 'BUSY');
  t.is(decodePinAnswer(await slow).failed[0]?.code, 'REPLICA_FETCH_TIMEOUT');
  t.is(decodeStatusAnswer(await ask(owner, r1, { op: 'status', tag })).held, 0, 'served again once the first is done');
});
