// The registry's encodings and signatures (src/registry/records.ts): RFC 8032
// test vector 1 through node:crypto, the documented byte layouts rebuilt
// here field by field, domain separation (kind of record, registry, chain,
// contract, sending account), the address hash, the peer id against
// libp2p's own, and the strict decoders.
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import test from 'ava';
import {
  addressHash,
  canonicalAddress,
  decodeAddrs,
  encodeAddrs,
  encodeAddressClaim,
  encodeDeletionReceipt,
  encodeDomain,
  encodeNodeRecord,
  formatNodeId,
  generateSigner,
  packAnnouncements,
  parseNodeId,
  peerIdOf,
  signAddressClaim,
  signDeletionReceipt,
  signerFromPrivateKey,
  signNodeRecord,
  unpackAnnouncements,
  verifyAddressClaim,
  verifyDeletionReceipt,
  verifyEd25519,
  verifyNodeRecord,
} from '../../src/registry/records.ts';
import type { NodeRecord, RegistryDomain } from '../../src/registry/types.ts';
import { FP_V4, FP_V6, KEY_REF, sampleAnnouncement } from './contract.ts';

// RFC 8032 §7.1, TEST 1
const RFC_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SIGNATURE = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

const rfcSigner = () => signerFromPrivateKey(createPrivateKey({ key: Buffer.from(`302e020100300506032b657004220420${RFC_SECRET}`, 'hex'), format: 'der', type: 'pkcs8' }));
const local: RegistryDomain = { kind: 'local', id: new Uint8Array(32).fill(0xaa) };
const evm: RegistryDomain = { kind: 'evm', chainId: 31337, contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3', account: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' };
const h = (hex: string) => Buffer.from(hex, 'hex');
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('RFC 8032 test 1: the signer holds the published public key and signs the empty message to the published signature', async (t) => {
  const signer = rfcSigner();
  t.is(hexOf(signer.publicKey), RFC_PUBLIC);
  t.is(hexOf(await signer.sign(new Uint8Array(0))), RFC_SIGNATURE);
  t.true(verifyEd25519(h(RFC_PUBLIC), new Uint8Array(0), h(RFC_SIGNATURE)));
  t.false(verifyEd25519(h(RFC_PUBLIC), Uint8Array.of(0), h(RFC_SIGNATURE)));
  t.false(verifyEd25519(h(RFC_PUBLIC).subarray(1), new Uint8Array(0), h(RFC_SIGNATURE)), 'a short key is simply invalid');
  t.false(verifyEd25519(new Uint8Array(32).fill(0xff), new Uint8Array(0), h(RFC_SIGNATURE)), 'a key off the curve is simply invalid');
});

test('the node record layout: tag, domain, owner, node id, encryption key, seq, address list', async (t) => {
  const signer = rfcSigner();
  const addrs = [`/ip4/127.0.0.1/tcp/4001/p2p/${peerIdOf(signer.publicKey)}`, '/ip6/::1/tcp/4001'];
  const encKey = new Uint8Array(32).fill(0x11);
  const record = await signNodeRecord(signer, local, { encKey, addrs, seq: 7 });
  const addrList = Buffer.concat([Buffer.of(2), ...addrs.flatMap((a) => [u16(a.length), Buffer.from(a)])]);
  t.deepEqual(Buffer.from(encodeAddrs(addrs)), addrList);
  const expectLocal = Buffer.concat([Buffer.from('sealpost/registry/node/v1\0'), Buffer.of(1), Buffer.alloc(32, 0xaa), Buffer.of(0), h(RFC_PUBLIC), encKey, u64(7), addrList]);
  t.deepEqual(Buffer.from(encodeNodeRecord(local, new Uint8Array(0), record)), expectLocal);
  t.true(verifyEd25519(record.nodeId, expectLocal, record.signature));
  t.deepEqual(record, { nodeId: new Uint8Array(h(RFC_PUBLIC)), encKey, addrs, seq: 7, signature: record.signature });

  const owner = h('f39fd6e51aad88f6f4ce6ab8827279cfffb92266');
  const expectEvm = Buffer.concat([
    Buffer.from('sealpost/registry/node/v1\0'), Buffer.of(2), u64(31337), h('5fbdb2315678afecb367f032d93f642f64180aa3'), Buffer.of(20), owner,
    h(RFC_PUBLIC), encKey, u64(7), addrList,
  ]);
  t.deepEqual(Buffer.from(encodeNodeRecord(evm, owner, record)), expectEvm);
  const onChain = await signNodeRecord(signer, evm, { encKey, addrs, seq: 7 });
  t.true(verifyEd25519(onChain.nodeId, expectEvm, onChain.signature), 'an EVM record binds the sending account');
});

