// The EVM registry against a real anvil on loopback: the shared contract on
// fresh deployments (log scans in chunks of 3 blocks, to cross chunk
// boundaries), the ABI against solc's, gas per registration, claim,
// announcement (batches of 1 and 100) and receipt, the binding of a node id
// to the account that registered it, records written straight to the
// contract with bad signatures (skipped on read), read-only handles, bad
// settings, and confirmations. Errors are checked by `code`.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { sealpostRegistryAbi } from '../../src/ledger/evm/abi.ts';
import { deployAnchorContract } from '../../src/ledger/evm/anchorer.ts';
import { openRegistryChain, type Address, type TxHash } from '../../src/ledger/evm/chain.ts';
import { compileRegistryContract } from '../../src/ledger/evm/compile.ts';
import { deployRegistry, openEvmRegistry, type EvmRegistryOptions } from '../../src/registry/evm.ts';
import { addressHash, encodeAddrs, generateSigner, packAnnouncements, signAddressClaim, signDeletionReceipt, signNodeRecord } from '../../src/registry/records.ts';
import type { Registry } from '../../src/registry/types.ts';
import { startAnvil, type Anvil } from '../helpers/anvil.ts';
import { freePort } from '../helpers/ports.ts';
import { addrOf, FP_V4, KEY_REF, registryContract, sampleAnnouncement, x25519Public } from './contract.ts';

let anvil: Anvil;
/** Each registry gets an account of its own: tests run at once, and one account has one nonce sequence. */
let nextKey = 0;
const takeKey = (): string => {
  const key = anvil.privateKeys[nextKey++];
  if (key === undefined) throw new Error('out of anvil accounts: raise `accounts` in test.before');
  return key;
};

const hex = (b: Uint8Array): `0x${string}` => `0x${Buffer.from(b).toString('hex')}`;

/** Deploys a registry with a fresh account and opens it with the same account. */
async function fresh(over: Partial<EvmRegistryOptions> = {}): Promise<{ registry: Registry; key: string; contract: string; block: number }> {
  const key = takeKey();
  const deployed = await deployRegistry({ rpcUrl: anvil.rpcUrl, privateKey: key, pollingIntervalMs: 20 });
  const registry = await openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract: deployed.address, privateKey: key, pollingIntervalMs: 20, pollIntervalMs: 50, logChunkBlocks: 3, ...over });
  return { registry, key, contract: deployed.address, block: deployed.block };
}

test.before(async () => {
  anvil = await startAnvil({ accounts: 60 });
});

test.after.always(async () => {
  await anvil?.stop();
});

registryContract(test, 'evm (anvil)', async () => {
  const { registry } = await fresh();
  const others: Registry[] = [];
  return {
    registry,
    async another() {
      const other = await fresh();
      others.push(other.registry);
      return other.registry;
    },
    async cleanup() {
      await registry.close();
      for (const o of others) await o.close();
    },
  };
});

test('the ABI in abi.ts equals the one solc compiles from contracts/SealpostRegistry.sol', async (t) => {
  const compiled = await compileRegistryContract();
  t.deepEqual(compiled.abi, JSON.parse(JSON.stringify(sealpostRegistryAbi)) as unknown[]);
  t.regex(compiled.bytecode, /^0x[0-9a-f]+$/);
});

test('deployRegistry: code on chain 31337, its deployBlock is the deployment block, the domain names chain and contract', async (t) => {
  const { registry, contract, block, key } = await fresh();
  t.teardown(() => registry.close());
  const chain = openRegistryChain({ rpcUrl: anvil.rpcUrl });
  t.true(await chain.hasCode(contract as Address));
  t.is(await chain.deployBlock(contract as Address), block);
  const account = openRegistryChain({ rpcUrl: anvil.rpcUrl, privateKey: key as `0x${string}` }).account;
  t.deepEqual(registry.domain, { kind: 'evm', chainId: 31337, contract, account: account ?? null });
});

