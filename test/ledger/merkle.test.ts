// RFC 6962 §2.1 Merkle trees: the published Certificate Transparency vectors
// (transparency-dev/merkle testonly/constants.go, proof/verify_test.go and the
// compact/range_test.go golden roots), and property tests against a direct
// transcription of the RFC's recursive definitions.
import { createHash } from 'node:crypto';
import test from 'ava';
import {
  auditPath, EMPTY_ROOT, hashChildren, merkleLevels, merkleRoot, pathFromLevels, rootFromPath, verifyInclusion,
} from '../../src/ledger/merkle.ts';
import { leafHashBytes } from '../../src/ledger/record.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Buffer => Buffer.from(h, 'hex');

/** The eight leaf inputs of the CT test suite. */
const CT_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
/** MTH of the first 1..8 inputs. */
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** [index (0-based), tree size, audit path] (reference_test.go / verify_test.go). */
const CT_PATHS: [number, number, string[]][] = [
  [0, 1, []],
  [0, 2, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7']],
  [1, 2, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ]],
  [0, 8, [
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ]],
  [5, 8, [
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ]],
];
/** compact/range_test.go TestGetRootHashGolden: leaf i is the 2 bytes of i, little-endian. */
const GOLDEN_ROOTS: [number, string][] = [
  [10, 'VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4='],
  [15, 'j4SulYmocFuxdeyp12xXCIgK6PekBcxzAIj4zbQzNEI='],
  [16, 'c+4Uc6BCMOZf/v3NZK1kqTUJe+bBoFtOhP+P3SayKRE='],
  [100, 'dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY='],
  [255, 'SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0='],
  [256, 'qFI0t/tZ1MdOYgyPpPzHFiZVw86koScXy9q3FU5casA='],
  [1000, 'RXrgb8xHd55Y48FbfotJwCbV82Kx22LZfEbmBGAvwlQ='],
  [4095, 'cWRFdQhPcjn9WyBXE/r1f04ejxIm5lvg40DEpRBVS0w='],
];

const ctLeaves = CT_INPUTS.map((d) => leafHashBytes(d));

test('RFC 6962 hasher vectors: empty tree, leaf and node prefixes', (t) => {
  t.is(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.is(hex(merkleRoot([])), hex(EMPTY_ROOT));
  t.is(hex(leafHashBytes(new Uint8Array())), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  t.is(hex(leafHashBytes('L123456')), '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
  t.is(hex(hashChildren(Buffer.from('N123'), Buffer.from('N456'))), 'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb');
});

test('RFC 6962 §2.1 MTH of the CT test leaves, sizes 1..8', (t) => {
  for (let n = 1; n <= 8; n++) t.is(hex(merkleRoot(ctLeaves.slice(0, n))), CT_ROOTS[n - 1]!, `size ${n}`);
});

test('RFC 6962 §2.1 MTH golden roots up to 4095 leaves', (t) => {
  for (const [size, root] of GOLDEN_ROOTS) {
    const leaves = Array.from({ length: size }, (_, i) => leafHashBytes(new Uint8Array([i & 0xff, (i >> 8) & 0xff])));
    t.is(Buffer.from(merkleRoot(leaves)).toString('base64'), root, `size ${size}`);
  }
});

test('RFC 6962 §2.1.1 audit paths of the CT vectors, and RFC 9162 §2.1.3.2 verification', (t) => {
  for (const [index, size, path] of CT_PATHS) {
    const leaves = ctLeaves.slice(0, size);
    t.deepEqual(auditPath(leaves, index).map(hex), path, `PATH(${index}, D[${size}])`);
    const leaf = ctLeaves[index] as Buffer;
    t.is(hex(rootFromPath(leaf, index, size, path.map(unhex))), CT_ROOTS[size - 1]!);
    t.true(verifyInclusion(leaf, index, size, path.map(unhex), unhex(CT_ROOTS[size - 1] as string)));
  }
});

// The RFC's recursive definitions, transcribed literally: the reference the fast code is held to.
const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const k = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));
function refMth(d: Buffer[]): Buffer {
  if (d.length === 1) return d[0] as Buffer;
  const split = k(d.length);
  return sha(Buffer.from([1]), refMth(d.slice(0, split)), refMth(d.slice(split)));
}
function refPath(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const split = k(d.length);
  return m < split ? [...refPath(m, d.slice(0, split)), refMth(d.slice(split))] : [...refPath(m - split, d.slice(split)), refMth(d.slice(0, split))];
}
const someLeaves = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => leafHashBytes(`leaf ${i}`));

