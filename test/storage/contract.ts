// The BlockStorage contract (src/storage/types.ts), run against every backend:
// the memory double (memory.test.ts) and Helia on disk (helia.test.ts).
// Round trips, CID form (CIDv1 base32, UnixFS raw leaves in 1 MiB chunks),
// pins, and the integrity rule: a damaged block is BLOCK_CORRUPT, a missing
// one BLOCK_NOT_FOUND, never wrong bytes. Errors are checked by `code`.
import { createHash, randomBytes } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import type { BlockStorage, Cid } from '../../src/storage/types.ts';

export interface StorageHarness {
  storage: BlockStorage;
  /** damages the stored block named `cid` (root or leaf) so that its bytes no longer hash to it */
  corrupt(cid: Cid): Promise<void>;
  /** deletes the stored block named `cid` (root or leaf) */
  remove(cid: Cid): Promise<void>;
  cleanup(): Promise<void>;
}

export interface OpenOptions {
  maxObjectSize?: number;
}

/** Objects are cut into raw leaves of this size (storage/layout.ts); changing it changes every CID. */
export const CHUNK = 1024 * 1024;

/** Random bytes as a plain Uint8Array (ava's deepEqual tells Buffer from Uint8Array). */
export function bytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

/** The CID of a raw leaf holding exactly `data`, computed independently of the backends. */
export function rawCid(data: Uint8Array): Cid {
  const digest = createDigest(0x12, createHash('sha256').update(data).digest());
  return CID.create(1, raw.code, digest).toString(base32) as Cid;
}

const code = (c: string) => ({ code: c });

/**
 * Asserts equal bytes. Cheaper than t.deepEqual, which takes seconds on a
 * few MiB; also insists on a plain Uint8Array result.
 */
export function sameBytes(t: ExecutionContext, actual: Uint8Array, expected: Uint8Array, message?: string): void {
  t.true(actual instanceof Uint8Array, message);
  t.is(actual.byteLength, expected.byteLength, message);
  t.true(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected), message);
}

