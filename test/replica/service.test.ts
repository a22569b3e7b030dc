// Account replication end to end (replica/service.ts, client.ts, store.ts,
// wire.ts) on real libp2p nodes on 127.0.0.1, each with real Helia storage on
// its network's libp2p (bitswap) and a real replica.db, registered in one
// registry: an owner and four peers, k = 2. The owner's machine is then lost
// and a new one with the same node key finds the latest snapshot and fetches
// the blocks from the replicas.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { identityFiles, loadNodeIdentity } from '../../src/network/identity.ts';
import { startNetwork } from '../../src/network/libp2p.ts';
import { parseNodeId } from '../../src/registry/records.ts';
import { createReplicaClient } from '../../src/replica/client.ts';
import { ReplicaError } from '../../src/replica/errors.ts';
import { REPLICA_PROTOCOL } from '../../src/replica/types.ts';
import {
  decodeListAnswer, decodePointerAnswer, decodeStatusAnswer, encodeLatestAnswer, MAX_CIDS_PER_REQUEST, pointerSigningBytes,
} from '../../src/replica/wire.ts';
import { ask, randomObject, refusal, startCluster, tagAvoiding, type Cluster, type ReplicaNode } from './cluster.ts';

const NAMES = ['owner', 'r1', 'r2', 'r3', 'r4'];

const others = (c: Cluster, ids: readonly string[]): ReplicaNode[] =>
  [...c.nodes.values()].filter((n) => n.name !== 'owner' && !ids.includes(n.nodeId));

/** A pointer for `tag` signed by `node`'s key (as the client signs it). */
function signedPointer(node: ReplicaNode, tag: Uint8Array, seq: number, cid: string) {
  const owner = parseNodeId(node.nodeId);
  return { seq, cid: cid as never, sig: node.identity.ed25519.sign(pointerSigningBytes(owner, tag, seq, cid as never)) };
}

test('k replicas hold an account; after the owner\'s machine is lost, the same node key finds the latest snapshot and fetches the blocks', async (t) => {
  const c = await startCluster(t, { names: NAMES });
  const owner = c.node('owner');
  const tag = new Uint8Array(randomBytes(32));

  const message = randomObject(4_000);
  const large = randomObject(1024 * 1024 + 4_321); // two chunks and a dag-pb root
  const snapshot = randomObject(2_000);
  const [cidMessage, cidLarge, cidSnapshot] = [await owner.storage.put(message), await owner.storage.put(large), await owner.storage.put(snapshot)];

  const chosen = await owner.client.replicas(tag);
  t.is(chosen.length, 2);
  t.false(chosen.includes(owner.nodeId), 'never the owner');
  t.deepEqual(await owner.client.replicas(tag), chosen, 'deterministic');

  const replicated = await owner.client.replicate(tag, [cidMessage, cidLarge, cidMessage]);
  t.deepEqual(replicated.map((r) => r.node), chosen);
  for (const r of replicated) {
    t.deepEqual(r.failed, [], r.node);
    t.deepEqual([...r.held].sort(), [cidMessage, cidLarge].sort());
  }
  for (const id of chosen) {
    const replica = c.byId(id);
    t.true(await replica.storage.isPinned(cidLarge), `${replica.name} pinned it`);
    t.true(await replica.storage.has(cidLarge), `${replica.name} has every block`);
  }
  for (const other of others(c, chosen)) t.false(await other.storage.has(cidMessage), `${other.name} is no replica`);

  const published = await owner.client.publishPointer(tag, { seq: 1, cid: cidSnapshot });
  for (const p of published) t.true(p.ok && p.accepted && p.pointer.seq === 1, p.node);

  const copies = await owner.client.copies(tag);
  t.deepEqual(copies.map((r) => r.node), chosen);
  for (const copy of copies) {
    t.true(copy.ok);
    if (!copy.ok) continue;
    t.is(copy.held, 3);
    t.is(copy.bytes, message.byteLength + large.byteLength + snapshot.byteLength);
    t.is(copy.pointer?.seq, 1);
    t.is(copy.pointer?.cid, cidSnapshot);
  }

  // the machine is lost; a new one comes back with the node key from the backup
  await owner.stop();
  const restored = await c.restore(owner, 'restored');
  t.is(restored.nodeId, owner.nodeId);
  t.false(await restored.storage.has(cidMessage), 'a fresh data directory');

  const latest = await restored.client.latestPointer(tag);
  t.is(latest.pointer?.seq, 1);
  t.is(latest.pointer?.cid, cidSnapshot);
  t.deepEqual([...latest.from].sort(), [...chosen].sort());
  t.deepEqual(latest.failures, []);
  t.is(latest.missing.length, 2, 'the two other nodes (asked too: 2k candidates) hold nothing');

  const page = await restored.client.list(tag, chosen[0]!);
  t.deepEqual(page.cids, [cidMessage, cidLarge, cidSnapshot].sort());
  t.is(page.next, null);
  const first = await restored.client.list(tag, chosen[1]!, { limit: 2 });
  t.is(first.cids.length, 2);
  t.truthy(first.next);
  const rest = await restored.client.list(tag, chosen[1]!, { after: first.next!, limit: 2 });
  t.deepEqual([...first.cids, ...rest.cids], [cidMessage, cidLarge, cidSnapshot].sort());
  t.is(rest.next, null);

  t.is(Buffer.compare(await restored.client.fetch(tag, cidSnapshot), snapshot), 0);
  t.is(Buffer.compare(await restored.client.fetch(tag, cidLarge), large), 0);
  t.is(Buffer.compare(await restored.storage.get(cidMessage), message), 0, 'over bitswap from a replica');

  // another node asking for the same tag finds nothing, and learns nothing of the owner's entry
  const outsider = others(c, chosen)[0]!;
  const replica = c.byId(chosen[0]!);
  t.is(await refusal(t, ask(outsider, replica, { op: 'latest', tag })), 'REPLICA_NOT_FOUND');
  t.deepEqual(decodeListAnswer(await ask(outsider, replica, { op: 'list', tag, after: null, limit: 10 })), { cids: [], next: null });
  t.deepEqual(decodeStatusAnswer(await ask(outsider, replica, { op: 'status', tag })), { held: 0, bytes: 0, pointer: null });
  // …nor can it drop the owner's holdings
  await ask(outsider, replica, { op: 'unpin', tag, cids: [cidMessage] });
  t.true(await replica.storage.isPinned(cidMessage));

  // unpin drops the message on every replica; the snapshot the pointer names stays
  const unpinned = await restored.client.unpin(tag, [cidMessage, cidSnapshot]);
  for (const u of unpinned) {
    t.true(u.ok, u.node);
    if (u.ok) t.deepEqual(u, { node: u.node, ok: true, removed: [cidMessage], kept: [cidSnapshot] });
  }
  for (const id of chosen) {
    const r = c.byId(id);
    t.false(await r.storage.isPinned(cidMessage), `${r.name} unpinned it`);
    t.true(await r.storage.isPinned(cidSnapshot));
    t.is(r.store.status(parseNodeId(owner.nodeId), tag).held, 2);
  }
});

