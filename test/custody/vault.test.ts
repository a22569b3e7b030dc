// The custodian's share store (custody/vault.ts) on a real SQLite file:
// limits, tombstones that keep a deleted share deleted, receipts owed and
// recorded, and deletion that leaves no copy of the sealed bytes in the file
// or its write-ahead log.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { CustodyError } from '../../src/custody/errors.ts';
import type { StoredShare } from '../../src/custody/types.ts';
import { openCustodyVault } from '../../src/custody/vault.ts';
import { SEALED_SHARE_BYTES } from '../../src/custody/wire.ts';

const id = (): string => randomBytes(32).toString('base64');
const SENDER = id();

function share(overrides: Partial<StoredShare> = {}): StoredShare {
  return {
    ref: new Uint8Array(randomBytes(32)), sender: SENDER, index: 1, sealed: new Uint8Array(randomBytes(SEALED_SHARE_BYTES)),
    readers: [id(), id()], expiresAt: 2_000, depositedAt: 1_000, ...overrides,
  };
}

async function dbFile(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-vault-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'custody.db');
}

async function onDisk(file: string): Promise<{ includes(bytes: Uint8Array): boolean }> {
  const all = Buffer.concat(await Promise.all([file, `${file}-wal`].map((f) => readFile(f).catch(() => Buffer.alloc(0)))));
  return { includes: (bytes) => all.indexOf(Buffer.from(bytes)) !== -1 };
}

test('a share is stored, read back whole, replaced by its sender, and survives reopening', async (t) => {
  const file = await dbFile(t);
  const vault = openCustodyVault({ path: file });
  const s = share();
  t.is(vault.put(s), 'stored');
  t.deepEqual(vault.get(s.ref, s.sender), s);
  t.is(vault.get(s.ref, id()), null, 'shares are per (ref, sender)');
  const again = { ...s, expiresAt: 3_000, readers: [] };
  t.is(vault.put(again), 'replaced');
  t.is(vault.count(), 1);
  vault.close();
  const reopened = openCustodyVault({ path: file });
  t.deepEqual(reopened.get(s.ref, s.sender), again);
  reopened.close();
});

test('limits: overall and per sender (CUSTODY_FULL); a replacement does not count', (t) => {
  const vault = openCustodyVault({ path: ':memory:', limits: { maxShares: 3, maxSharesPerSender: 2 } });
  const a = share();
  vault.put(a);
  vault.put(share());
  t.is(t.throws(() => vault.put(share()), { instanceOf: CustodyError })?.code, 'CUSTODY_FULL');
  t.is(vault.put({ ...a, expiresAt: 5_000 }), 'replaced');
  vault.put(share({ sender: id() }));
  t.is(t.throws(() => vault.put(share({ sender: id() })), { instanceOf: CustodyError })?.code, 'CUSTODY_FULL');
  vault.close();
});

test('a deleted share leaves a tombstone, stays deleted, and owes a receipt until marked', (t) => {
  const vault = openCustodyVault({ path: ':memory:' });
  const early = share({ expiresAt: 1_500 });
  const late = share({ expiresAt: 2_500 });
  const revoked = share({ expiresAt: 9_000 });
  for (const s of [late, early, revoked]) vault.put(s);
  t.deepEqual(vault.due(2_000, 10).map((k) => k.ref), [early.ref]);
  t.is(vault.delete(vault.due(2_000, 10), 'expired', 2_000), 1);
  t.is(vault.delete([revoked], 'revoked', 2_100), 1);
  t.is(vault.delete([revoked], 'revoked', 2_200), 0, 'deleting twice finds nothing');
  t.is(vault.get(early.ref, SENDER), null);
  t.like(vault.tombstone(early.ref, SENDER), { reason: 'expired', deletedAt: 2_000, receiptAt: null });
  t.is(t.throws(() => vault.put(early), { instanceOf: CustodyError })?.code, 'CUSTODY_EXPIRED');
  t.is(t.throws(() => vault.put(revoked), { instanceOf: CustodyError })?.code, 'CUSTODY_REVOKED');
  t.deepEqual(vault.pendingReceipts(10).map((x) => x.reason), ['expired', 'revoked']);
  vault.markReceipt(early.ref, SENDER, 3_000);
  t.deepEqual(vault.pendingReceipts(10).map((x) => x.reason), ['revoked']);
  t.is(vault.purgeTombstones(3_000), 0, 'kept until after the retention');
  t.is(vault.purgeTombstones(3_001), 1);
  t.is(vault.tombstone(early.ref, SENDER), null);
  t.is(vault.count(), 1);
  vault.close();
});

test('deletion leaves no copy of the sealed bytes in custody.db or its WAL, while kept shares stay', async (t) => {
  const file = await dbFile(t);
  const vault = openCustodyVault({ path: file });
  const kept = Array.from({ length: 50 }, () => share());
  const doomed = Array.from({ length: 50 }, () => share());
  for (const s of [...kept, ...doomed]) vault.put(s);
  // replaced bytes count as deleted too
  const replaced = share();
  vault.put(replaced);
  vault.put({ ...replaced, sealed: new Uint8Array(randomBytes(SEALED_SHARE_BYTES)) });
  const before = await onDisk(file);
  t.true(doomed.every((s) => before.includes(s.sealed)), 'the search finds them while they are held');
  t.false(before.includes(replaced.sealed), 'the replaced bytes are gone');

  vault.delete(doomed, 'expired', 3_000);
  const after = await onDisk(file);
  t.true(kept.every((s) => after.includes(s.sealed)));
  t.false(doomed.some((s) => after.includes(s.sealed)));
  vault.close();
});
