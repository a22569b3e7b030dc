// One libp2p per gateway: Helia's bitswap (storage/helia-network.ts
// withSharedLibp2p, and storage/helia.ts's `libp2p` option) runs on the
// node-to-node network's libp2p
// (network/libp2p.ts) next to the Sealpost protocols. An object put on node A
// (the storage layout's UnixFS import, as storage/helia.ts does it) is
// fetched by CID on node B over the one loopback connection that also carries
// RPC; stopping Helia leaves the network running; nothing is dialled beyond
// loopback.
import path from 'node:path';
import { unixfs } from '@helia/unixfs';
import test, { type ExecutionContext } from 'ava';
import { FsBlockstore } from 'blockstore-fs';
import { FsDatastore } from 'datastore-fs';
import { createHeliaLight, type Helia } from 'helia';
import { openHeliaStorage } from '../../src/storage/helia.ts';
import { withSharedLibp2p } from '../../src/storage/helia-network.ts';
import { concat, importOptions } from '../../src/storage/layout.ts';
import { connectionAttempts, isLoopbackIp, startNode, type TestNode } from './harness.ts';

const ECHO = '/sealpost/test-echo/1.0.0';
const BITSWAP = /^\/ipfs\/bitswap\//;

async function startHelia(t: ExecutionContext, node: TestNode): Promise<Helia> {
  const blockstore = new FsBlockstore(path.join(node.dir, 'ipfs', 'blocks'));
  const datastore = new FsDatastore(path.join(node.dir, 'ipfs', 'datastore'));
  await blockstore.open();
  await datastore.open();
  const helia = withSharedLibp2p(createHeliaLight({ blockstore, datastore }), node.network.libp2p);
  await helia.start();
  t.teardown(() => helia.stop());
  return helia;
}

function bytes(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
}

test('a block put on A is fetched by CID on B over the same libp2p that carries RPC, to loopback only', async (t) => {
  const attemptsBefore = connectionAttempts.length;
  const a = await startNode(t);
  const b = await startNode(t);
  const heliaA = await startHelia(t, a);
  const heliaB = await startHelia(t, b);
  await a.network.handle(ECHO, async (request, from) => concat([new TextEncoder().encode(from.nodeId), request]), { maxRequestBytes: 64 });
  for (const node of [a, b]) t.true(node.network.libp2p.getProtocols().some((p) => BITSWAP.test(p)), 'bitswap is on the network\'s libp2p');

  // two chunks and a root: the layout storage/helia.ts writes for objects over 1 MiB
  const data = bytes(2 * 1024 * 1024 + 777, 3);
  const cid = await unixfs(heliaA).addBytes(data, importOptions());

  // RPC first: it opens the one connection bitswap then uses
  const answer = await b.network.request(a.addr, ECHO, Uint8Array.of(1));
  t.is(new TextDecoder().decode(answer.subarray(0, -1)), b.identity.nodeId);

  t.false(await heliaB.blockstore.has(cid));
  const parts: Uint8Array[] = [];
  for await (const chunk of unixfs(heliaB).cat(cid, { offline: false, signal: AbortSignal.timeout(8_000) })) parts.push(chunk);
  t.is(Buffer.compare(concat(parts), data), 0);
  t.true(await heliaB.blockstore.has(cid), 'fetched blocks are kept on B');

  // one connection each way, loopback, between the two node ids
  t.deepEqual(a.network.connections().map((c) => c.nodeId), [b.identity.nodeId]);
  t.deepEqual(b.network.connections().map((c) => c.nodeId), [a.identity.nodeId]);
  for (const c of [...a.network.connections(), ...b.network.connections()]) t.regex(c.remoteAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/);
  const mine = connectionAttempts.slice(attemptsBefore);
  t.true(mine.length > 0);
  for (const attempt of mine) t.true(isLoopbackIp(attempt.replace(/:\d+$/, '')), attempt);
});

test('stopping Helia stops bitswap but not the network it shares', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  const heliaA = await startHelia(t, a);
  const heliaB = await startHelia(t, b);
  await a.network.handle(ECHO, async (request) => request, { maxRequestBytes: 64 });
  const cid = await unixfs(heliaA).addBytes(bytes(100, 1), importOptions());
  await heliaA.stop();
  t.false(a.network.libp2p.getProtocols().some((p) => BITSWAP.test(p)));
  t.is(a.network.libp2p.status, 'started');
  t.is((await b.network.request(a.addr, ECHO, Uint8Array.of(5)))[0], 5, 'RPC still served');

  // B is connected to A, but A no longer answers wantlists
  const error = await t.throwsAsync(async () => {
    for await (const _ of unixfs(heliaB).cat(cid, { offline: false, signal: AbortSignal.timeout(700) })) { /* nothing comes */ }
  });
  // names storage/helia.ts turns into BLOCK_NOT_FOUND
  t.true(['AbortError', 'LoadBlockFailedError', 'TimeoutError'].includes(error?.name ?? ''), error?.name);
});

test('storage/helia.ts on the network\'s libp2p: A puts, B gets by CID; closing storage leaves the network up', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  const storageA = await openHeliaStorage({ dir: path.join(a.dir, 'ipfs'), libp2p: a.network.libp2p });
  const storageB = await openHeliaStorage({ dir: path.join(b.dir, 'ipfs'), libp2p: b.network.libp2p, fetchTimeoutMs: 4_000 });
  t.teardown(() => storageB.close());
  t.deepEqual(storageA.multiaddrs(), a.network.addrs());

  const data = bytes(3 * 1024 * 1024 + 5, 9);
  const cid = await storageA.put(data);
  await b.network.dial(a.addr); // who to ask comes from the network (registry), not from storage config
  t.is(Buffer.compare(await storageB.get(cid), data), 0);
  t.true(await storageB.has(cid));

  await storageA.close();
  t.is(a.network.libp2p.status, 'started');
  await a.network.handle(ECHO, async (request) => request, { maxRequestBytes: 8 });
  t.is((await b.network.request(a.addr, ECHO, Uint8Array.of(4)))[0], 4);
});
