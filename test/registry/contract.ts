// The Registry contract (src/registry/types.ts), run against every backend:
// the memory double, the SQLite file (local.test.ts) and SealpostRegistry on
// a real anvil (evm.test.ts). Nodes register and update by seq; records that
// do not verify (tampered, signed by another key, signed for another
// registry) are refused; addresses are first come; announcements page in
// order from any cursor and reach watchers; deletion receipts append.
// Errors are checked by `code` (and `field`).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import { generateSigner, peerIdOf, signAddressClaim, signDeletionReceipt, signNodeRecord, type RegistrySigner } from '../../src/registry/records.ts';
import type { Announcement, AnnouncementCursor, NodeRecord, Registry, ScannedAnnouncement } from '../../src/registry/types.ts';

export interface RegistryUnderTest {
  registry: Registry;
  /** another, independent registry of the same backend (another file, another deployment) */
  another(): Promise<Registry>;
  cleanup(): Promise<void>;
}

export type OpenRegistry = () => Promise<RegistryUnderTest>;

export interface ContractOptions {
  /** how long watchers may take to see a new announcement */
  watchTimeoutMs?: number;
}

/** A fresh X25519 public key (32 bytes). */
export function x25519Public(): Uint8Array {
  const jwk = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}

/** A loopback multiaddr of the signer's node. */
export function addrOf(signer: RegistrySigner, port = 4001): string {
  return `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdOf(signer.publicKey)}`;
}

/** A random announcement with a payload of `size` bytes. */
export function sampleAnnouncement(size = 48): Announcement {
  return {
    ephemeralPublic: new Uint8Array(randomBytes(32)),
    viewTag: randomBytes(1)[0] as number,
    tag: new Uint8Array(randomBytes(32)),
    payload: new Uint8Array(randomBytes(size)),
  };
}

export const FP_V4 = '0123456789ABCDEF0123456789ABCDEF01234567';
export const FP_V6 = 'ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789';
export const KEY_REF = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const strip = (e: ScannedAnnouncement): Announcement => ({ ephemeralPublic: e.ephemeralPublic, viewTag: e.viewTag, tag: e.tag, payload: e.payload });

