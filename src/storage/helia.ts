// The embedded IPFS backend: a Helia node on a blockstore in the data
// directory (with storage/helia-network.ts, the only files that import helia,
// @helia/*, libp2p and the fs stores). Offline unless peers or listen
// addresses are configured; then helia-network.ts adds a hand-composed libp2p
// (TCP, Noise, Yamux, identify, bitswap) that talks to loopback peers only.
// Never createHelia(): it dials public bootstrap peers, mDNS and the DHT.
//
// Two things Helia does not do for us, found by reading the sources:
// blockstore-fs/datastore-fs write through `steno` (temp file + rename, no
// fsync), and Helia verifies hashes only of blocks fetched from the network,
// not of blocks read from the local blockstore. The stores below fsync every
// write and hash every block read.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HeliaWithLibp2p } from '@helia/libp2p';
import type { Libp2p } from '@libp2p/interface';
import { unixfs } from '@helia/unixfs';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast } from 'blockstore-fs/sharding';
import { FsDatastore } from 'datastore-fs';
import type { Helia, HeliaInit } from 'helia';
import * as raw from 'multiformats/codecs/raw';
import type { CID } from 'multiformats/cid';
import type { Logger } from 'pino';
import { SealpostError, ValidationError } from '../errors/index.ts';
import { silentLogger } from '../log.ts';
import { syncDir, withDirSyncBatch, writeFileDurable } from './durable-file.ts';
import { BlockCorruptError, BlockNotFoundError } from './errors.ts';
import { assertObjectSize, concat, blockLinks, cidString, hasLinks, DEFAULT_MAX_OBJECT_SIZE, importOptions, parseCid, singleBlockCid, verifyBlock } from './layout.ts';
import { validateListen, validatePeers } from './peers.ts';
import { openPinSet } from './pins.ts';
import type { BlockStorage, Cid } from './types.ts';

export interface HeliaStorageOptions {
  /** the IPFS directory (DataPaths.ipfsDir): blocks/ and datastore/ go inside */
  dir: string;
  /** loopback peers to exchange blocks with over bitswap (/ip4/127…/tcp/N/p2p/ID); empty: offline */
  peers?: string[];
  /**
   * loopback addresses to listen on so that peers can fetch from this node;
   * default ['/ip4/127.0.0.1/tcp/0'] when `peers` is non-empty, none otherwise
   */
  listen?: string[];
  /** largest object `put` accepts, octets (default 64 MiB) */
  maxObjectSize?: number;
  /** how long `get`/`pin` wait for peers to deliver a missing block (default 10 s) */
  fetchTimeoutMs?: number;
  logger?: Logger;
  /**
   * The gateway's own libp2p node (network/libp2p.ts), started and stopped by
   * its owner: bitswap runs on it, and `peers`/`listen` must then be empty.
   */
  libp2p?: Libp2p;
}

export interface HeliaStorage extends BlockStorage {
  /** this node's listen multiaddrs with its /p2p/ id; empty when offline */
  multiaddrs(): string[];
  /** remote multiaddrs of the open peer connections; empty when offline */
  connections(): string[];
}


/**
 * Helia's node class without the `helia` package index: the index also loads
 * @helia/http, @helia/libp2p with every default transport and bitswap (about
 * 70 MB of resident memory) even for createHeliaLight. The class itself is
 * what createHeliaLight constructs (helia 7.1.15, pinned); the package does
 * not export its file, so it is reached by URL next to the index.
 */
async function createHeliaCore(init: Partial<HeliaInit>): Promise<Helia> {
  const url = import.meta.resolve('helia').replace(/index\.js$/, 'helia.js');
  const core = (await import(url)) as { Helia: new (init: Partial<HeliaInit> & { name: string; version: string }) => Helia };
  return new core.Helia({ name: 'helia', version: HELIA_VERSION, ...init });
}
const HELIA_VERSION = '7.1.15';

/**
 * Opens (creating if needed) the Helia store in `options.dir`.
 * @throws ValidationError (field `storage.peers` / `storage.listen`) on a non-loopback address
 */