test('property: every index of every size 1..70 has the RFC path and verifies; wrong ones fail', (t) => {
  let checked = 0;
  for (let size = 1; size <= 70; size++) {
    const leaves = someLeaves(size);
    const levels = merkleLevels(leaves);
    const root = merkleRoot(leaves);
    if (!Buffer.from(root).equals(refMth(leaves))) t.fail(`root of size ${size}`);
    for (let index = 0; index < size; index++) {
      const path = pathFromLevels(levels, index);
      const leaf = leaves[index] as Buffer;
      if (!path.every((h, i) => Buffer.from(h).equals(refPath(index, leaves)[i] as Buffer)) || path.length !== refPath(index, leaves).length) {
        t.fail(`path ${index}/${size}`);
      }
      if (!verifyInclusion(leaf, index, size, path, root)) t.fail(`verify ${index}/${size}`);
      // one flipped bit in each path hash
      for (let p = 0; p < path.length; p++) {
        const bad = path.map((h) => Buffer.from(h));
        const flipped = bad[p] as Buffer;
        flipped[7] = (flipped[7] as number) ^ 0x08;
        if (verifyInclusion(leaf, index, size, bad, root)) t.fail(`flipped path[${p}] of ${index}/${size} verified`);
      }
      // the wrong leaf, a neighbour's index, a wrong size, a path one hash short or long
      if (size > 1 && verifyInclusion(leaves[(index + 1) % size] as Buffer, index, size, path, root)) t.fail(`wrong leaf ${index}/${size}`);
      if (size > 1 && verifyInclusion(leaf, (index + 1) % size, size, path, root)) t.fail(`wrong index ${index}/${size}`);
      if (verifyInclusion(leaf, index, size * 2, path, root)) t.fail(`size*2 ${index}/${size}`);
      if (path.length > 0 && verifyInclusion(leaf, index, size, path.slice(0, -1), root)) t.fail(`short path ${index}/${size}`);
      if (verifyInclusion(leaf, index, size, [...path, root], root)) t.fail(`trailing root ${index}/${size}`);
      checked++;
    }
  }
  t.is(checked, (70 * 71) / 2);
});

test('rootFromPath names the bad field; auditPath refuses an index outside the tree', (t) => {
  const leaves = someLeaves(5);
  const leaf = leaves[0] as Buffer;
  const path = auditPath(leaves, 0);
  const field = (fn: () => unknown): string | undefined => (t.throws(fn) as { field?: string }).field;
  t.is(field(() => rootFromPath(leaf, 5, 5, path)), 'index');
  t.is(field(() => rootFromPath(leaf, -1, 5, path)), 'index');
  t.is(field(() => rootFromPath(leaf, 0, 0, [])), 'size');
  t.is(field(() => rootFromPath(leaf, 0, 5, [...path, leaf])), 'path');
  t.is(field(() => rootFromPath(leaf, 0, 5, path.slice(1))), 'path');
  t.is(field(() => rootFromPath(leaf, 0, 5, [leaf.subarray(1), ...path.slice(1)])), 'path');
  t.is(field(() => rootFromPath(leaf.subarray(1), 0, 5, path)), 'leaf');
  t.is(field(() => auditPath(leaves, 5)), 'index');
  t.is(field(() => auditPath([], 0)), 'index');
});
