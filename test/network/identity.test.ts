// The node identity (src/network/identity.ts): the Ed25519 node key of the
// ledger is the libp2p identity (peer id spelling per the libp2p peer-ids
// spec, cross-checked against @libp2p/crypto + @libp2p/peer-id), and the
// X25519 key (RFC 7748) lives in node-x25519.pem, mode 0600, stable across
// loads and never replaced by a concurrent first use.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import test from 'ava';
import { loadOrCreateNodeKey, loadOrCreateNodeKeyMaterial } from '../../src/ledger/node-key.ts';
import { identityFiles, identitySeed, loadNodeIdentity, nodeIdFromPeerId, peerIdFromNodeId, peerIdFromPublicKey, type NodeIdentity } from '../../src/network/identity.ts';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-identity-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('first use creates both key files with mode 0600; later loads give the same identity', async (t) => {
  const dir = await tempDir(t);
  const files = identityFiles(dir);
  const first = await loadNodeIdentity(files);
  t.is((await stat(files.nodeKeyFile)).mode & 0o777, 0o600);
  t.is((await stat(files.x25519KeyFile)).mode & 0o777, 0o600);
  const pem = await readFile(files.x25519KeyFile, 'utf8');

  const again = await loadNodeIdentity(files);
  t.is(again.nodeId, first.nodeId);
  t.is(again.peerId, first.peerId);
  t.is(hex(again.x25519.publicKey), hex(first.x25519.publicKey));
  t.is(await readFile(files.x25519KeyFile, 'utf8'), pem, 'the file is not rewritten');
  t.regex(first.peerId, /^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/);
  t.is(first.x25519.publicKey.length, 32);
});

test('the node id is the ledger node key\'s public key, and the peer id is libp2p\'s for the same key', async (t) => {
  const dir = await tempDir(t);
  const files = identityFiles(dir);
  const identity = await loadNodeIdentity(files);
  t.is(identity.nodeId, (await loadOrCreateNodeKey(files.nodeKeyFile)).publicKey);
  t.is(hex(identity.ed25519.publicKey), hex(Buffer.from(identity.nodeId, 'base64')));

  const seed = identitySeed(identity);
  t.is(seed.length, 32);
  t.is(hex(seed), hex((await loadOrCreateNodeKeyMaterial(files.nodeKeyFile)).seed));
  const libp2pKey = await generateKeyPairFromSeed('Ed25519', seed);
  t.is(peerIdFromPrivateKey(libp2pKey).toString(), identity.peerId);
  t.is(hex(libp2pKey.publicKey.raw), hex(identity.ed25519.publicKey));
});

test('node id and peer id convert into each other; other ids are no Sealpost node', (t) => {
  for (let i = 0; i < 20; i++) {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    const nodeId = raw.toString('base64');
    const peerId = peerIdFromNodeId(nodeId);
    t.is(peerId, peerIdFromPublicKey(new Uint8Array(raw)));
    t.is(nodeIdFromPeerId(peerId), nodeId);
  }
  for (const id of [
    'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', // RSA-era sha256 peer id
    '16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY', // secp256k1
    '12D3KooW', 'not base58 0OIl', '',
  ]) t.is(nodeIdFromPeerId(id), null, id);
  const base = peerIdFromNodeId(Buffer.alloc(32, 7).toString('base64'));
  t.is(nodeIdFromPeerId(`${base}1`), null, 'one character too many');
  for (const bad of ['AAAA', Buffer.alloc(31).toString('base64'), `${Buffer.alloc(32).toString('base64')} `, Buffer.alloc(32).toString('base64url')]) {
    const err = t.throws(() => peerIdFromNodeId(bad), { code: 'INVALID' }, bad);
    t.is((err as { field?: string } | undefined)?.field, 'nodeId');
  }
});

test('Ed25519 signs and verifies by node id; X25519 agrees on one secret both ways', async (t) => {
  const a = await loadNodeIdentity(identityFiles(await tempDir(t)));
  const b = await loadNodeIdentity(identityFiles(await tempDir(t)));
  const data = new TextEncoder().encode('custody share request');
  const sig = a.ed25519.sign(data);
  t.is(sig.length, 64);
  t.true(b.ed25519.verify(a.nodeId, data, sig));
  t.false(b.ed25519.verify(b.nodeId, data, sig), 'another node\'s id');
  const altered = Uint8Array.from(data);
  altered[0] = (altered[0] ?? 0) ^ 1;
  t.false(b.ed25519.verify(a.nodeId, altered, sig));

  const ab = a.x25519.agree(b.x25519.publicKey);
  t.is(ab.length, 32);
  t.is(hex(ab), hex(b.x25519.agree(a.x25519.publicKey)));
  t.not(hex(ab), hex(a.x25519.agree(a.x25519.publicKey)));
  t.throws(() => a.x25519.agree(new Uint8Array(31)), { code: 'INVALID' });
});

test('logging an identity cannot print the Ed25519 seed', async (t) => {
  const identity: NodeIdentity = await loadNodeIdentity(identityFiles(await tempDir(t)));
  const seedHex = hex(identitySeed(identity));
  const json = JSON.stringify(identity, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v));
  t.false(json.includes(seedHex));
  t.throws(() => identitySeed({ ...identity }), { code: 'INVALID' });
});

test('concurrent first uses of node-x25519.pem end with one key', async (t) => {
  const dir = await tempDir(t);
  const files = identityFiles(dir);
  await loadOrCreateNodeKey(files.nodeKeyFile);
  const all = await Promise.all(Array.from({ length: 8 }, () => loadNodeIdentity(files)));
  const keys = new Set(all.map((i) => hex(i.x25519.publicKey)));
  t.is(keys.size, 1);
  t.true(keys.has(hex((await loadNodeIdentity(files)).x25519.publicKey)));
});

test('a key file of the wrong kind is INVALID naming the file\'s field', async (t) => {
  const dir = await tempDir(t);
  const files = identityFiles(dir);
  await writeFile(files.x25519KeyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  let err = await t.throwsAsync(loadNodeIdentity(files), { code: 'INVALID' });
  t.is((err as { field?: string } | undefined)?.field, 'x25519Key');
  await writeFile(files.x25519KeyFile, 'junk', { mode: 0o600 });
  err = await t.throwsAsync(loadNodeIdentity(files), { code: 'INVALID' });
  t.is((err as { field?: string } | undefined)?.field, 'x25519Key');
  await writeFile(files.nodeKeyFile, generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  err = await t.throwsAsync(loadNodeIdentity(files), { code: 'INVALID' });
  t.is((err as { field?: string } | undefined)?.field, 'nodeKey');
});