test('the pointer keeps the highest seq; the restore takes the highest any replica has, and ignores forged ones', async (t) => {
  const c = await startCluster(t, { names: NAMES });
  const owner = c.node('owner');
  const liar = c.node('r4');
  const tag = tagAvoiding(c, owner, 2, [liar]);
  const [a, b, d] = [randomObject(100), randomObject(100), randomObject(100)];
  const [cidA, cidB, cidD] = [await owner.storage.put(a), await owner.storage.put(b), await owner.storage.put(d)];

  for (const p of await owner.client.publishPointer(tag, { seq: 5, cid: cidA })) t.true(p.ok && p.accepted);
  for (const p of await owner.client.publishPointer(tag, { seq: 3, cid: cidB })) {
    t.true(p.ok && !p.accepted && p.pointer.seq === 5 && p.pointer.cid === cidA, 'an older pointer is not taken');
  }
  for (const p of await owner.client.publishPointer(tag, { seq: 5, cid: cidB })) t.true(p.ok && !p.accepted, 'nor another CID under the same seq');
  t.is((await owner.client.latestPointer(tag)).pointer?.seq, 5);

  // one replica missed seq 6 (it was down): the restore still finds 6
  const [first, second] = (await owner.client.replicas(tag)).map((id) => c.byId(id));
  const answer = decodePointerAnswer(await ask(owner, first!, { op: 'pointer', tag, pointer: signedPointer(owner, tag, 6, cidD), waitMs: 5_000 }));
  t.true(answer.accepted);
  let latest = await owner.client.latestPointer(tag);
  t.is(latest.pointer?.seq, 6);
  t.deepEqual(latest.from, [first!.nodeId]);
  t.deepEqual(latest.stale, [second!.nodeId]);

  // a pointer signed by another key is refused by the replica
  t.is(await refusal(t, ask(owner, first!, { op: 'pointer', tag, pointer: signedPointer(liar, tag, 9, cidD), waitMs: 5_000 })), 'REPLICA_BAD_SIGNATURE');

  // a lying node answers `latest` with a seq of its own making: it does not count
  await liar.service.stop();
  const forged = signedPointer(liar, tag, 99, cidB);
  await liar.network.handle(REPLICA_PROTOCOL, async () => encodeLatestAnswer(forged), { maxRequestBytes: 4096 });
  latest = await owner.client.latestPointer(tag, { breadth: 4 });
  t.is(latest.pointer?.seq, 6);
  t.deepEqual(latest.failures, [{ node: liar.nodeId, ok: false, code: 'REPLICA_BAD_SIGNATURE' }]);
});

