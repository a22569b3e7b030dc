// The BlockStorage contract on real Helia with blocks on disk
// (src/storage/helia.ts), plus what only a disk and a network have: block
// files altered or deleted behind the node's back, data surviving a restart,
// CIDs identical to the memory double's, loopback-only peers, and two nodes
// exchanging an object over bitswap on 127.0.0.1.
import { readdir, readFile, rm, unlink, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { base32upper } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import { openHeliaStorage, type HeliaStorageOptions } from '../../src/storage/helia.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';
import type { Cid } from '../../src/storage/types.ts';
import { bytes, CHUNK, rawCid, sameBytes, storageContract } from './contract.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'sealpost-helia-'));
}

/** Where blockstore-fs keeps a block: blocks/<last two chars>/<BASE32 multihash>.data */
function blockFile(dir: string, cid: Cid): string {
  const name = base32upper.encode(CID.parse(cid).multihash.bytes);
  return path.join(dir, 'blocks', name.slice(-2), `${name}.data`);
}

storageContract(test, 'helia', async (options) => {
  const dir = await tempDir();
  const storage = await openHeliaStorage({ dir, ...options });
  return {
    storage,
    corrupt: async (cid) => {
      const file = blockFile(dir, cid);
      const data = await readFile(file);
      if (data.byteLength === 0) {
        await writeFile(file, Uint8Array.of(1));
        return;
      }
      const at = Math.floor(data.byteLength / 2);
      data[at] = (data[at] ?? 0) ^ 0x01;
      await writeFile(file, data);
    },
    remove: async (cid) => unlink(blockFile(dir, cid)),
    cleanup: async () => rm(dir, { recursive: true, force: true }),
  };
});

test('helia: CIDs are identical to the memory double\'s for the same bytes', async (t) => {
  const dir = await tempDir();
  const helia = await openHeliaStorage({ dir });
  t.teardown(async () => {
    await helia.close();
    await rm(dir, { recursive: true, force: true });
  });
  const memory = createMemoryStorage();
  for (const data of [new Uint8Array(0), bytes(1), bytes(20_000), bytes(CHUNK), bytes(3 * CHUNK + 99)]) {
    t.is(await helia.put(data), await memory.put(data));
  }
});

test('helia: objects and pins survive close and reopen; no temporary files are left', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const small = bytes(20_000);
  const large = bytes(2 * CHUNK + 5);
  const first = await openHeliaStorage({ dir });
  const s = await first.put(small);
  const l = await first.put(large);
  const loose = await first.put(bytes(10));
  await first.unpin(loose);
  await first.close();
  await first.close(); // idempotent

  const again = await openHeliaStorage({ dir });
  t.teardown(() => again.close());
  sameBytes(t, await again.get(s), small);
  sameBytes(t, await again.get(l), large);
  t.true(await again.isPinned(s));
  t.true(await again.isPinned(l));
  t.false(await again.isPinned(loose));
  t.true(await again.has(loose));

  const leftovers: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) if (entry.endsWith('.tmp')) leftovers.push(entry);
  t.deepEqual(leftovers, []);
  // the leaf of the large object sits where blockstore-fs would put it
  sameBytes(t, new Uint8Array(await readFile(blockFile(dir, rawCid(large.subarray(0, CHUNK))))), large.subarray(0, CHUNK));
});

test('helia: offline node has no libp2p and no addresses', async (t) => {
  const dir = await tempDir();
  const storage = await openHeliaStorage({ dir, peers: [] });
  t.teardown(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  t.deepEqual(storage.multiaddrs(), []);
  t.deepEqual(storage.connections(), []);
});

test('helia: peers and listen addresses other than loopback TCP are refused', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const id = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq';
  const badPeers = [
    `/ip4/10.0.0.1/tcp/4001/p2p/${id}`,
    `/ip4/8.8.8.8/tcp/4001/p2p/${id}`,
    `/ip4/0.0.0.0/tcp/4001/p2p/${id}`,
    `/ip4/127.0.0.999/tcp/4001/p2p/${id}`,
    `/ip6/2001:db8::1/tcp/4001/p2p/${id}`,
    `/dns4/localhost/tcp/4001/p2p/${id}`,
    `/ip4/127.0.0.1/udp/4001/quic-v1/p2p/${id}`,
    '/ip4/127.0.0.1/tcp/4001',
    `/ip4/127.0.0.1/tcp/0/p2p/${id}`,
    'not a multiaddr',
  ];
  for (const peer of badPeers) {
    const err = await t.throwsAsync(openHeliaStorage({ dir, peers: [peer] }), { code: 'INVALID' }, peer);
    t.is((err as { field?: string } | undefined)?.field, 'storage.peers');
  }
  for (const listen of ['/ip4/0.0.0.0/tcp/0', '/ip4/192.168.1.2/tcp/4001', '/ip6/::/tcp/0']) {
    const err = await t.throwsAsync(openHeliaStorage({ dir, listen: [listen] }), { code: 'INVALID' }, listen);
    t.is((err as { field?: string } | undefined)?.field, 'storage.listen');
  }
});

test('helia: two nodes on loopback exchange an object over bitswap, and dial nothing else', async (t) => {
  const dirA = await tempDir();
  const dirB = await tempDir();
  const open = async (options: HeliaStorageOptions) => {
    const storage = await openHeliaStorage(options);
    t.teardown(() => storage.close());
    return storage;
  };
  t.teardown(async () => {
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  });

  const a = await open({ dir: dirA, listen: ['/ip4/127.0.0.1/tcp/0'] });
  t.true(a.multiaddrs().length > 0);
  for (const addr of a.multiaddrs()) t.regex(addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+$/);
  const data = bytes(2 * CHUNK + 777);
  const cid = await a.put(data);

  const b = await open({ dir: dirB, peers: a.multiaddrs(), fetchTimeoutMs: 4_000 });
  t.false(await b.has(cid));
  sameBytes(t, await b.get(cid), data);
  t.true(await b.has(cid), 'fetched blocks are kept locally');

  // The only connection on either side is the loopback one between them.
  t.is(b.connections().length, 1);
  for (const addr of [...a.connections(), ...b.connections()]) t.regex(addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/);

  // A block nobody has: not found once the fetch timeout passes.
  await t.throwsAsync(b.get(rawCid(bytes(16))), { code: 'BLOCK_NOT_FOUND' });

  // B keeps its copy after A is gone.
  await a.close();
  sameBytes(t, await b.get(cid), data);
});
