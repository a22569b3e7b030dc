// The EVM anchoring backend against a real anvil on loopback: deploy the
// contract compiled from source, anchor roots, check anchors (and forged or
// altered ones), idempotency after a lost answer, gas per anchor, a chain that
// goes away and comes back with its state. Errors are checked by `code`.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sealpostAnchorAbi } from '../../src/ledger/evm/abi.ts';
import { createEvmAnchorer, deployAnchorContract, readPrivateKeyFile, type DeployedContract } from '../../src/ledger/evm/anchorer.ts';
import { openChain } from '../../src/ledger/evm/chain.ts';
import { compileAnchorContract } from '../../src/ledger/evm/compile.ts';
import type { Anchorer, AnchorRef, Batch } from '../../src/ledger/types.ts';
import { ANVIL_KEY_1, startAnvil, type Anvil } from '../helpers/anvil.ts';
import { freePort } from '../helpers/ports.ts';

/** Anchoring 1,000 messages in one transaction must cost under 100 gas each. */
const GAS_LIMIT_PER_ANCHOR = 100_000n;

type EvmRef = Extract<AnchorRef, { kind: 'evm' }>;

let anvil: Anvil;
let deployed: DeployedContract;
/** The one writer on the shared anvil: anchor() calls are serialised inside it (one nonce sequence). */
let anchorer: Anchorer;

const evm = (ref: AnchorRef): EvmRef => {
  if (ref.kind !== 'evm') throw new Error(`expected an evm anchor, got ${ref.kind}`);
  return ref;
};

/** Hands out batches in the order the contract wants them: ids 1, 2, 3…, records following on. */
function batchSequence(): (size?: number) => Batch {
  let id = 1;
  let seq = 1;
  return (size = 3) => {
    const batch = { id: id++, root: randomBytes(32).toString('hex'), firstSeq: seq, size, closedAt: Date.now() };
    seq += size;
    return batch;
  };
}
const nextShared = batchSequence();

/**
 * The next batch of the shared contract, its anchoring queued at once: tests
 * run concurrently, and the contract refuses batches out of order.
 */
function anchorNext(size = 3): { batch: Batch; ref: Promise<EvmRef> } {
  const batch = nextShared(size);
  return { batch, ref: anchorer.anchor(batch).then(evm) };
}

/** A batch that never reaches the chain. */
const loose = (): Batch => ({ id: 1, root: randomBytes(32).toString('hex'), firstSeq: 1, size: 1, closedAt: Date.now() });

test.before(async () => {
  anvil = await startAnvil();
  deployed = await deployAnchorContract({ rpcUrl: anvil.rpcUrl, privateKey: anvil.privateKey });
  anchorer = await createEvmAnchorer({ rpcUrl: anvil.rpcUrl, contract: deployed.address, privateKey: anvil.privateKey, pollingIntervalMs: 50 });
});

test.after.always(async () => {
  await anchorer?.close();
  await anvil?.stop();
});

test('the ABI in abi.ts equals the one solc compiles from contracts/SealpostAnchor.sol', async (t) => {
  const compiled = await compileAnchorContract();
  t.deepEqual(compiled.abi, JSON.parse(JSON.stringify(sealpostAnchorAbi)) as unknown[]);
  t.regex(compiled.bytecode, /^0x[0-9a-f]+$/);
});

