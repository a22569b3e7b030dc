// The EVM anchoring backend: writes each batch root to the SealpostAnchor
// contract (contracts/SealpostAnchor.sol) and checks such anchors against the
// chain. All chain access goes through chain.ts, the one viem adapter.
import type { Logger } from 'pino';
import { ValidationError } from '../../errors/index.ts';
import type { Anchorer, AnchorRef, Batch, VerifyStep } from '../types.ts';
import { checksumAddress, openChain, type Address, type Chain, type ChainOptions, type Receipt, type TxHash } from './chain.ts';
import { ChainError } from './errors.ts';
import { parsePrivateKey } from './private-key.ts';

export { ChainError, type ChainErrorCode } from './errors.ts';
export { readPrivateKeyFile, parsePrivateKey } from './private-key.ts';

type EvmRef = Extract<AnchorRef, { kind: 'evm' }>;

/** Transport tuning, mostly for tests (see ChainOptions for the defaults). */
export type ChainTuning = Pick<ChainOptions, 'timeoutMs' | 'retryCount' | 'pollingIntervalMs' | 'receiptTimeoutMs'>;

export interface DeployOptions extends ChainTuning {
  rpcUrl: string;
  /** 0x-prefixed 32-byte hex; its account becomes the contract's owner, the only one allowed to anchor */
  privateKey: string;
}

export interface DeployedContract {
  /** checksummed contract address */
  address: string;
  chainId: number;
  /** deployment transaction hash */
  tx: string;
  block: number;
  gasUsed: bigint;
}

/**
 * Compiles contracts/SealpostAnchor.sol and deploys it; the key's account owns it.
 * solc (about 100 MB of memory) is loaded only here, on demand.
 * @throws ValidationError for a bad rpcUrl or key; ChainError when the chain is unreachable or refuses; ContractCompileError
 */
export async function deployAnchorContract(options: DeployOptions): Promise<DeployedContract> {
  const privateKey = parsePrivateKey(options.privateKey);
  const chain = openChain({ ...tuning(options), rpcUrl: options.rpcUrl, privateKey });
  const { compileAnchorContract } = await import('./compile.ts');
  const { bytecode } = await compileAnchorContract();
  const receipt = await chain.deploy(bytecode);
  if (receipt.contractAddress === null) throw new ChainError('CHAIN_REJECTED', `deployment ${receipt.tx} created no contract`);
  return { address: checksumAddress(receipt.contractAddress), chainId: await chain.chainId(), tx: receipt.tx, block: receipt.block, gasUsed: receipt.gasUsed };
}

export interface EvmAnchorerOptions extends ChainTuning {
  /** http(s) JSON-RPC endpoint (config ledger.evm.rpcUrl) */
  rpcUrl: string;
  /** the SealpostAnchor address (config ledger.evm.contract) */
  contract: string;
  /** 0x-prefixed 32-byte hex key of the contract's owner (see readPrivateKeyFile) */
  privateKey: string;
  logger?: Logger;
}

/**
 * An Anchorer writing batch roots to a deployed SealpostAnchor contract.
 * Checks the chain at once (chain id, code at the address, ownership); when
 * the node does not answer it still returns, logs a warning and checks again
 * on first use, so that a chain outage does not stop mail from being accepted.
 * @throws ValidationError (ledger.evm.rpcUrl / contract / privateKeyFile) for bad settings, no contract there, or a key that does not own it
 */
export async function createEvmAnchorer(options: EvmAnchorerOptions): Promise<Anchorer> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(options.contract)) throw new ValidationError('ledger.evm.contract', 'must be a 0x-prefixed 20-byte hex address');
  const contract = checksumAddress(options.contract as Address);
  const chain = openChain({ ...tuning(options), rpcUrl: options.rpcUrl, privateKey: parsePrivateKey(options.privateKey) });
  const logger = options.logger;
  const anchorer = new EvmAnchorer(chain, contract, logger);
  try {
    await anchorer.ready();
  } catch (error) {
    if (!(error instanceof ChainError && error.code === 'CHAIN_UNAVAILABLE')) throw error;
    logger?.warn({ rpcUrl: chain.rpcUrl, err: error }, 'EVM chain unavailable; anchoring will retry');
  }
  return anchorer;
}

class EvmAnchorer implements Anchorer {
  readonly kind = 'evm' as const;
  readonly #chain: Chain;
  readonly #contract: Address;
  readonly #logger: Logger | undefined;
  #chainId: Promise<number> | undefined;
  /** anchor() calls run one at a time: one account, one nonce sequence */
  #queue: Promise<unknown> = Promise.resolve();
  /** roots whose transaction was sent but whose receipt we have not seen (a receipt timeout) */
  readonly #pending = new Map<string, TxHash>();

  constructor(chain: Chain, contract: Address, logger: Logger | undefined) {
    this.#chain = chain;
    this.#contract = contract;
    this.#logger = logger;
  }