test('gas: registration, claim, announcements in batches of 1 and 100, deletion receipt', async (t) => {
  const { registry } = await fresh();
  t.teardown(() => registry.close());
  const gas = async (what: string, write: Promise<{ tx: { gasUsed: bigint } | null }>): Promise<number> => {
    const { tx } = await write;
    if (tx === null) throw new Error(`${what}: nothing was sent`);
    return Number(tx.gasUsed);
  };
  const signer = generateSigner();
  const addrs = [addrOf(signer), '/ip4/127.0.0.1/udp/4001/quic-v1'];
  const register = await gas('register', registry.registerNode(await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs, seq: 1 })));
  const update = await gas('update', registry.registerNode(await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [addrs[1]!, addrs[0]!], seq: 2 })));
  const claim = await gas('claim', registry.claimAddress(await signAddressClaim(signer, registry.domain, { address: 'gas@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 })));
  const reclaim = await gas('claim update', registry.claimAddress(await signAddressClaim(signer, registry.domain, { address: 'gas@example.org', fingerprint: FP_V4.replace('0', 'F'), keyRef: KEY_REF, seq: 2 })));
  const deletion = await gas('deletion', registry.recordDeletion(await signDeletionReceipt(signer, registry.domain, { messageRef: new Uint8Array(randomBytes(32)), time: Date.now() })));
  t.log(`register ${register} (${encodeAddrs(addrs).length}-byte address list), update ${update}, claim ${claim}, claim update ${reclaim}, deletion receipt ${deletion}`);

  const perAnnouncement: Record<string, number> = {};
  for (const payload of [0, 64, 256]) {
    for (const size of [1, 100]) {
      // the second of two, so that no first-write effects count
      await registry.announce(Array.from({ length: size }, () => sampleAnnouncement(payload)));
      const used = await gas('announce', registry.announce(Array.from({ length: size }, () => sampleAnnouncement(payload))));
      perAnnouncement[`${payload}/${size}`] = Math.round(used / size);
      t.log(`announce: ${size} × ${payload}-byte payload: ${used} gas, ${Math.round(used / size)} per announcement`);
    }
  }
  t.true(register < 300_000, 'a registration stays under 300k gas');
  t.true(update < register, 'an update costs less than a first registration');
  t.true(claim < 300_000);
  t.true(deletion < 40_000);
  // Batched, an announcement costs about its calldata: under EIP-7623 (Prague)
  // a data-heavy transaction pays a floor of 40 gas per non-zero byte, which
  // covers the log; the 21,000 of the transaction are shared by the batch.
  for (const payload of [0, 64, 256]) {
    t.true(perAnnouncement[`${payload}/100`]! < 45 * (67 + payload) + 500, `batched, ${payload}-byte payload: about 40 gas per packed byte`);
    t.true(perAnnouncement[`${payload}/100`]! * 2 < perAnnouncement[`${payload}/1`]!, 'batching divides the per-transaction cost');
  }
});

test('a node id belongs to the account that registered it first: another account cannot update it, claim for it or post its receipts', async (t) => {
  const a = await fresh();
  t.teardown(() => a.registry.close());
  const bKey = takeKey();
  const b = await openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract: a.contract, privateKey: bKey, pollingIntervalMs: 20 });
  t.teardown(() => b.close());
  const node = generateSigner();
  const record = await signNodeRecord(node, a.registry.domain, { encKey: x25519Public(), addrs: [addrOf(node)], seq: 1 });
  await a.registry.registerNode(record);

  // The node key holder signs for account B: the contract still refuses B.
  const viaB = await signNodeRecord(node, b.domain, { encKey: x25519Public(), addrs: [], seq: 2 });
  t.like(await t.throwsAsync(b.registerNode(viaB)), { code: 'REGISTRY_NOT_OWNER', name: 'RegistryNotOwnerError' });
  t.like(await t.throwsAsync(b.claimAddress(await signAddressClaim(node, b.domain, { address: 'own@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 }))), { code: 'REGISTRY_NOT_OWNER' });
  t.like(await t.throwsAsync(b.recordDeletion(await signDeletionReceipt(node, b.domain, { messageRef: new Uint8Array(32), time: 1 }))), { code: 'REGISTRY_NOT_OWNER' });
  // A's own record sent through B is bound to A's account: refused before sending.
  t.like(await t.throwsAsync(b.registerNode({ ...record, seq: record.seq })), { code: 'REGISTRY_BAD_SIGNATURE' });
  // Straight to the contract, bypassing the client's checks: the contract reverts.
  const raw = openRegistryChain({ rpcUrl: anvil.rpcUrl, privateKey: bKey as `0x${string}` });
  const [sigR, sigS] = [hex(viaB.signature.subarray(0, 32)), hex(viaB.signature.subarray(32))];
  const err = await t.throwsAsync(raw.sendRegisterNode(a.contract as Address, { nodeId: hex(node.publicKey), encKey: hex(viaB.encKey), seq: 2n, addrs: hex(encodeAddrs([])), sigR, sigS }));
  t.like(err, { code: 'CHAIN_REVERTED', revert: 'NotNodeOwner' });
  t.deepEqual(await b.getNode(node.publicKey), record, 'both handles read the record A registered');
});

test('records written straight to the contract with bad signatures are skipped on read', async (t) => {
  const { registry, key, contract } = await fresh();
  t.teardown(() => registry.close());
  const raw = openRegistryChain({ rpcUrl: anvil.rpcUrl, privateKey: key as `0x${string}`, pollingIntervalMs: 20 });
  const c = contract as Address;
  const send = async (tx: Promise<TxHash>) => raw.waitForReceipt(await tx);
  const good = generateSigner();
  const goodRecord = await signNodeRecord(good, registry.domain, { encKey: x25519Public(), addrs: [addrOf(good)], seq: 1 });
  await registry.registerNode(goodRecord);

  // a node id registered with a signature that is not its key's (a squatter)
  const squatted = generateSigner();
  const zero = hex(new Uint8Array(32));
  await send(raw.sendRegisterNode(c, { nodeId: hex(squatted.publicKey), encKey: hex(x25519Public()), seq: 1n, addrs: hex(encodeAddrs([])), sigR: zero, sigS: zero }));
  // a valid record of another account's, copied and sent from this one (front-running)
  const copied = generateSigner();
  if (registry.domain.kind !== 'evm') throw new Error('not an EVM registry');
  const elsewhere = await signNodeRecord(copied, { ...registry.domain, account: '0x000000000000000000000000000000000000dEaD' }, { encKey: x25519Public(), addrs: [], seq: 1 });
  await send(raw.sendRegisterNode(c, { nodeId: hex(copied.publicKey), encKey: hex(elsewhere.encKey), seq: 1n, addrs: hex(encodeAddrs([])), sigR: hex(elsewhere.signature.subarray(0, 32)), sigS: hex(elsewhere.signature.subarray(32)) }));
  t.is(await raw.nodeCount(c), 3);
  t.is(await registry.getNode(squatted.publicKey), null);
  t.is(await registry.getNode(copied.publicKey), null);
  t.deepEqual(await registry.listNodes(), [goodRecord]);

  // a claim and a receipt of the good node with bad signatures
  const claim = await signAddressClaim(good, registry.domain, { address: 'skip@example.org', fingerprint: FP_V4, keyRef: KEY_REF, seq: 1 });
  await send(raw.sendClaimAddress(c, { addressHash: hex(addressHash(claim.address)), nodeId: hex(good.publicKey), seq: 1n, fingerprint: `0x${FP_V4.toLowerCase()}`, keyRef: 'bafkreimallory', sigR: hex(claim.signature.subarray(0, 32)), sigS: hex(claim.signature.subarray(32)) }));
  t.is(await registry.lookupAddress('skip@example.org'), null);
  const ref = new Uint8Array(randomBytes(32));
  const receipt = await signDeletionReceipt(good, registry.domain, { messageRef: ref, time: 1000 });
  await send(raw.sendRecordDeletion(c, { messageRef: hex(ref), custodian: hex(good.publicKey), time: 1001n, sigR: hex(receipt.signature.subarray(0, 32)), sigS: hex(receipt.signature.subarray(32)) }));
  await registry.recordDeletion(receipt);
  t.deepEqual(await registry.deletionReceipts(ref), [receipt]);

  // the contract refuses malformed announcement batches
  const packed = packAnnouncements([sampleAnnouncement(10), sampleAnnouncement(0)]);
  for (const bad of [packed.subarray(0, packed.length - 1), packed.subarray(0, 66), new Uint8Array(0)]) {
    const err = await t.throwsAsync(raw.sendAnnounce(c, hex(bad)));
    t.like(err, { code: 'CHAIN_REVERTED' });
    t.true(['MalformedAnnouncements', 'BadField'].includes((err as { revert?: string }).revert ?? ''), (err as { revert?: string }).revert);
  }
  const tooLong = Buffer.from(packAnnouncements([sampleAnnouncement(0)]));
  tooLong.writeUInt16BE(1025, 65);
  t.like(await t.throwsAsync(raw.sendAnnounce(c, hex(Buffer.concat([tooLong, new Uint8Array(1025)])))), { revert: 'MalformedAnnouncements' });
  t.deepEqual((await registry.scanAnnouncements(null, 10)).entries, []);
});

test('a handle without a key reads everything and refuses writes with INVALID (registry.evm.privateKey)', async (t) => {
  const { registry, contract } = await fresh();
  t.teardown(() => registry.close());
  const signer = generateSigner();
  const record = await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [addrOf(signer)], seq: 1 });
  await registry.registerNode(record);
  const posted = [sampleAnnouncement(), sampleAnnouncement()];
  await registry.announce(posted);
  const reader = await openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract });
  t.teardown(() => reader.close());
  t.is(reader.domain.kind === 'evm' ? reader.domain.account : 'not evm', null);
  t.deepEqual(await reader.getNode(signer.publicKey), record);
  t.is((await reader.scanAnnouncements(null, 10)).entries.length, 2);
  t.like(await t.throwsAsync(reader.announce([sampleAnnouncement()])), { code: 'INVALID', field: 'registry.evm.privateKey' });
  t.like(await t.throwsAsync(reader.registerNode(record)), { code: 'INVALID', field: 'registry.evm.privateKey' });
  t.like(await t.throwsAsync(signNodeRecord(signer, reader.domain, { encKey: x25519Public(), addrs: [], seq: 2 })), { code: 'INVALID', field: 'domain.account' });
});

test('bad settings are INVALID naming the field; a chain that does not answer is CHAIN_UNAVAILABLE', async (t) => {
  const key = anvil.privateKeys[0] as string;
  const nothingThere = `0x${'12'.repeat(20)}`;
  t.like(await t.throwsAsync(openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract: nothingThere })), { code: 'INVALID', field: 'registry.evm.contract' });
  t.like(await t.throwsAsync(openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract: 'registry' })), { code: 'INVALID', field: 'registry.evm.contract' });
  t.like(await t.throwsAsync(openEvmRegistry({ rpcUrl: 'ftp://127.0.0.1/', contract: nothingThere })), { code: 'INVALID', field: 'registry.evm.rpcUrl' });
  t.like(await t.throwsAsync(openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract: nothingThere, privateKey: '0x1234' })), { code: 'INVALID', field: 'registry.evm.privateKey' });
  const anchor = await deployAnchorContract({ rpcUrl: anvil.rpcUrl, privateKey: takeKey() });
  t.like(await t.throwsAsync(openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract: anchor.address })), { code: 'INVALID', field: 'registry.evm.contract' }, 'an anchoring contract is no registry');
  const closed = `http://127.0.0.1:${await freePort()}`;
  t.like(await t.throwsAsync(openEvmRegistry({ rpcUrl: closed, contract: nothingThere, retryCount: 0, timeoutMs: 2_000 })), { code: 'CHAIN_UNAVAILABLE' });
  t.like(await t.throwsAsync(deployRegistry({ rpcUrl: closed, privateKey: key, retryCount: 0, timeoutMs: 2_000 })), { code: 'CHAIN_UNAVAILABLE' });
});