test('deploy: the contract is on chain 31337, owned by the deploying account', async (t) => {
  t.is(deployed.chainId, 31337);
  t.regex(deployed.address, /^0x[0-9a-fA-F]{40}$/);
  const chain = openChain({ rpcUrl: anvil.rpcUrl });
  t.true(await chain.hasCode(deployed.address as `0x${string}`));
  t.is((await chain.owner(deployed.address as `0x${string}`)).toLowerCase(), '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
});

test('anchor writes the root on chain and check() confirms it from the chain', async (t) => {
  const before = Date.now();
  const { batch: b, ref: pending } = anchorNext(1000);
  const ref = await pending;
  t.is(ref.chainId, 31337);
  t.is(ref.contract.toLowerCase(), deployed.address.toLowerCase());
  t.regex(ref.tx, /^0x[0-9a-f]{64}$/);
  t.true(ref.block > deployed.block);
  t.true(Math.abs(ref.time - before) < 60_000, 'block time is about now');

  const chain = openChain({ rpcUrl: anvil.rpcUrl });
  const onChain = await chain.anchoredAt(deployed.address as `0x${string}`, `0x${b.root}`);
  t.deepEqual(onChain, { time: ref.time / 1000, blockNumber: ref.block, batchId: b.id, firstSeq: b.firstSeq, size: 1000 });
  t.deepEqual(await chain.anchoredAt(deployed.address as `0x${string}`, `0x${randomBytes(32).toString('hex')}`), { time: 0, blockNumber: 0, batchId: 0, firstSeq: 0, size: 0 });

  const step = await anchorer.check(b, ref);
  t.true(step.ok, step.detail);
  t.is(step.step, 'anchor');
  t.true(step.detail.includes(`block ${ref.block}`) && step.detail.includes(ref.tx));
});

test(`one anchor transaction costs under ${GAS_LIMIT_PER_ANCHOR} gas (under 100 per message in a 1,000-message batch)`, async (t) => {
  // Two in a row: the second is surely not the contract's first (which also initialises its order slot).
  const refs = await Promise.all([anchorNext(1000).ref, anchorNext(1000).ref]);
  const chain = openChain({ rpcUrl: anvil.rpcUrl });
  for (const ref of refs) {
    const receipt = await chain.receipt(ref.tx as `0x${string}`);
    if (receipt === null) throw new Error(`no receipt for ${ref.tx}`);
    t.log(`gas used by one anchor: ${receipt.gasUsed} (${Number(receipt.gasUsed) / 1000} per message at 1,000)`);
    t.true(receipt.gasUsed < GAS_LIMIT_PER_ANCHOR);
  }
});

test('anchor is idempotent: the same batch again, or from a fresh anchorer after a crash, returns the first transaction', async (t) => {
  const { batch: b, ref } = anchorNext();
  const first = await ref;
  t.deepEqual(await anchorer.anchor(b), first);
  // A process that sent the transaction and crashed before recording it starts afresh.
  const restarted = await createEvmAnchorer({ rpcUrl: anvil.rpcUrl, contract: deployed.address, privateKey: anvil.privateKey });
  t.deepEqual(await restarted.anchor(b), first);
  // The same root claimed by another batch is refused without sending anything.
  const other = await t.throwsAsync(restarted.anchor({ ...b, id: b.id + 1000 }));
  t.like(other as object, { code: 'CHAIN_REVERTED', revert: 'AlreadyAnchored' });
  await restarted.close();
});

test('concurrent anchors of several batches each land in their own transaction', async (t) => {
  const queued = [anchorNext(), anchorNext(), anchorNext(), anchorNext()];
  const refs = await Promise.all(queued.map((q) => q.ref));
  t.is(new Set(refs.map((r) => r.tx)).size, queued.length);
  for (const [i, { batch: b }] of queued.entries()) {
    const step = await anchorer.check(b, refs[i] as EvmRef);
    t.true(step.ok, step.detail);
  }
});

test('check fails, naming the reason, for altered or forged anchors', async (t) => {
  const mine = anchorNext(7);
  const next = anchorNext(7);
  const b = mine.batch;
  const ref = await mine.ref;
  const other = await next.ref;
  const cases: [string, Batch, AnchorRef][] = [
    ['a different root', { ...b, root: randomBytes(32).toString('hex') }, ref],
    ['another size', { ...b, size: 8 }, ref],
    ['another batch id', { ...b, id: b.id + 1 }, ref],
    ['another first record', { ...b, firstSeq: b.firstSeq + 1 }, ref],
    ['a forged transaction hash', b, { ...ref, tx: `0x${randomBytes(32).toString('hex')}` }],
    ['another anchor transaction', b, { ...ref, tx: other.tx, block: other.block }],
    ['the deployment transaction', b, { ...ref, tx: deployed.tx, block: deployed.block }],
    ['a wrong block', b, { ...ref, block: ref.block + 1 }],
    ['a wrong time', b, { ...ref, time: ref.time + 1000 }],
    ['another chain', b, { ...ref, chainId: 1 }],
    ['another contract', b, { ...ref, contract: '0x000000000000000000000000000000000000dEaD' }],
    ['a malformed hash', b, { ...ref, tx: 'not-a-hash' }],
    ['a local anchor', b, { kind: 'local', statement: '{}', signature: '', publicKey: '' }],
  ];
  for (const [name, checkedBatch, checkedRef] of cases) {
    const step = await anchorer.check(checkedBatch, checkedRef);
    t.false(step.ok, `${name}: ${step.detail}`);
    t.is(step.step, 'anchor');
    t.true(step.detail.length > 0);
  }
  t.true((await anchorer.check(b, ref)).ok, 'the genuine anchor still checks');
});

test('the contract refuses, with CHAIN_REVERTED, a root twice (AlreadyAnchored), a batch out of order (OutOfOrder), a stranger (NotOwner)', async (t) => {
  const { batch: b, ref } = anchorNext();
  await ref;
  const contract = deployed.address as `0x${string}`;
  const owner = openChain({ rpcUrl: anvil.rpcUrl, privateKey: anvil.privateKey as `0x${string}` });
  const asSent = (batch: Batch) => ({ root: `0x${batch.root}` as const, batchId: batch.id, firstSeq: batch.firstSeq, size: batch.size });
  // All three revert in gas estimation, before anything is signed: the shared nonce sequence is untouched.
  const again = await t.throwsAsync(owner.sendAnchor(contract, asSent(b)));
  t.like(again as object, { name: 'ChainError', code: 'CHAIN_REVERTED', revert: 'AlreadyAnchored' });
  const skipped = await t.throwsAsync(owner.sendAnchor(contract, asSent({ ...loose(), id: 1_000_000, firstSeq: 1_000_000 })));
  t.like(skipped as object, { code: 'CHAIN_REVERTED', revert: 'OutOfOrder' });
  const stranger = openChain({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_KEY_1 as `0x${string}` });
  const refused = await t.throwsAsync(stranger.sendAnchor(contract, asSent(loose())));
  t.like(refused as object, { code: 'CHAIN_REVERTED', revert: 'NotOwner' });
});

test('createEvmAnchorer refuses a key that does not own the contract, and an address without a contract', async (t) => {
  const notOwner = await t.throwsAsync(createEvmAnchorer({ rpcUrl: anvil.rpcUrl, contract: deployed.address, privateKey: ANVIL_KEY_1 }));
  t.is((notOwner as { code?: string }).code, 'INVALID');
  t.is((notOwner as { field?: string }).field, 'ledger.evm.privateKeyFile');

  const empty = await t.throwsAsync(createEvmAnchorer({ rpcUrl: anvil.rpcUrl, contract: '0x000000000000000000000000000000000000dEaD', privateKey: anvil.privateKey }));
  t.is((empty as { field?: string }).field, 'ledger.evm.contract');
});

test('settings are validated: rpcUrl must be http(s), contract an address, key 32 bytes of hex', async (t) => {
  const base = { rpcUrl: anvil.rpcUrl, contract: deployed.address, privateKey: anvil.privateKey };
  const bad: [string, Partial<typeof base>][] = [
    ['ledger.evm.rpcUrl', { rpcUrl: 'ws://127.0.0.1:8545' }],
    ['ledger.evm.rpcUrl', { rpcUrl: 'not a url' }],
    ['ledger.evm.contract', { contract: '0x1234' }],
    ['ledger.evm.privateKey', { privateKey: anvil.privateKey.slice(2) }],
    ['ledger.evm.privateKey', { privateKey: `0x${'0'.repeat(64)}` }],
    ['ledger.evm.privateKey', { privateKey: `0x${'f'.repeat(64)}` }],
  ];
  for (const [field, change] of bad) {
    const error = await t.throwsAsync(createEvmAnchorer({ ...base, ...change }));
    t.is((error as { field?: string }).field, field, JSON.stringify(change));
  }
});

test('readPrivateKeyFile trims the key and refuses a file others may read', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-evm-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'key');
  await writeFile(file, `  ${ANVIL_KEY_1.toUpperCase().replace('0X', '0x')}\n`, { mode: 0o600 });
  t.is(await readPrivateKeyFile(file), ANVIL_KEY_1);

  await chmod(file, 0o644);
  t.is((await t.throwsAsync(readPrivateKeyFile(file)) as { field?: string }).field, 'ledger.evm.privateKeyFile');
  await chmod(file, 0o600);
  await writeFile(file, 'garbage\n');
  t.is((await t.throwsAsync(readPrivateKeyFile(file)) as { field?: string }).field, 'ledger.evm.privateKeyFile');
  t.is((await t.throwsAsync(readPrivateKeyFile(path.join(dir, 'missing'))) as { field?: string }).field, 'ledger.evm.privateKeyFile');
});