  /** The chain id, after checking once that our contract is there and that we own it. */
  ready(): Promise<number> {
    this.#chainId ??= this.#connect().catch((error: unknown) => {
      this.#chainId = undefined;
      throw error;
    });
    return this.#chainId;
  }

  async #connect(): Promise<number> {
    const chainId = await this.#chain.chainId();
    if (!(await this.#chain.hasCode(this.#contract))) {
      throw new ValidationError('ledger.evm.contract', `no contract at ${this.#contract} on chain ${chainId} (${this.#chain.rpcUrl})`);
    }
    const owner = await this.#chain.owner(this.#contract).catch((error: unknown) => {
      if (error instanceof ChainError && error.code === 'CHAIN_UNAVAILABLE') throw error;
      throw new ValidationError('ledger.evm.contract', `${this.#contract} on chain ${chainId} is not a SealpostAnchor contract (${String(error)})`);
    });
    if (this.#chain.account !== undefined && owner.toLowerCase() !== this.#chain.account.toLowerCase()) {
      throw new ValidationError('ledger.evm.privateKeyFile', `account ${this.#chain.account} does not own contract ${this.#contract} (owner ${owner})`);
    }
    return chainId;
  }

  anchor(batch: Batch): Promise<AnchorRef> {
    const run = this.#queue.then(() => this.#anchor(batch));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #anchor(batch: Batch): Promise<EvmRef> {
    const chainId = await this.ready();
    const root = rootHex(batch);
    const existing = await this.#existing(chainId, batch, root);
    if (existing !== null) return existing;

    let tx = this.#pending.get(root);
    // A transaction from an earlier attempt that the node no longer knows was dropped: send anew.
    if (tx !== undefined && !(await this.#chain.knows(tx))) tx = undefined;
    if (tx === undefined) {
      try {
        tx = await this.#chain.sendAnchor(this.#contract, { root, batchId: batch.id, firstSeq: batch.firstSeq, size: batch.size });
      } catch (error) {
        // Someone (another process with the key) anchored it between our read and our send.
        if (error instanceof ChainError && error.revert === 'AlreadyAnchored') {
          const raced = await this.#existing(chainId, batch, root);
          if (raced !== null) return raced;
        }
        throw error;
      }
      this.#pending.set(root, tx);
    }

    let receipt: Receipt;
    try {
      receipt = await this.#chain.waitForReceipt(tx);
    } catch (error) {
      if (error instanceof ChainError && error.code === 'CHAIN_REVERTED') {
        this.#pending.delete(root);
        const raced = await this.#existing(chainId, batch, root);
        if (raced !== null) return raced;
      }
      throw error; // CHAIN_UNAVAILABLE keeps the pending tx: the next attempt waits for it
    }
    this.#pending.delete(root);
    const log = receipt.anchored.find((l) => sameAddress(l.address, this.#contract) && l.root.toLowerCase() === root);
    if (log === undefined) throw new ChainError('CHAIN_REJECTED', `transaction ${tx} was mined in block ${receipt.block} but emitted no Anchored event for ${root}`);
    this.#logger?.info({ batch: batch.id, root: batch.root, size: batch.size, tx, block: receipt.block, gasUsed: Number(receipt.gasUsed) }, 'batch root anchored on chain');
    return { kind: 'evm', chainId, contract: this.#contract, tx, block: receipt.block, time: log.time * 1000 };
  }

  /** The anchor of `root` already on chain (after a crash between sending and recording), or null. */
  async #existing(chainId: number, batch: Batch, root: `0x${string}`): Promise<EvmRef | null> {
    const onChain = await this.#chain.anchoredAt(this.#contract, root);
    if (onChain.time === 0) return null;
    const log = (await this.#chain.anchoredLogs(this.#contract, root, onChain.blockNumber))[0];
    if (log === undefined) {
      throw new ChainError('CHAIN_REJECTED', `root ${root} is anchored in block ${onChain.blockNumber} but the node returns no Anchored log for it (pruned logs?)`);
    }
    if (!sameBatch(onChain, batch)) {
      // Two batches with the same root hold the same records (same CIDs, same times):
      // the contract keeps the first; this batch cannot be anchored under its own id.
      throw new ChainError('CHAIN_REVERTED', `root ${root} is already anchored as ${describe(onChain)} in block ${onChain.blockNumber}, not as ${describe(batch)}`, { revert: 'AlreadyAnchored' });
    }
    this.#logger?.info({ batch: batch.id, root: batch.root, tx: log.tx, block: log.block }, 'batch root was already anchored on chain');
    return { kind: 'evm', chainId, contract: this.#contract, tx: log.tx, block: log.block, time: log.time * 1000 };
  }

  /**
   * Reads the chain: the transaction is mined, succeeded, went to our contract
   * in the block the anchor names, emitted Anchored for this root, batch id,
   * first record and size, and the contract records the same in its storage.
   * @throws ChainError CHAIN_UNAVAILABLE when the chain cannot be asked (nothing was checked)
   */
  async check(batch: Batch, ref: AnchorRef): Promise<VerifyStep> {
    const fail = (detail: string): VerifyStep => ({ step: 'anchor', ok: false, detail });
    if (ref.kind !== 'evm') return fail(`the anchor is of kind ${ref.kind}; this ledger anchors on an EVM chain`);
    const chainId = await this.ready();
    const root = rootHex(batch);
    const shortRoot = short(batch.root);
    if (ref.chainId !== chainId) return fail(`the anchor names chain ${ref.chainId}; the node at ${this.#chain.rpcUrl} serves chain ${chainId}`);
    // Another node's proof (mail from another Sealpost node) names that node's
    // contract on the same chain: the root is checked where the proof says it is.
    if (!/^0x[0-9a-fA-F]{40}$/.test(String(ref.contract))) return fail(`the anchor's contract "${String(ref.contract)}" is not an address`);
    const contract = ref.contract as Address;
    const whose = sameAddress(contract, this.#contract) ? 'contract' : "another node's contract";
    if (!/^0x[0-9a-fA-F]{64}$/.test(ref.tx)) return fail(`the anchor's tx "${ref.tx}" is not a transaction hash`);
    const tx = ref.tx as TxHash;

    const receipt = await this.#chain.receipt(tx);
    if (receipt === null) return fail(`chain ${chainId} has no mined transaction ${tx}`);
    if (receipt.status !== 'success') return fail(`transaction ${tx} reverted (block ${receipt.block})`);
    if (receipt.to === null || !sameAddress(receipt.to, contract)) return fail(`transaction ${tx} was sent to ${receipt.to ?? 'no address (a deployment)'}, not to contract ${contract}`);
    if (receipt.block !== ref.block) return fail(`transaction ${tx} is in block ${receipt.block}, the anchor says block ${ref.block}`);
    const log = receipt.anchored.find((l) => sameAddress(l.address, contract) && l.root.toLowerCase() === root);
    if (log === undefined) {
      const other = receipt.anchored[0];
      return fail(`transaction ${tx} did not anchor root ${shortRoot}${other === undefined ? '' : ` (it anchored ${short(other.root.slice(2))})`}`);
    }
    if (!sameBatch(log, batch)) return fail(`transaction ${tx} anchored root ${shortRoot} as ${describe(log)}; the proof's is ${describe(batch)}`);
    if (log.time * 1000 !== ref.time) return fail(`block ${receipt.block} has time ${iso(log.time * 1000)}; the anchor says ${iso(ref.time)}`);

    const onChain = await this.#chain.anchoredAt(contract, root);
    if (onChain.time === 0) return fail(`contract ${contract} has no record of root ${shortRoot}`);
    if (onChain.blockNumber !== ref.block) return fail(`contract ${contract} records root ${shortRoot} in block ${onChain.blockNumber}, not ${ref.block}`);
    if (!sameBatch(onChain, batch)) return fail(`contract ${contract} records root ${shortRoot} as ${describe(onChain)}; the proof's is ${describe(batch)}`);
    return {
      step: 'anchor',
      ok: true,
      detail: `${describe(batch)}, root ${shortRoot}, anchored on chain ${chainId} in block ${ref.block} at ${iso(ref.time)}, tx ${tx}, ${whose} ${contract}`,
    };
  }

  async close(): Promise<void> {
    await this.#queue; // let a running anchor() finish; viem's HTTP transport holds nothing open
  }
}

function tuning(options: ChainTuning): ChainTuning {
  const out: ChainTuning = {};
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.retryCount !== undefined) out.retryCount = options.retryCount;
  if (options.pollingIntervalMs !== undefined) out.pollingIntervalMs = options.pollingIntervalMs;
  if (options.receiptTimeoutMs !== undefined) out.receiptTimeoutMs = options.receiptTimeoutMs;
  return out;
}

/**
 * The batch root as the contract's bytes32.
 * @throws ValidationError (batch.root) unless 64 hex digits
 */
function rootHex(batch: Batch): `0x${string}` {
  if (!/^[0-9a-fA-F]{64}$/.test(batch.root)) throw new ValidationError('batch.root', 'must be 64 hex digits');
  return `0x${batch.root.toLowerCase()}`;
}

type BatchFields = { batchId: number; firstSeq: number; size: number } | Batch;

/** The batch id, first record and size on chain equal the batch's. */
function sameBatch(onChain: { batchId: number; firstSeq: number; size: number }, batch: Batch): boolean {
  return onChain.batchId === batch.id && onChain.firstSeq === batch.firstSeq && onChain.size === batch.size;
}

/** "batch 4 (records 5..7)" */
function describe(b: BatchFields): string {
  const id = 'batchId' in b ? b.batchId : b.id;
  return `batch ${id} (records ${b.firstSeq}..${b.firstSeq + b.size - 1})`;
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function short(hex: string): string {
  return `${hex.slice(0, 6)}…${hex.slice(-4)}`;
}

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
