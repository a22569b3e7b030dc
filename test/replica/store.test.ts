// The replica's records (replica/store.ts) on a real SQLite file: holdings
// per (owner, tag, CID) with reference counting across owners and tags, the
// `adopted` rule (a pin the node had first is never released), quotas checked
// inside the transaction (also across two connections to one file), the
// highest-seq pointer, paging, and everything surviving a reopen.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test, { type ExecutionContext } from 'ava';
import { ReplicaError } from '../../src/replica/errors.ts';
import { openReplicaStore } from '../../src/replica/store.ts';
import type { ReplicaQuota, ReplicaStore } from '../../src/replica/types.ts';
import { cidString, singleBlockCid } from '../../src/storage/layout.ts';
import type { Cid } from '../../src/storage/types.ts';

const cidOf = (n: number): Cid => cidString(singleBlockCid(new TextEncoder().encode(`block ${n}`))!);
const bytes32 = (): Uint8Array => new Uint8Array(randomBytes(32));
const roomy: ReplicaQuota = { maxCidsPerOwner: 1000, maxBytesPerOwner: 1 << 30, maxCids: 10_000 };

async function open(t: ExecutionContext): Promise<{ store: ReplicaStore; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-replica-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'sub', 'replica.db');
  const store = openReplicaStore({ path: file });
  t.teardown(() => store.close());
  return { store, file };
}

function quotaCode(t: ExecutionContext, fn: () => unknown): void {
  const err = t.throws(fn, { instanceOf: ReplicaError });
  t.is(err?.code, 'REPLICA_QUOTA_EXCEEDED');
}

test('holding, status, usage and a repeat', async (t) => {
  const { store } = await open(t);
  const [owner, tag] = [bytes32(), bytes32()];
  t.is(store.hold({ owner, tag, cid: cidOf(1), bytes: 10, adopted: false, at: 1 }, roomy), 'added');
  t.is(store.hold({ owner, tag, cid: cidOf(1), bytes: 10, adopted: false, at: 2 }, roomy), 'present');
  t.is(store.hold({ owner, tag, cid: cidOf(2), bytes: 5, adopted: false, at: 3 }, roomy), 'added');
  t.true(store.holds(owner, tag, cidOf(1)));
  t.false(store.holds(owner, bytes32(), cidOf(1)), 'another tag');
  t.false(store.holds(bytes32(), tag, cidOf(1)), 'another owner');
  t.true(store.known(cidOf(2)));
  t.false(store.known(cidOf(3)));
  t.deepEqual(store.status(owner, tag), { held: 2, bytes: 15, pointer: null });
  t.deepEqual(store.usage(owner), { held: 2, bytes: 15 });
  store.hold({ owner, tag, cid: cidOf(3), bytes: null, adopted: false, at: 4 }, roomy);
  t.deepEqual(store.status(owner, tag), { held: 3, bytes: null, pointer: null }, 'one size unknown: bytes unknown');
  t.deepEqual(store.status(bytes32(), tag), { held: 0, bytes: 0, pointer: null });
});

test('a block is freed only when its last holding goes, and never when adopted', async (t) => {
  const { store } = await open(t);
  const [a, b, tag1, tag2] = [bytes32(), bytes32(), bytes32(), bytes32()];
  store.hold({ owner: a, tag: tag1, cid: cidOf(1), bytes: 1, adopted: false, at: 1 }, roomy);
  store.hold({ owner: a, tag: tag2, cid: cidOf(1), bytes: 1, adopted: true, at: 1 }, roomy); // adopted is read only for the first holding
  store.hold({ owner: b, tag: tag1, cid: cidOf(1), bytes: 1, adopted: false, at: 1 }, roomy);
  t.deepEqual(store.release(a, tag1, [cidOf(1), cidOf(9)]), { removed: [cidOf(1)], kept: [], freed: [] }, 'unknown CIDs are skipped');
  t.deepEqual(store.release(a, tag1, [cidOf(1)]), { removed: [], kept: [], freed: [] }, 'twice is a no-op');
  t.deepEqual(store.release(b, tag1, [cidOf(1)]), { removed: [cidOf(1)], kept: [], freed: [] });
  t.deepEqual(store.release(a, tag2, [cidOf(1)]), { removed: [cidOf(1)], kept: [], freed: [cidOf(1)] }, 'the last one frees it');
  t.false(store.known(cidOf(1)));
  t.deepEqual(store.usage(a), { held: 0, bytes: 0 });

  store.hold({ owner: a, tag: tag1, cid: cidOf(2), bytes: null, adopted: true, at: 1 }, roomy);
  t.deepEqual(store.release(a, tag1, [cidOf(2)]), { removed: [cidOf(2)], kept: [], freed: [] }, 'the node pinned it first: not ours to unpin');
  store.hold({ owner: a, tag: tag1, cid: cidOf(2), bytes: null, adopted: false, at: 1 }, roomy);
  t.deepEqual(store.release(a, tag1, [cidOf(2)]).freed, [cidOf(2)], 'a fresh first holding decides anew');
});

