// Test helper: where the embedded Helia store keeps a block on disk
// (blockstore-fs: blocks/<last two chars>/<BASE32 multihash>.data), so tests
// can damage it the way a disk fault or an attacker would.
import path from 'node:path';
import { base32upper } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';

export function blockFile(ipfsDir: string, cid: string): string {
  const name = base32upper.encode(CID.parse(cid).multihash.bytes);
  return path.join(ipfsDir, 'blocks', name.slice(-2), `${name}.data`);
}
