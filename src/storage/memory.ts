// In-memory BlockStorage for unit tests of the parts above storage. It builds
// the very same UnixFS DAG as the Helia backend (storage/layout.ts), so the
// same bytes get the same CID, and it verifies every block on `get`; the
// `corrupt`/`remove` hooks let tests damage an object the way a disk can.
import { exporter } from 'ipfs-unixfs-exporter';
import { importFile } from 'ipfs-unixfs-importer';
import type { CID } from 'multiformats/cid';
import { ValidationError } from '../errors/index.ts';
import { BlockNotFoundError } from './errors.ts';
import { assertObjectSize, concat, blockLinks, cidString, DEFAULT_MAX_OBJECT_SIZE, hasLinks, importOptions, parseCid, verifyBlock } from './layout.ts';
import type { BlockStorage, Cid } from './types.ts';

export interface MemoryStorageOptions {
  /** largest object `put` accepts, octets (default 64 MiB) */
  maxObjectSize?: number;
}

export interface MemoryStorage extends BlockStorage {
  /** Test hook: flips one byte of the object's root block, as a damaged disk would. @throws BlockNotFoundError */
  corrupt(cid: Cid): void;
  /** Test hook: drops the object's root block, as a lost file would. */
  remove(cid: Cid): void;
}

/** Creates an empty in-memory store. */
export function createMemoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  const maxObjectSize = options.maxObjectSize ?? DEFAULT_MAX_OBJECT_SIZE;
  // Keyed by the canonical CID string; values are copies, never caller buffers.
  const blocks = new Map<string, Uint8Array>();
  const pins = new Set<string>();

  const blockstore = {
    put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): CID {
      if (!(bytes instanceof Uint8Array)) throw new TypeError('memory storage expects whole blocks');
      blocks.set(cidString(cid), bytes.slice());
      return cid;
    },
    *get(cid: CID): Generator<Uint8Array> {
      yield readBlock(cid);
    },
  };

  function readBlock(cid: CID): Uint8Array {
    const bytes = blocks.get(cidString(cid));
    if (bytes === undefined) throw new BlockNotFoundError(cidString(cid));
    verifyBlock(cid, bytes);
    return bytes.slice();
  }

  /** Like the Helia backend: leaves are not checked, an interior node that fails its hash counts as absent. */
  function hasAll(cid: CID): boolean {
    const bytes = blocks.get(cidString(cid));
    if (bytes === undefined) return false;
    if (!hasLinks(cid)) return true;
    try {
      verifyBlock(cid, bytes);
    } catch {
      return false;
    }
    return blockLinks(cid, bytes).every(hasAll);
  }

  return {
    async put(bytes) {
      assertObjectSize(bytes, maxObjectSize);
      const { cid } = await importFile({ content: bytes }, blockstore, importOptions());
      const key = cidString(cid);
      pins.add(key);
      return key;
    },

    async putMany(objects) {
      for (const bytes of objects) assertObjectSize(bytes, maxObjectSize);
      const cids: Cid[] = [];
      for (const bytes of objects) {
        const { cid } = await importFile({ content: bytes }, blockstore, importOptions());
        cids.push(cidString(cid));
      }
      for (const cid of cids) pins.add(cid);
      return cids;
    },

    async get(cid) {
      const root = parseCid(cid);
      const entry = await exporter(root, blockstore);
      if (entry.type !== 'file' && entry.type !== 'raw') throw new ValidationError('cid', 'names a directory, not an object');
      const parts: Uint8Array[] = [];
      for await (const chunk of entry.content()) parts.push(chunk as Uint8Array);
      return concat(parts);
    },

    async has(cid) {
      return hasAll(parseCid(cid));
    },

    async pinMany(cids) {
      const roots = cids.map((cid) => parseCid(cid));
      for (const root of roots) if (!hasAll(root)) throw new BlockNotFoundError(cidString(root));
      for (const root of roots) pins.add(cidString(root));
    },

    async pin(cid) {
      const root = parseCid(cid);
      if (!hasAll(root)) throw new BlockNotFoundError(cidString(root));
      pins.add(cidString(root));
    },

    async unpin(cid) {
      pins.delete(cidString(parseCid(cid)));
    },

    async isPinned(cid) {
      return pins.has(cidString(parseCid(cid)));
    },

    async close() {
      // nothing to release
    },

    corrupt(cid) {
      const key = cidString(parseCid(cid));
      const bytes = blocks.get(key);
      if (bytes === undefined) throw new BlockNotFoundError(key);
      // An empty block has no byte to flip: give it one instead.
      blocks.set(key, bytes.byteLength === 0 ? Uint8Array.of(0) : flipFirstByte(bytes));
    },

    remove(cid) {
      blocks.delete(cidString(parseCid(cid)));
    },
  };
}

function flipFirstByte(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[0] = (copy[0] ?? 0) ^ 0xff;
  return copy;
}