export function registryContract(test: TestFn, name: string, open: OpenRegistry, options: ContractOptions = {}): void {
  const watchTimeout = options.watchTimeoutMs ?? 10_000;
  const setup = async (t: ExecutionContext): Promise<RegistryUnderTest> => {
    const under = await open();
    t.teardown(() => under.cleanup());
    return under;
  };
  /** Registers a fresh node; returns its signer and record. */
  const newNode = async (registry: Registry, seq = 1): Promise<{ signer: RegistrySigner; record: NodeRecord }> => {
    const signer = generateSigner();
    const record = await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [addrOf(signer)], seq });
    await registry.registerNode(record);
    return { signer, record };
  };
  const scanAll = async (registry: Registry, from: AnnouncementCursor | null, limit: number): Promise<{ entries: ScannedAnnouncement[]; next: AnnouncementCursor }> => {
    const entries: ScannedAnnouncement[] = [];
    let cursor = from;
    for (let i = 0; i < 1000; i++) {
      const page = await registry.scanAnnouncements(cursor, limit);
      t_assert(page.entries.length <= limit, 'a page holds at most `limit` entries');
      entries.push(...page.entries);
      if (page.entries.length === limit) t_assert(page.next === page.entries.at(-1)!.cursor, 'a full page resumes after its last entry');
      if (page.entries.length === 0) return { entries, next: page.next };
      cursor = page.next;
    }
    throw new Error('scan did not end');
  };

  test(`${name}: a node registers, is found by id and listed; an unknown id is null`, async (t) => {
    const { registry } = await setup(t);
    const a = await newNode(registry);
    const b = await newNode(registry);
    t.deepEqual(await registry.getNode(a.record.nodeId), a.record);
    t.deepEqual(await registry.getNode(b.record.nodeId), b.record);
    t.is(await registry.getNode(new Uint8Array(randomBytes(32))), null);
    const listed = await registry.listNodes();
    t.deepEqual(listed.map((r) => hex(r.nodeId)), [hex(a.record.nodeId), hex(b.record.nodeId)], 'in order of registration');
    t.deepEqual(listed[0], a.record);
  });

  test(`${name}: an update needs a higher seq; the same record again is a no-op; a stale one is REGISTRY_STALE`, async (t) => {
    const { registry } = await setup(t);
    const { signer, record } = await newNode(registry, 5);
    const again = await registry.registerNode(record);
    t.is(again.tx, null, 'nothing to write');
    const updated = await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [addrOf(signer, 4002), addrOf(signer, 4003)], seq: 6 });
    await registry.registerNode(updated);
    t.deepEqual(await registry.getNode(signer.publicKey), updated);
    for (const seq of [6, 5, 1]) {
      const stale = await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [], seq });
      const err = await t.throwsAsync(registry.registerNode(stale));
      t.like(err, { code: 'REGISTRY_STALE', name: 'RegistryStaleError', current: 6 }, `seq ${seq}`);
    }
    t.deepEqual(await registry.getNode(signer.publicKey), updated, 'the newest record stays');
    t.is((await registry.listNodes()).length, 1, 'an update is not a second node');
  });

  test(`${name}: records that do not verify are REGISTRY_BAD_SIGNATURE: tampered, another key, another registry`, async (t) => {
    const { registry, another } = await setup(t);
    const signer = generateSigner();
    const record = await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [addrOf(signer)], seq: 1 });
    const mallory = generateSigner();
    const byMallory = await signNodeRecord(mallory, registry.domain, { encKey: record.encKey, addrs: [], seq: 1 });
    const other = await another();
    const forOther = await signNodeRecord(signer, other.domain, { encKey: record.encKey, addrs: record.addrs, seq: 1 });
    await other.close();
    const flipped = record.signature.slice();
    flipped[7] = (flipped[7] as number) ^ 1;
    const cases: [string, NodeRecord][] = [
      ['addrs changed after signing', { ...record, addrs: [] }],
      ['encKey changed', { ...record, encKey: x25519Public() }],
      ['seq changed', { ...record, seq: 2 }],
      ['signature flipped', { ...record, signature: flipped }],
      ['signed by another key for this node id', { ...byMallory, nodeId: signer.publicKey }],
      ['signed for another registry', forOther],
    ];
    for (const [what, bad] of cases) {
      const err = await t.throwsAsync(registry.registerNode(bad), undefined, what);
      t.like(err, { code: 'REGISTRY_BAD_SIGNATURE', name: 'RegistryBadSignatureError' }, what);
    }
    t.is(await registry.getNode(signer.publicKey), null, 'nothing was registered');
    await registry.registerNode(record);
    t.deepEqual(await registry.getNode(signer.publicKey), record);
  });

  test(`${name}: malformed node records are INVALID naming the field`, async (t) => {
    const { registry } = await setup(t);
    const signer = generateSigner();
    const good = await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [addrOf(signer)], seq: 1 });
    const cases: [string, Partial<NodeRecord>][] = [
      ['nodeId', { nodeId: good.nodeId.subarray(1) }],
      ['encKey', { encKey: new Uint8Array(32) }],
      ['addrs[0]', { addrs: ['ip4/127.0.0.1/tcp/1'] }],
      ['addrs[1]', { addrs: [addrOf(signer), `/ip4/127.0.0.1/tcp/4001/p2p/${peerIdOf(generateSigner().publicKey)}`] }],
      ['addrs', { addrs: Array.from({ length: 17 }, (_, i) => addrOf(signer, 4000 + i)) }],
      ['seq', { seq: 0 }],
      ['seq', { seq: 1.5 }],
      ['signature', { signature: good.signature.subarray(0, 63) }],
    ];
    for (const [field, change] of cases) {
      const err = await t.throwsAsync(registry.registerNode({ ...good, ...change }));
      t.like(err, { code: 'INVALID', field }, field);
    }
    await t.throwsAsync(signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: ['not a multiaddr'], seq: 1 }), { code: 'INVALID' });
  });

  test(`${name}: an address is claimed (any case), looked up, and updated by its node with a higher seq`, async (t) => {
    const { registry } = await setup(t);
    const { signer } = await newNode(registry);
    const claim = await signAddressClaim(signer, registry.domain, { address: 'Alice@Example.ORG', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 });
    t.is(claim.address, 'alice@example.org', 'signed in canonical form');
    await registry.claimAddress(claim);
    t.deepEqual(await registry.lookupAddress('alice@example.org'), claim);
    t.deepEqual(await registry.lookupAddress('ALICE@EXAMPLE.ORG'), claim);
    t.is(await registry.lookupAddress('bob@example.org'), null);
    t.is((await registry.claimAddress(claim)).tx, null, 'the same claim again is a no-op');

    const rekeyed = await signAddressClaim(signer, registry.domain, { address: 'alice@example.org', fingerprint: FP_V6, keyRef: `${KEY_REF.slice(0, -2)}aa`, seq: 2 });
    await registry.claimAddress(rekeyed);
    t.deepEqual(await registry.lookupAddress('alice@example.org'), rekeyed);
    const stale = await signAddressClaim(signer, registry.domain, { address: 'alice@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 2 });
    t.like(await t.throwsAsync(registry.claimAddress(stale)), { code: 'REGISTRY_STALE', current: 2 });
    t.deepEqual(await registry.lookupAddress('alice@example.org'), rekeyed);
  });

  test(`${name}: first come: another node's claim on a taken address is REGISTRY_ADDRESS_TAKEN`, async (t) => {
    const { registry } = await setup(t);
    const first = await newNode(registry);
    const second = await newNode(registry);
    const mine = await signAddressClaim(first.signer, registry.domain, { address: 'carol@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 });
    await registry.claimAddress(mine);
    for (const seq of [1, 2, 99]) {
      const theirs = await signAddressClaim(second.signer, registry.domain, { address: 'Carol@example.org', fingerprint: FP_V6, keyRef: KEY_REF, seq });
      t.like(await t.throwsAsync(registry.claimAddress(theirs)), { code: 'REGISTRY_ADDRESS_TAKEN', name: 'RegistryAddressTakenError' }, `seq ${seq}`);
    }
    t.deepEqual(await registry.lookupAddress('carol@example.org'), mine);
    // the second node can still claim other addresses
    const other = await signAddressClaim(second.signer, registry.domain, { address: 'dave@example.org', fingerprint: FP_V6, keyRef: KEY_REF, seq: 1 });
    await registry.claimAddress(other);
    t.deepEqual((await registry.lookupAddress('dave@example.org'))?.nodeId, second.signer.publicKey);
  });

  test(`${name}: claims need a registered node and a valid signature; malformed ones are INVALID`, async (t) => {
    const { registry } = await setup(t);
    const stranger = generateSigner();
    const unregistered = await signAddressClaim(stranger, registry.domain, { address: 'erin@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 });
    t.like(await t.throwsAsync(registry.claimAddress(unregistered)), { code: 'REGISTRY_UNKNOWN_NODE' });
    const { signer } = await newNode(registry);
    const claim = await signAddressClaim(signer, registry.domain, { address: 'erin@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 });
    t.like(await t.throwsAsync(registry.claimAddress({ ...claim, address: 'frank@example.org' })), { code: 'REGISTRY_BAD_SIGNATURE' }, 'another address');
    t.like(await t.throwsAsync(registry.claimAddress({ ...claim, fingerprint: FP_V6 })), { code: 'REGISTRY_BAD_SIGNATURE' }, 'another key');
    t.like(await t.throwsAsync(registry.claimAddress({ ...claim, nodeId: stranger.publicKey })), { code: 'REGISTRY_BAD_SIGNATURE' }, 'another node');
    for (const [field, change] of [
      ['address', { address: 'no-at-sign' }],
      ['address', { address: 'two@@example.org' }],
      ['fingerprint', { fingerprint: FP_V4.toLowerCase() }],
      ['fingerprint', { fingerprint: 'ABCD' }],
      ['keyRef', { keyRef: 'has space' }],
      ['keyRef', { keyRef: '' }],
      ['seq', { seq: -1 }],
    ] as const) {
      t.like(await t.throwsAsync(registry.claimAddress({ ...claim, ...change })), { code: 'INVALID', field }, `${field} ${JSON.stringify(change)}`);
    }
    t.like(await t.throwsAsync(registry.lookupAddress('not an address')), { code: 'INVALID', field: 'address' });
    t.is(await registry.lookupAddress('erin@example.org'), null);
  });

  test(`${name}: announcements come back in order, with times, page by page from any cursor`, async (t) => {
    const { registry } = await setup(t);
    const head0 = await registry.announcementHead();
    const before = Date.now();
    const first = [sampleAnnouncement(0), sampleAnnouncement(1), sampleAnnouncement(1024)];
    const second = [sampleAnnouncement(10), sampleAnnouncement(20)];
    await registry.announce(first);
    await registry.announce(second);
    const posted = [...first, ...second];

    const all = await registry.scanAnnouncements(null, 100);
    t.deepEqual(all.entries.map(strip), posted);
    for (const e of all.entries) t.true(Math.abs(e.time - before) < 60_000, 'time is about now');
    t.true(all.entries[0]!.time <= all.entries[4]!.time);
    t.is(new Set(all.entries.map((e) => e.cursor)).size, 5, 'every entry has its own cursor');
    t.deepEqual((await registry.scanAnnouncements(head0, 100)).entries.map(strip), posted, 'from the head before posting');

    for (const limit of [1, 2, 3, 4]) {
      const paged = await scanAll(registry, null, limit);
      t.deepEqual(paged.entries.map(strip), posted, `limit ${limit}`);
    }
    // resume after any entry, including in the middle of a batch
    for (const [i, e] of all.entries.entries()) {
      t.deepEqual((await registry.scanAnnouncements(e.cursor, 100)).entries.map(strip), posted.slice(i + 1), `after entry ${i}`);
    }
    const end = await registry.scanAnnouncements(all.next, 10);
    t.deepEqual(end.entries, []);
    const later = sampleAnnouncement();
    await registry.announce([later]);
    t.deepEqual((await registry.scanAnnouncements(end.next, 10)).entries.map(strip), [later], 'an offline node catches up from where it stopped');
    t.deepEqual((await registry.scanAnnouncements(await registry.announcementHead(), 10)).entries, [], 'nothing after the head');
  });

  test(`${name}: malformed announcements, cursors and limits are INVALID`, async (t) => {
    const { registry } = await setup(t);
    const good = sampleAnnouncement();
    const cases: [string, Announcement[]][] = [
      ['entries', []],
      ['entries[1].payload', [good, { ...good, payload: new Uint8Array(1025) }]],
      ['entries[0].viewTag', [{ ...good, viewTag: 256 }]],
      ['entries[0].viewTag', [{ ...good, viewTag: -1 }]],
      ['entries[0].tag', [{ ...good, tag: new Uint8Array(31) }]],
      ['entries[0].ephemeralPublic', [{ ...good, ephemeralPublic: new Uint8Array(33) }]],
      ['entries', Array.from({ length: 257 }, () => sampleAnnouncement(0))],
      ['entries', Array.from({ length: 100 }, () => sampleAnnouncement(1024))],
    ];
    for (const [field, entries] of cases) {
      t.like(await t.throwsAsync(registry.announce(entries)), { code: 'INVALID', field }, field);
    }
    t.deepEqual((await registry.scanAnnouncements(null, 10)).entries, [], 'nothing was posted');
    for (const cursor of ['', 'x:1', 'l:-1', 'm:1.5', 'e:1:2', 'l:01'] as AnnouncementCursor[]) {
      t.like(await t.throwsAsync(registry.scanAnnouncements(cursor, 10)), { code: 'INVALID', field: 'cursor' }, cursor);
    }
    for (const limit of [0, -1, 1.5, 10_001]) {
      t.like(await t.throwsAsync(registry.scanAnnouncements(null, limit)), { code: 'INVALID', field: 'limit' }, String(limit));
    }
  });

  test(`${name}: watchers see new announcements in order; from null replays all; unsubscribe stops`, async (t) => {
    const { registry } = await setup(t);
    const old = sampleAnnouncement();
    await registry.announce([old]);
    const fresh: ScannedAnnouncement[] = [];
    const replay: ScannedAnnouncement[] = [];
    const errors: unknown[] = [];
    const stopFresh = registry.onAnnouncement((e) => void fresh.push(e), { intervalMs: 20, onError: (e) => errors.push(e) });
    const stopReplay = registry.onAnnouncement(async (e) => {
      await new Promise((r) => setTimeout(r, 1)); // a slow listener keeps the order
      replay.push(e);
    }, { from: null, intervalMs: 20 });
    await new Promise((r) => setTimeout(r, 500)); // the fresh watcher has read its head
    const posted = [sampleAnnouncement(), sampleAnnouncement(), sampleAnnouncement()];
    await registry.announce(posted.slice(0, 2));
    await registry.announce(posted.slice(2));
    const deadline = Date.now() + watchTimeout;
    while ((fresh.length < 3 || replay.length < 4) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.deepEqual(fresh.map(strip), posted);
    t.deepEqual(replay.map(strip), [old, ...posted]);
    t.deepEqual(errors, []);
    stopFresh();
    stopReplay();
    await registry.announce([sampleAnnouncement()]);
    await new Promise((r) => setTimeout(r, 300));
    t.is(fresh.length, 3, 'an unsubscribed listener hears nothing');
  });

  test(`${name}: deletion receipts append per message, once each, from registered custodians`, async (t) => {
    const { registry } = await setup(t);
    const a = await newNode(registry);
    const b = await newNode(registry);
    const ref = new Uint8Array(randomBytes(32));
    const other = new Uint8Array(randomBytes(32));
    const ra = await signDeletionReceipt(a.signer, registry.domain, { messageRef: ref, time: 1_764_067_200_000 });
    const rb = await signDeletionReceipt(b.signer, registry.domain, { messageRef: ref, time: 1_764_067_201_000 });
    const ro = await signDeletionReceipt(a.signer, registry.domain, { messageRef: other, time: 1_764_067_202_000 });
    t.deepEqual(await registry.deletionReceipts(ref), []);
    await registry.recordDeletion(ra);
    await registry.recordDeletion(rb);
    await registry.recordDeletion(ro);
    await registry.recordDeletion(ra);
    t.deepEqual(await registry.deletionReceipts(ref), [ra, rb], 'in order, the repeated one once');
    t.deepEqual(await registry.deletionReceipts(other), [ro]);

    const stranger = generateSigner();
    const unknown = await signDeletionReceipt(stranger, registry.domain, { messageRef: ref, time: 1 });
    t.like(await t.throwsAsync(registry.recordDeletion(unknown)), { code: 'REGISTRY_UNKNOWN_NODE' });
    t.like(await t.throwsAsync(registry.recordDeletion({ ...ra, time: ra.time + 1 })), { code: 'REGISTRY_BAD_SIGNATURE' });
    t.like(await t.throwsAsync(registry.recordDeletion({ ...ra, custodian: b.signer.publicKey })), { code: 'REGISTRY_BAD_SIGNATURE' });
    t.like(await t.throwsAsync(registry.recordDeletion({ ...ra, messageRef: ref.subarray(0, 31) })), { code: 'INVALID', field: 'messageRef' });
    t.like(await t.throwsAsync(registry.recordDeletion({ ...ra, time: -5 })), { code: 'INVALID', field: 'time' });
    t.deepEqual(await registry.deletionReceipts(ref), [ra, rb]);
    t.like(await t.throwsAsync(registry.deletionReceipts(ref.subarray(1))), { code: 'INVALID', field: 'messageRef' });
  });

  test(`${name}: what is returned is a copy; a closed registry is REGISTRY_CLOSED`, async (t) => {
    const { registry } = await setup(t);
    const { record } = await newNode(registry);
    const got = (await registry.getNode(record.nodeId))!;
    got.addrs.push('/ip4/10.0.0.1/tcp/1');
    got.encKey[0] = (got.encKey[0] as number) ^ 1;
    t.deepEqual(await registry.getNode(record.nodeId), record);
    await registry.close();
    await registry.close(); // idempotent
    for (const call of [() => registry.getNode(record.nodeId), () => registry.listNodes(), () => registry.announce([sampleAnnouncement()]), () => registry.scanAnnouncements(null, 1)]) {
      t.like(await t.throwsAsync(call()), { code: 'REGISTRY_CLOSED', name: 'RegistryClosedError' });
    }
  });
}

function t_assert(condition: boolean, what: string): void {
  if (!condition) throw new Error(`contract violated: ${what}`);
}