export async function openHeliaStorage(options: HeliaStorageOptions): Promise<HeliaStorage> {
  const peers = validatePeers(options.peers ?? []);
  const listen = validateListen(options.listen ?? (peers.length > 0 && options.libp2p === undefined ? ['/ip4/127.0.0.1/tcp/0'] : []));
  if (options.libp2p !== undefined && (peers.length > 0 || listen.length > 0)) {
    throw new ValidationError('storage.peers', 'storage peers and listen addresses are for a node outside the peer network; with network.enabled, leave them empty');
  }
  const shared = options.libp2p;
  const networked = peers.length > 0 || listen.length > 0 || shared !== undefined;
  const maxObjectSize = options.maxObjectSize ?? DEFAULT_MAX_OBJECT_SIZE;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 10_000;
  const log = (options.logger ?? silentLogger()).child({ component: 'storage' });

  const blockstore = new VerifiedFsBlockstore(path.join(options.dir, 'blocks'));
  const datastore = new DurableFsDatastore(path.join(options.dir, 'datastore'));
  await blockstore.open();
  await datastore.open();
  // open() may have just created these directories; make their entries durable.
  await Promise.all([syncDir(options.dir), syncDir(path.dirname(path.resolve(options.dir)))]);

  let helia: Helia = await createHeliaCore({ blockstore, datastore });
  const network = networked ? await import('./helia-network.ts') : null;
  if (network !== null) helia = shared === undefined ? network.withLoopbackNetwork(helia, listen, peers) : network.withSharedLibp2p(helia, shared);
  try {
    await helia.start();
  } catch (err) {
    // e.g. the listen port is taken: release what did start
    await helia.stop().catch(() => undefined);
    datastore.seal();
    throw err;
  }
  const libp2p = networked ? (helia as HeliaWithLibp2p).libp2p : null;
  const fs = unixfs(helia);
  const stopDialling = libp2p === null || network === null ? () => undefined : network.keepPeersConnected(libp2p, peers, log);
  log.info({ networked, peers: peers.length, listen: libp2p?.getMultiaddrs().map(String) ?? [] }, 'storage opened');

  /** Options for reads that may have to wait for peers. */
  const fetchOptions = (): { offline: boolean; signal?: AbortSignal } =>
    networked ? { offline: false, signal: AbortSignal.timeout(fetchTimeoutMs) } : { offline: true };

  const pins = openPinSet(path.join(options.dir, 'pins.db'));

  /**
   * Every block of the DAG under `cid` is on the local disk. Leaves are not
   * read; an interior node is, and one that fails its hash counts as absent
   * (its links cannot be trusted).
   */
  const hasLocally = async (cid: CID): Promise<boolean> => {
    if (!(await blockstore.has(cid))) return false;
    if (!hasLinks(cid)) return true;
    let bytes: Uint8Array;
    try {
      bytes = await blockstore.getBytes(cid);
    } catch (err) {
      if (err instanceof BlockNotFoundError || err instanceof BlockCorruptError) return false;
      throw err;
    }
    for (const link of blockLinks(cid, bytes)) if (!(await hasLocally(link))) return false;
    return true;
  };

  let closed = false;
  return {
    async put(bytes) {
      assertObjectSize(bytes, maxObjectSize);
      return withDirSyncBatch(async () => {
        // One chunk (every ordinary message): the raw block the importer would
        // make, written directly; larger objects go through UnixFS.
        const root = singleBlockCid(bytes) ?? (await fs.addBytes(bytes, importOptions()));
        if (root.code === raw.code) await blockstore.put(root, bytes);
        const cid = cidString(root);
        pins.add(cid);
        return cid;
      });
    },

    async putMany(objects) {
      for (const bytes of objects) assertObjectSize(bytes, maxObjectSize);
      return withDirSyncBatch(async () => {
        const cids = await Promise.all(objects.map(async (bytes) => {
          const root = singleBlockCid(bytes) ?? (await fs.addBytes(bytes, importOptions()));
          if (root.code === raw.code) await blockstore.put(root, bytes);
          return cidString(root);
        }));
        pins.addMany(cids);
        return cids;
      });
    },

    async get(cid) {
      const root = parseCid(cid);
      const parts: Uint8Array[] = [];
      try {
        for await (const chunk of fs.cat(root, fetchOptions())) parts.push(chunk);
      } catch (err) {
        throw notFound(err, root);
      }
      return concat(parts);
    },

    async has(cid) {
      return hasLocally(parseCid(cid));
    },

    async pinMany(cids) {
      const roots = cids.map((cid) => parseCid(cid));
      await Promise.all(roots.map(async (root) => {
        if (await hasLocally(root)) return;
        try {
          for await (const _ of fs.cat(root, fetchOptions())) { /* stores what peers send */ }
        } catch (err) {
          throw notFound(err, root);
        }
        if (!(await hasLocally(root))) throw new BlockNotFoundError(cidString(root));
      }));
      pins.addMany(roots.map((root) => cidString(root)));
    },

    async pin(cid) {
      const root = parseCid(cid);
      // Every block must be here (fetched from peers if need be) and sound.
      if (!(await hasLocally(root))) {
        try {
          for await (const _ of fs.cat(root, fetchOptions())) { /* stores what peers send */ }
        } catch (err) {
          throw notFound(err, root);
        }
        if (!(await hasLocally(root))) throw new BlockNotFoundError(cidString(root));
      }
      pins.add(cidString(root));
    },

    async unpin(cid) {
      pins.remove(cidString(parseCid(cid)));
    },

    async isPinned(cid) {
      return pins.has(cidString(parseCid(cid)));
    },

    async close() {
      if (closed) return;
      closed = true;
      stopDialling();
      await helia.stop();
      datastore.seal();
      pins.close();
      log.info('storage closed');
    },

    multiaddrs() {
      return libp2p?.getMultiaddrs().map(String) ?? [];
    },

    connections() {
      return libp2p?.getConnections().map((c) => c.remoteAddr.toString()) ?? [];
    },
  };
}