test('malformed, oversized and unregistered requests are refused with codes; bad arguments never leave the owner', async (t) => {
  const c = await startCluster(t, { names: ['owner', 'r1'], limits: { maxRequestBytes: 20_000 }, client: { waitMs: 20_000 } });
  const [owner, r1] = [c.node('owner'), c.node('r1')];
  const tag = new Uint8Array(randomBytes(32));
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  t.is(await refusal(t, ask(owner, r1, enc('{"v":1,"op":"pin"'))), 'REPLICA_BAD_REQUEST');
  t.is(await refusal(t, ask(owner, r1, enc(JSON.stringify({ v: 1, op: 'drop', tag: 'ab'.repeat(32) })))), 'REPLICA_BAD_REQUEST');
  t.is(await refusal(t, ask(owner, r1, enc(JSON.stringify({ v: 1, op: 'status', tag: 'ab'.repeat(32), owner: r1.nodeId })))), 'REPLICA_BAD_REQUEST');
  const err = await t.throwsAsync(ask(owner, r1, new Uint8Array(20_001)));
  t.is((err as { code?: string } | undefined)?.code, 'NETWORK_FRAME_TOO_LARGE');

  // a node that is not in the registry may not store anything here
  const dir = c.root + '/stranger';
  const stranger = { network: await startNetwork({ identity: await loadNodeIdentity(identityFiles(dir)) }) };
  t.teardown(() => stranger.network.stop());
  const cid = await owner.storage.put(randomObject(10));
  t.is(await refusal(t, ask(stranger, r1, { op: 'pin', tag, cids: [cid], waitMs: 1_000 })), 'REPLICA_UNKNOWN_NODE');
  t.deepEqual(decodeStatusAnswer(await ask(stranger, r1, { op: 'status', tag })), { held: 0, bytes: 0, pointer: null });

  const bad = async (promise: Promise<unknown>, field: string): Promise<void> => {
    const e = await t.throwsAsync(promise, { instanceOf: ReplicaError });
    t.is(e?.code, 'REPLICA_BAD_PARAMS');
    t.is(e?.field, field);
  };
  await bad(owner.client.replicate(new Uint8Array(31), [cid]), 'tag');
  await bad(owner.client.replicate(tag, [cid, 'Qm-not-a-cid']), 'cids[1]');
  await bad(owner.client.publishPointer(tag, { seq: -1, cid }), 'seq');
  await bad(owner.client.list(tag, r1.nodeId, { limit: 0 }), 'limit');
  t.throws(() => createReplicaClient({ network: owner.network, registry: c.registry, self: owner.identity, k: 0 }), { instanceOf: ReplicaError, code: 'REPLICA_BAD_PARAMS' } as never);

  // more CIDs than one request carries go in batches (each fetched block costs the replica a few fsyncs: about 15 ms here)
  const many = await Promise.all(Array.from({ length: MAX_CIDS_PER_REQUEST + 4 }, (_, i) => owner.storage.put(Uint8Array.of(i >> 8, i & 0xff, 7))));
  const [result] = await owner.client.replicate(tag, many);
  t.deepEqual([...new Set(result?.failed.map((f) => f.code))], []);
  t.is(result?.held.length, many.length);
  t.deepEqual(result?.failed, []);
});

test('a replica that is down shows in its own result and fails nothing else', async (t) => {
  const c = await startCluster(t, { names: NAMES, k: 3 });
  const owner = c.node('owner');
  const tag = new Uint8Array(randomBytes(32));
  const cid = await owner.storage.put(randomObject(500));
  const chosen = await owner.client.replicas(tag);
  const down = c.byId(chosen[1]!);
  await down.stop();
  const results = await owner.client.replicate(tag, [cid]);
  for (const r of results) {
    if (r.node === down.nodeId) t.deepEqual(r.failed, [{ cid, code: 'NETWORK_UNREACHABLE' }]);
    else t.deepEqual(r.held, [cid]);
  }
  const copies = await owner.client.copies(tag);
  t.is(copies.filter((r) => r.ok && r.held === 1).length, 2);
  t.deepEqual(copies.find((r) => r.node === down.nodeId), { node: down.nodeId, ok: false, code: 'NETWORK_UNREACHABLE' });
});