// Serial (ava runs serial tests before the others): no other test mines blocks meanwhile, so block depths are known.
test.serial('scans cross log chunks of one block and skip other transactions; confirmations hold back the newest blocks', async (t) => {
  const { registry, contract, key } = await fresh({ logChunkBlocks: 1 });
  t.teardown(() => registry.close());
  const signer = generateSigner();
  const posted = [];
  for (let i = 0; i < 5; i++) {
    const batch = Array.from({ length: i + 1 }, () => sampleAnnouncement(i));
    posted.push(...batch);
    await registry.announce(batch);
    // a block with something else in between
    await registry.registerNode(await signNodeRecord(signer, registry.domain, { encKey: x25519Public(), addrs: [], seq: i + 1 }));
  }
  const seen = [];
  let cursor = null;
  for (let pages = 0; pages < 20; pages++) {
    const page = await registry.scanAnnouncements(cursor, 4);
    seen.push(...page.entries);
    cursor = page.next;
    if (page.entries.length < 4) break;
  }
  t.deepEqual(seen.map((e) => hex(e.tag)), posted.map((e) => hex(e.tag)));

  const mine = (blocks: number) =>
    fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: [`0x${blocks.toString(16)}`] }) });
  const cautious = await openEvmRegistry({ rpcUrl: anvil.rpcUrl, contract, privateKey: key, confirmations: 2 });
  t.teardown(() => cautious.close());
  t.is((await cautious.scanAnnouncements(null, 100)).entries.length, 10, 'the last batch is not two blocks deep yet');
  await mine(2);
  t.is((await cautious.scanAnnouncements(null, 100)).entries.length, 15);
  const head = await cautious.announcementHead();
  const late = sampleAnnouncement();
  await registry.announce([late]);
  t.deepEqual((await cautious.scanAnnouncements(head, 10)).entries, [], 'not yet two blocks deep');
  await mine(2);
  const page = await cautious.scanAnnouncements(head, 10);
  t.deepEqual(page.entries.map((e) => hex(e.tag)), [hex(late.tag)]);
});