test('a chain that goes away gives CHAIN_UNAVAILABLE quickly; restarted from its state file, earlier anchors still check', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-evm-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const stateFile = path.join(dir, 'anvil-state.json');
  let node = await startAnvil({ stateFile });
  t.teardown(() => node.stop());
  const { address } = await deployAnchorContract({ rpcUrl: node.rpcUrl, privateKey: node.privateKey });
  const own = await createEvmAnchorer({ rpcUrl: node.rpcUrl, contract: address, privateKey: node.privateKey, timeoutMs: 1_000, retryCount: 0, pollingIntervalMs: 50 });
  const next = batchSequence();
  const first = next();
  const ref = evm(await own.anchor(first));
  const firstReceipt = await openChain({ rpcUrl: node.rpcUrl }).receipt(ref.tx as `0x${string}`);
  t.log(`gas used by a contract's first anchor: ${firstReceipt?.gasUsed}`);
  t.true((firstReceipt?.gasUsed ?? GAS_LIMIT_PER_ANCHOR) < GAS_LIMIT_PER_ANCHOR);

  await node.stop();
  const second = next();
  const started = Date.now();
  const down = await t.throwsAsync(own.anchor(second));
  t.is((down as { code?: string }).code, 'CHAIN_UNAVAILABLE');
  const downCheck = await t.throwsAsync(own.check(first, ref));
  t.is((downCheck as { code?: string }).code, 'CHAIN_UNAVAILABLE');
  t.true(Date.now() - started < 3_000, `failed after ${Date.now() - started} ms`);

  node = await startAnvil({ stateFile, port: node.port });
  const step = await own.check(first, ref);
  t.true(step.ok, step.detail);
  // The batch that failed is anchored on the next attempt, in order.
  const afterRestart = evm(await own.anchor(second));
  t.true(afterRestart.block > ref.block);
  t.true((await own.check(second, afterRestart)).ok);
  t.deepEqual(await openChain({ rpcUrl: node.rpcUrl }).head(address as `0x${string}`), { lastBatchId: 2, lastSeq: second.firstSeq + second.size - 1 });
  await own.close();
});

test('an anchorer created while the chain is down still starts, and reports CHAIN_UNAVAILABLE on use', async (t) => {
  const port = await freePort(); // nothing listens there
  const own = await createEvmAnchorer({ rpcUrl: `http://127.0.0.1:${port}`, contract: deployed.address, privateKey: anvil.privateKey, timeoutMs: 1_000, retryCount: 0 });
  const error = await t.throwsAsync(own.anchor(loose()));
  t.is((error as { code?: string }).code, 'CHAIN_UNAVAILABLE');
  t.is((error as { name?: string }).name, 'ChainError');
  await own.close();
});