test('the claim and deletion layouts; the address hash is prefixed SHA-256 of the lower-cased address', async (t) => {
  const signer = rfcSigner();
  const claim = await signAddressClaim(signer, local, { address: 'Alice@Example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 3 });
  const hash = createHash('sha256').update('sealpost-address-v1:alice@example.org').digest();
  t.deepEqual(Buffer.from(addressHash('ALICE@example.ORG')), hash);
  t.notDeepEqual(Buffer.from(addressHash('alice@example.org')), createHash('sha256').update('alice@example.org').digest(), 'not the bare (Gravatar) hash');
  const expectClaim = Buffer.concat([
    Buffer.from('sealpost/registry/claim/v1\0'), Buffer.of(1), Buffer.alloc(32, 0xaa), hash, h(RFC_PUBLIC), u64(3),
    Buffer.of(20), h(FP_V4), u16(KEY_REF.length), Buffer.from(KEY_REF),
  ]);
  t.deepEqual(Buffer.from(encodeAddressClaim(local, claim)), expectClaim);
  t.true(verifyEd25519(claim.nodeId, expectClaim, claim.signature));

  const ref = new Uint8Array(32).fill(0x42);
  const receipt = await signDeletionReceipt(signer, local, { messageRef: ref, time: 1_764_067_200_123 });
  const expectReceipt = Buffer.concat([Buffer.from('sealpost/registry/deletion/v1\0'), Buffer.of(1), Buffer.alloc(32, 0xaa), ref, h(RFC_PUBLIC), u64(1_764_067_200_123)]);
  t.deepEqual(Buffer.from(encodeDeletionReceipt(local, receipt)), expectReceipt);
  t.true(verifyEd25519(receipt.custodian, expectReceipt, receipt.signature));
});

test('signatures are bound to their registry: another id, chain, contract or sending account fails', async (t) => {
  const signer = generateSigner();
  const fields = { encKey: new Uint8Array(32).fill(5), addrs: [], seq: 1 };
  const onLocal = await signNodeRecord(signer, local, fields);
  t.true(verifyNodeRecord(local, onLocal));
  t.false(verifyNodeRecord({ kind: 'local', id: new Uint8Array(32).fill(0xab) }, onLocal));
  t.false(verifyNodeRecord(evm, onLocal));

  const onEvm = await signNodeRecord(signer, evm, fields);
  t.true(verifyNodeRecord(evm, onEvm));
  t.true(verifyNodeRecord({ ...evm, account: null }, onEvm, h('f39fd6e51aad88f6f4ce6ab8827279cfffb92266')), 'a reader checks against the owner it reads on chain');
  t.false(verifyNodeRecord({ ...evm, chainId: 1 }, onEvm), 'another chain');
  t.false(verifyNodeRecord({ ...evm, contract: '0x5FbDB2315678afecb367f032d93F642f64180aa4' }, onEvm), 'another contract');
  t.false(verifyNodeRecord({ ...evm, account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' }, onEvm), 'another sending account');
  t.false(verifyNodeRecord({ ...evm, account: null }, onEvm), 'a read-only domain has no owner to check against');

  const claim = await signAddressClaim(signer, evm, { address: 'bob@example.org', fingerprint: FP_V6, keyRef: KEY_REF, seq: 1 });
  t.true(verifyAddressClaim(evm, claim));
  t.true(verifyAddressClaim({ ...evm, account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' }, claim), 'claims are not bound to the sender (the contract checks node ownership)');
  t.false(verifyAddressClaim({ ...evm, chainId: 10 }, claim));
  const receipt = await signDeletionReceipt(signer, evm, { messageRef: new Uint8Array(32), time: 0 });
  t.true(verifyDeletionReceipt(evm, receipt));
  t.false(verifyDeletionReceipt(local, receipt));
  // one kind of record never verifies as another, whatever the bytes
  const asReceipt = { messageRef: new Uint8Array(32), custodian: signer.publicKey, time: 0, signature: claim.signature };
  t.false(verifyDeletionReceipt(evm, asReceipt));
});

test('verify* never throw: malformed records are simply invalid', (t) => {
  const junk = { nodeId: new Uint8Array(3), encKey: 'x', addrs: 5, seq: -1, signature: null } as unknown as NodeRecord;
  t.false(verifyNodeRecord(local, junk));
  t.false(verifyNodeRecord({ kind: 'evm', chainId: 0, contract: 'x', account: null }, junk));
});

test('the domain encodes its kind, and refuses malformed fields by name', (t) => {
  t.deepEqual(Buffer.from(encodeDomain(local)), Buffer.concat([Buffer.of(1), Buffer.alloc(32, 0xaa)]));
  t.is(encodeDomain(evm).length, 1 + 8 + 20);
  t.like(t.throws(() => encodeDomain({ kind: 'local', id: new Uint8Array(31) })), { code: 'INVALID', field: 'domain.id' });
  t.like(t.throws(() => encodeDomain({ ...evm, chainId: 0 })), { code: 'INVALID', field: 'domain.chainId' });
  t.like(t.throws(() => encodeDomain({ ...evm, contract: '0x1234' })), { code: 'INVALID', field: 'domain.contract' });
});

test('peerIdOf equals libp2p’s peer id of the same key; node ids round-trip as base64', (t) => {
  for (const signer of [rfcSigner(), generateSigner(), generateSigner()]) {
    t.is(peerIdOf(signer.publicKey), peerIdFromPublicKey(publicKeyFromRaw(signer.publicKey)).toString());
    t.regex(peerIdOf(signer.publicKey), /^12D3KooW/);
    t.deepEqual(parseNodeId(formatNodeId(signer.publicKey)), signer.publicKey);
  }
  t.like(t.throws(() => parseNodeId('AAAA')), { code: 'INVALID', field: 'nodeId' });
});

test('address lists and announcement batches decode only from their canonical form', (t) => {
  const addrs = ['/ip4/127.0.0.1/tcp/1', '/dns4/localhost/tcp/2'];
  t.deepEqual(decodeAddrs(encodeAddrs(addrs)), addrs);
  t.deepEqual(decodeAddrs(encodeAddrs([])), []);
  const encoded = encodeAddrs(addrs);
  for (const bad of [new Uint8Array(0), encoded.subarray(0, encoded.length - 1), Uint8Array.of(...encoded, 0), Uint8Array.of(1, 0, 2, 0xff, 0xfe)]) {
    t.like(t.throws(() => decodeAddrs(bad)), { code: 'INVALID', field: 'addrs' });
  }

  const batch = [sampleAnnouncement(0), sampleAnnouncement(1024), sampleAnnouncement(3)];
  const packed = packAnnouncements(batch);
  t.is(packed.length, 3 * 67 + 1027);
  t.deepEqual(unpackAnnouncements(packed), batch);
  for (const bad of [new Uint8Array(0), packed.subarray(0, 66), packed.subarray(0, packed.length - 1)]) {
    t.like(t.throws(() => unpackAnnouncements(bad)), { code: 'INVALID', field: 'entries' });
  }
});

test('canonical addresses: NFC and lower case; malformed ones are INVALID (address)', (t) => {
  t.is(canonicalAddress('JOSE\u0301@Example.ORG'), 'jos\u00e9@example.org');
  t.deepEqual(addressHash('jose\u0301@example.org'), addressHash('JOS\u00c9@EXAMPLE.ORG'), 'one address, one hash');
  for (const bad of ['', 'plain', '@example.org', 'a@', 'a b@example.org', 'a@b@c', `${'x'.repeat(250)}@ex.org`, '<a@b>']) {
    t.like(t.throws(() => canonicalAddress(bad)), { code: 'INVALID', field: 'address' }, bad);
  }
});

test('a NodeIdentity-like signer (raw key, async sign) works; a key of another type is refused', async (t) => {
  const inner = generateSigner();
  const asyncSigner = { publicKey: inner.publicKey, sign: async (m: Uint8Array) => inner.sign(m) };
  const record = await signNodeRecord(asyncSigner, local, { encKey: new Uint8Array(32).fill(1), addrs: [], seq: 1 });
  t.true(verifyNodeRecord(local, record));
  t.like(t.throws(() => signerFromPrivateKey(generateKeyPairSync('x25519').privateKey)), { code: 'INVALID', field: 'privateKey' });
});