export function storageContract(test: TestFn, name: string, open: (options?: OpenOptions) => Promise<StorageHarness>): void {
  const setup = async (t: ExecutionContext, options?: OpenOptions): Promise<StorageHarness> => {
    const h = await open(options);
    t.teardown(async () => {
      await h.storage.close();
      await h.cleanup();
    });
    return h;
  };

  test(`${name}: put/get round trip of empty, small and multi-block objects`, async (t) => {
    const { storage } = await setup(t);
    const empty = new Uint8Array(0);
    const small = bytes(20_000);
    const large = bytes(3 * CHUNK + 12_345);
    const [e, s, l] = [await storage.put(empty), await storage.put(small), await storage.put(large)];
    sameBytes(t, await storage.get(e), empty);
    sameBytes(t, await storage.get(s), small);
    sameBytes(t, await storage.get(l), large);
    // The empty object is the well-known empty raw block.
    t.is<string, string>(e, 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
  });

  test(`${name}: putMany stores each object as put would, pinned, CIDs in order`, async (t) => {
    const { storage } = await setup(t);
    const small = bytes(10);
    const objects = [small, bytes(20_000), bytes(2 * CHUNK + 3), small.slice()];
    const cids = await storage.putMany(objects);
    t.is(cids.length, 4);
    t.is(cids[0], cids[3], 'same bytes, same CID');
    for (const [i, cid] of cids.entries()) {
      sameBytes(t, await storage.get(cid), objects[i] as Uint8Array);
      t.true(await storage.isPinned(cid));
      t.is(cid, await storage.put(objects[i] as Uint8Array), 'the CID put gives');
    }
    t.deepEqual(await storage.putMany([]), []);
    await storage.unpin(cids[1] as Cid);
    await storage.pinMany([cids[1] as Cid, cids[2] as Cid]);
    t.true(await storage.isPinned(cids[1] as Cid));
    await t.throwsAsync(storage.pinMany([rawCid(bytes(33))]), { code: 'BLOCK_NOT_FOUND' });
  });

  test(`${name}: CIDs are CIDv1 base32, a single raw block up to one chunk, dag-pb above`, async (t) => {
    const { storage } = await setup(t);
    const small = bytes(100);
    const chunk = bytes(CHUNK);
    const large = bytes(CHUNK + 1);
    const s = await storage.put(small);
    const c = await storage.put(chunk);
    const l = await storage.put(large);
    for (const cid of [s, c, l]) {
      const parsed = CID.parse(cid);
      t.is(parsed.version, 1);
      t.is(parsed.toString(base32), cid);
      t.regex(cid, /^b[a-z2-7]+$/);
    }
    t.is(s, rawCid(small));
    t.is(c, rawCid(chunk));
    t.regex(s, /^bafk/);
    t.regex(l, /^bafy/);
    t.is(CID.parse(l).code, 0x70);
  });

  test(`${name}: same bytes give the same CID, other bytes another`, async (t) => {
    const { storage } = await setup(t);
    const data = bytes(5000);
    const a = await storage.put(data);
    const b = await storage.put(data.slice());
    t.is(a, b);
    const other = data.slice();
    other[4999] = (other[4999] ?? 0) ^ 1;
    t.not(await storage.put(other), a);
    sameBytes(t, await storage.get(a), data);
  });

  test(`${name}: stored bytes are independent of caller buffers`, async (t) => {
    const { storage } = await setup(t);
    const data = bytes(300);
    const copy = data.slice();
    const cid = await storage.put(data);
    data.fill(0);
    const first = await storage.get(cid);
    sameBytes(t, first, copy);
    first.fill(1);
    sameBytes(t, await storage.get(cid), copy);
  });

  test(`${name}: concurrent puts, some of identical bytes, all come back pinned`, async (t) => {
    const { storage } = await setup(t);
    const shared = bytes(2000);
    const inputs = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? shared : bytes(1000 + i)));
    const cids = await Promise.all(inputs.map((d) => storage.put(d)));
    t.is(new Set(cids).size, 17);
    for (const [i, input] of inputs.entries()) {
      const cid = cids[i] as Cid;
      sameBytes(t, await storage.get(cid), input);
      t.true(await storage.isPinned(cid));
    }
  });

  test(`${name}: has, pin, unpin and isPinned`, async (t) => {
    const { storage } = await setup(t);
    const small = await storage.put(bytes(1000));
    const large = await storage.put(bytes(2 * CHUNK + 7));
    for (const cid of [small, large]) {
      t.true(await storage.has(cid));
      t.true(await storage.isPinned(cid), 'put pins');
      await storage.unpin(cid);
      t.false(await storage.isPinned(cid));
      await storage.unpin(cid); // idempotent
      t.false(await storage.isPinned(cid));
      t.true(await storage.has(cid), 'unpinning does not delete');
      await storage.pin(cid);
      await storage.pin(cid); // idempotent
      t.true(await storage.isPinned(cid));
      await storage.unpin(cid);
      t.false(await storage.isPinned(cid), 'one unpin undoes repeated pins');
    }
    const unknown = rawCid(bytes(10));
    t.false(await storage.has(unknown));
    t.false(await storage.isPinned(unknown));
    await storage.unpin(unknown); // unknown CIDs are ignored
    await t.throwsAsync(storage.pin(unknown), code('BLOCK_NOT_FOUND'));
  });

  test(`${name}: get of an unknown CID is BLOCK_NOT_FOUND`, async (t) => {
    const { storage } = await setup(t);
    const unknown = rawCid(bytes(10));
    const err = await t.throwsAsync(storage.get(unknown), code('BLOCK_NOT_FOUND'));
    t.is((err as { cid?: string } | undefined)?.cid, unknown);
  });

  test(`${name}: a corrupted block is BLOCK_CORRUPT, never wrong bytes`, async (t) => {
    const h = await setup(t);
    const small = bytes(20_000);
    const s = await h.storage.put(small);
    await h.corrupt(s);
    const err = await t.throwsAsync(h.storage.get(s), code('BLOCK_CORRUPT'));
    t.is((err as { cid?: string } | undefined)?.cid, s);
    t.is(err?.name, 'BlockCorruptError');

    // A damaged leaf of a multi-block object, and a damaged root.
    const large = bytes(3 * CHUNK);
    const l = await h.storage.put(large);
    const leaf = rawCid(large.subarray(CHUNK, 2 * CHUNK));
    await h.corrupt(leaf);
    const leafErr = await t.throwsAsync(h.storage.get(l), code('BLOCK_CORRUPT'));
    t.is((leafErr as { cid?: string } | undefined)?.cid, leaf);
    const other = await h.storage.put(bytes(CHUNK + 10));
    await h.corrupt(other);
    await t.throwsAsync(h.storage.get(other), code('BLOCK_CORRUPT'));
    t.false(await h.storage.has(other), 'a damaged interior node hides the rest of the object');
  });

  test(`${name}: a missing block is BLOCK_NOT_FOUND and has() turns false`, async (t) => {
    const h = await setup(t);
    const s = await h.storage.put(bytes(500));
    await h.remove(s);
    await t.throwsAsync(h.storage.get(s), code('BLOCK_NOT_FOUND'));
    t.false(await h.storage.has(s));

    const large = bytes(2 * CHUNK + 1);
    const l = await h.storage.put(large);
    await h.remove(rawCid(large.subarray(2 * CHUNK)));
    t.false(await h.storage.has(l), 'has() checks every block');
    await t.throwsAsync(h.storage.get(l), code('BLOCK_NOT_FOUND'));
  });

  test(`${name}: invalid CIDs are INVALID naming the cid field`, async (t) => {
    const { storage } = await setup(t);
    const dagCbor = CID.create(1, 0x71, createDigest(0x12, new Uint8Array(32))).toString();
    const bad = ['', 'not-a-cid', 'bafy!!!', 'Qm', dagCbor] as Cid[];
    const ops: Record<string, (cid: Cid) => Promise<unknown>> = {
      get: (cid) => storage.get(cid),
      has: (cid) => storage.has(cid),
      pin: (cid) => storage.pin(cid),
      unpin: (cid) => storage.unpin(cid),
      isPinned: (cid) => storage.isPinned(cid),
    };
    for (const cid of bad) {
      for (const [opName, op] of Object.entries(ops)) {
        const err = await t.throwsAsync(op(cid), code('INVALID'), `${opName}(${cid})`);
        t.is((err as { field?: string } | undefined)?.field, 'cid');
      }
    }
  });

  test(`${name}: objects over maxObjectSize are LIMIT`, async (t) => {
    const { storage } = await setup(t, { maxObjectSize: 4096 });
    await t.throwsAsync(storage.put(bytes(4097)), code('LIMIT'));
    const cid = await storage.put(bytes(4096));
    t.true(await storage.has(cid));
  });
}