/**
 * Turns the ways Helia says "no such block" (missing file, offline, no peer
 * had it before the timeout) into BlockNotFoundError; our own errors
 * (BlockCorruptError) and anything unexpected pass through unchanged.
 */
function notFound(err: unknown, root: CID): unknown {
  if (err instanceof SealpostError) return err;
  const name = (err as Error | undefined)?.name;
  if (name === 'NotAFileError') return new ValidationError('cid', 'names a directory, not an object');
  const missing = ['NotFoundError', 'BlockNotFoundWhileOfflineError', 'LoadBlockFailedError', 'AbortError', 'TimeoutError'];
  return name !== undefined && missing.includes(name) ? new BlockNotFoundError(cidString(root)) : err;
}


/**
 * blockstore-fs with durable writes and verified reads. File naming is
 * blockstore-fs's own (NextToLast sharding: blocks/XY/<BASE32 multihash>.data),
 * so a directory written by either reads with the other.
 */
class VerifiedFsBlockstore extends FsBlockstore {
  readonly #sharding: NextToLast;

  constructor(location: string, sharding = new NextToLast()) {
    super(location, { shardingStrategy: sharding });
    this.#sharding = sharding;
  }

  #file(cid: CID): string {
    const { dir, file } = this.#sharding.encode(cid);
    return path.join(this.path, dir, file);
  }

  override async put(key: CID, val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    await writeFileDurable(this.#file(key), await collect(val));
    return key;
  }

  override async *get(key: CID): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(key);
  }

  /**
   * Reads a block whole and checks it against its CID.
   * @throws BlockNotFoundError when the file is absent
   * @throws BlockCorruptError when the content does not hash to the CID
   */
  async getBytes(key: CID): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.#file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlockNotFoundError(cidString(key));
      throw err;
    }
    verifyBlock(key, bytes);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/**
 * datastore-fs (pins, peer id, peer store) with durable writes. libp2p's peer
 * store still saves peer records for up to a second after libp2p has stopped;
 * once sealed by close(), writes are dropped instead of recreating a
 * directory that may already have been removed.
 */
class DurableFsDatastore extends FsDatastore {
  #sealed = false;

  seal(): void {
    this.#sealed = true;
  }

  override async put(key: Parameters<FsDatastore['put']>[0], val: Uint8Array): Promise<Parameters<FsDatastore['put']>[0]> {
    if (!this.#sealed) await writeFileDurable(this._encode(key).file, val);
    return key;
  }
}

async function collect(val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  if (val instanceof Uint8Array) return val;
  const parts: Uint8Array[] = [];
  for await (const part of val) parts.push(part);
  return concat(parts);
}