test('quotas: CIDs per owner, bytes per owner, CIDs in all', async (t) => {
  const { store } = await open(t);
  const [a, b, tag] = [bytes32(), bytes32(), bytes32()];
  const quota: ReplicaQuota = { maxCidsPerOwner: 2, maxBytesPerOwner: 100, maxCids: 3 };
  store.hold({ owner: a, tag, cid: cidOf(1), bytes: 60, adopted: false, at: 1 }, quota);
  quotaCode(t, () => store.hold({ owner: a, tag, cid: cidOf(2), bytes: 41, adopted: false, at: 1 }, quota));
  store.hold({ owner: a, tag, cid: cidOf(2), bytes: 40, adopted: false, at: 1 }, quota);
  quotaCode(t, () => store.hold({ owner: a, tag, cid: cidOf(3), bytes: null, adopted: false, at: 1 }, quota));
  t.is(store.hold({ owner: a, tag, cid: cidOf(2), bytes: 40, adopted: false, at: 1 }, quota), 'present', 'a repeat is not a new holding');
  store.hold({ owner: b, tag, cid: cidOf(1), bytes: null, adopted: false, at: 1 }, quota);
  quotaCode(t, () => store.hold({ owner: b, tag, cid: cidOf(4), bytes: null, adopted: false, at: 1 }, quota));
  t.false(store.holds(b, tag, cidOf(4)), 'a refused hold leaves nothing behind');
  t.deepEqual(store.usage(b), { held: 1, bytes: 0 });
  store.release(a, tag, [cidOf(1)]);
  store.hold({ owner: b, tag, cid: cidOf(4), bytes: null, adopted: false, at: 1 }, quota);
  t.pass();
});

test('a quota holds across two connections to one file', async (t) => {
  const { store, file } = await open(t);
  const second = openReplicaStore({ path: file });
  t.teardown(() => second.close());
  const [owner, tag] = [bytes32(), bytes32()];
  const quota: ReplicaQuota = { maxCidsPerOwner: 3, maxBytesPerOwner: 1000, maxCids: 1000 };
  store.hold({ owner, tag, cid: cidOf(1), bytes: null, adopted: false, at: 1 }, quota);
  second.hold({ owner, tag, cid: cidOf(2), bytes: null, adopted: false, at: 1 }, quota);
  store.hold({ owner, tag, cid: cidOf(3), bytes: null, adopted: false, at: 1 }, quota);
  quotaCode(t, () => second.hold({ owner, tag, cid: cidOf(4), bytes: null, adopted: false, at: 1 }, quota));
  t.deepEqual(second.usage(owner), { held: 3, bytes: 0 });
});

test('the pointer keeps the highest seq, needs its block held, and keeps that block from unpin', async (t) => {
  const { store } = await open(t);
  const [owner, tag] = [bytes32(), bytes32()];
  const sig = (n: number): Uint8Array => new Uint8Array(64).fill(n);
  t.throws(() => store.setPointer(owner, tag, { seq: 1, cid: cidOf(1), sig: sig(1) }, 1), { instanceOf: ReplicaError, code: 'REPLICA_BAD_PARAMS' } as never);
  for (const n of [1, 2, 3]) store.hold({ owner, tag, cid: cidOf(n), bytes: null, adopted: false, at: 1 }, roomy);
  t.deepEqual(store.setPointer(owner, tag, { seq: 5, cid: cidOf(1), sig: sig(5) }, 1), { accepted: true, pointer: { seq: 5, cid: cidOf(1), sig: sig(5) } });
  t.deepEqual(store.setPointer(owner, tag, { seq: 3, cid: cidOf(2), sig: sig(3) }, 2), { accepted: false, pointer: { seq: 5, cid: cidOf(1), sig: sig(5) } }, 'older');
  t.false(store.setPointer(owner, tag, { seq: 5, cid: cidOf(2), sig: sig(6) }, 2).accepted, 'same seq, another CID');
  t.true(store.setPointer(owner, tag, { seq: 5, cid: cidOf(1), sig: sig(5) }, 2).accepted, 'the same pointer again');
  t.deepEqual(store.release(owner, tag, [cidOf(1), cidOf(2)]), { removed: [cidOf(2)], kept: [cidOf(1)], freed: [cidOf(2)] });
  t.true(store.setPointer(owner, tag, { seq: 6, cid: cidOf(3), sig: sig(6) }, 3).accepted);
  t.deepEqual(store.pointer(owner, tag), { seq: 6, cid: cidOf(3), sig: sig(6) });
  t.deepEqual(store.release(owner, tag, [cidOf(1)]).removed, [cidOf(1)], 'no longer the pointer: released');
  t.is(store.pointer(bytes32(), tag), null, "another owner's pointer for the same tag is not this one");
});

test('list pages in CID order; everything survives a reopen in WAL mode', async (t) => {
  const { store, file } = await open(t);
  const [owner, tag] = [bytes32(), bytes32()];
  const cids = Array.from({ length: 25 }, (_, i) => cidOf(i));
  for (const cid of cids) store.hold({ owner, tag, cid, bytes: 1, adopted: false, at: 1 }, roomy);
  store.hold({ owner, tag: bytes32(), cid: cidOf(99), bytes: 1, adopted: false, at: 1 }, roomy);
  const seen: Cid[] = [];
  let after: Cid | null = null;
  for (;;) {
    const page = store.list(owner, tag, after, 10);
    seen.push(...page);
    if (page.length < 10) break;
    after = page[page.length - 1]!;
  }
  t.deepEqual(seen, [...cids].sort());
  store.setPointer(owner, tag, { seq: 1, cid: cidOf(0), sig: new Uint8Array(64) }, 1);
  store.close();

  const db = new DatabaseSync(file);
  t.is((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  db.close();
  const again = openReplicaStore({ path: file });
  t.teardown(() => again.close());
  t.deepEqual(again.status(owner, tag), { held: 25, bytes: 25, pointer: { seq: 1, cid: cidOf(0), sig: new Uint8Array(64) } });
  t.deepEqual(again.usage(owner), { held: 26, bytes: 26 });
});
