// The EVM registry: contracts/SealpostRegistry.sol on a chain, reached only
// through ledger/evm/chain.ts (the one viem adapter). Nodes and claims live
// in contract storage; announcements and deletion receipts are events, read
// back with eth_getLogs from the contract's deployment block in chunks.
//
// The contract cannot check Ed25519 signatures (no precompile), so this file
// checks them twice: before sending (a bad record is refused, no gas spent)
// and on every read (what fails is skipped: anyone may write to a chain).
// Node records are also bound to the account that sends them, the one the
// contract ties the node id to, so a record copied from the mempool and
// sent from another account never verifies.
import type { Logger } from 'pino';
import { ValidationError } from '../errors/index.ts';
import {
  checkRpcUrl,
  checksumAddress,
  openRegistryChain,
  type Address,
  type ChainOptions,
  type RegistryChain,
  type RegistryClaimSlot,
  type RegistryNodeSlot,
  type TxHash,
} from '../ledger/evm/chain.ts';
import { ChainError } from '../ledger/evm/errors.ts';
import { parsePrivateKey } from '../ledger/evm/private-key.ts';
import { RegistryAddressTakenError, RegistryBadSignatureError, RegistryClosedError, RegistryNotOwnerError, RegistryStaleError, RegistryUnknownNodeError } from './errors.ts';
import {
  addressHash,
  bytesEqual,
  canonicalAddress,
  decodeAddrs,
  encodeAddrs,
  packAnnouncements,
  unpackAnnouncements,
  validateAddressClaim,
  validateDeletionReceipt,
  validateNodeRecord,
  verifyAddressClaim,
  verifyDeletionReceipt,
  verifyNodeRecord,
} from './records.ts';
import type {
  AddressClaim,
  Announcement,
  AnnouncementCursor,
  AnnouncementListener,
  AnnouncementPage,
  DeletionReceipt,
  NodeRecord,
  Registry,
  RegistryDomain,
  ScannedAnnouncement,
  WatchOptions,
  WriteResult,
} from './types.ts';
import { Watchers } from './watch.ts';

type Hex = `0x${string}`;

/** Transport tuning, mostly for tests (see ChainOptions for the defaults). */
export type RegistryChainTuning = Pick<ChainOptions, 'timeoutMs' | 'retryCount' | 'pollingIntervalMs' | 'receiptTimeoutMs'>;

export interface DeployRegistryOptions extends RegistryChainTuning {
  rpcUrl: string;
  /** 0x-prefixed 32-byte hex key of the paying account (the contract has no owner) */
  privateKey: string;
}

export interface DeployedRegistry {
  /** checksummed contract address (config: registry.evm.contract) */
  address: string;
  chainId: number;
  /** deployment transaction hash */
  tx: string;
  /** the block it was created in: scans start here */
  block: number;
  gasUsed: bigint;
}

/**
 * Compiles contracts/SealpostRegistry.sol and deploys it. solc (about 100 MB
 * of memory) is loaded only here, on demand.
 * @throws ValidationError for a bad rpcUrl or key; ChainError when the chain is unreachable or refuses; ContractCompileError
 */
export async function deployRegistry(options: DeployRegistryOptions): Promise<DeployedRegistry> {
  const privateKey = parsePrivateKey(options.privateKey, 'registry.evm.privateKey');
  const chain = openRegistryChain({ ...tuning(options), rpcUrl: rpcUrl(options.rpcUrl), privateKey });
  const { compileRegistryContract } = await import('../ledger/evm/compile.ts');
  const { bytecode } = await compileRegistryContract();
  const receipt = await chain.deploy(bytecode);
  if (receipt.contractAddress === null) throw new ChainError('CHAIN_REJECTED', `deployment ${receipt.tx} created no contract`);
  return { address: checksumAddress(receipt.contractAddress), chainId: await chain.chainId(), tx: receipt.tx, block: receipt.block, gasUsed: receipt.gasUsed };
}

export interface EvmRegistryOptions extends RegistryChainTuning {
  /** http(s) JSON-RPC endpoint */
  rpcUrl: string;
  /** the SealpostRegistry address */
  contract: string;
  /** 0x-prefixed 32-byte hex key of the account that sends writes; without it the registry is read-only */
  privateKey?: string;
  /** blocks per eth_getLogs request (default 5,000: public endpoints cap the range) */
  logChunkBlocks?: number;
  /** read announcements only this many blocks behind the newest (default 0; more on chains that reorganise) */
  confirmations?: number;
  /** default polling interval of onAnnouncement (default 2 s) */
  pollIntervalMs?: number;
  logger?: Logger;
}

/**
 * Opens a deployed SealpostRegistry. Asks the chain at once (chain id, code
 * at the address, its deployment block), since signatures are bound to them.
 * @throws ValidationError (registry.evm.rpcUrl / contract / privateKey) for bad settings or no registry at the address
 * @throws ChainError CHAIN_UNAVAILABLE when the node does not answer
 */
export async function openEvmRegistry(options: EvmRegistryOptions): Promise<Registry> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(options.contract)) throw new ValidationError('registry.evm.contract', 'must be a 0x-prefixed 20-byte hex address');
  const contract = checksumAddress(options.contract as Address);
  const chainOptions: ChainOptions = { ...tuning(options), rpcUrl: rpcUrl(options.rpcUrl) };
  if (options.privateKey !== undefined) chainOptions.privateKey = parsePrivateKey(options.privateKey, 'registry.evm.privateKey');
  const chain = openRegistryChain(chainOptions);
  const chainId = await chain.chainId();
  if (!(await chain.hasCode(contract))) throw new ValidationError('registry.evm.contract', `no contract at ${contract} on chain ${chainId} (${chain.rpcUrl})`);
  const deployBlock = await chain.deployBlock(contract).catch((error: unknown) => {
    if (error instanceof ChainError && error.code === 'CHAIN_UNAVAILABLE') throw error;
    throw new ValidationError('registry.evm.contract', `${contract} on chain ${chainId} is not a SealpostRegistry (${String(error)})`);
  });
  const chunk = options.logChunkBlocks ?? 5_000;
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new ValidationError('registry.evm.logChunkBlocks', 'must be a positive integer');
  const confirmations = options.confirmations ?? 0;
  if (!Number.isSafeInteger(confirmations) || confirmations < 0) throw new ValidationError('registry.evm.confirmations', 'must be a non-negative integer');
  return new EvmRegistry({
    chain,
    contract,
    deployBlock,
    domain: { kind: 'evm', chainId, contract, account: chain.account ?? null },
    chunk,
    confirmations,
    pollIntervalMs: options.pollIntervalMs ?? 2_000,
    logger: options.logger,
  });
}

interface EvmRegistryParts {
  chain: RegistryChain;
  contract: Address;
  deployBlock: number;
  domain: Extract<RegistryDomain, { kind: 'evm' }>;
  chunk: number;
  confirmations: number;
  pollIntervalMs: number;
  logger: Logger | undefined;
}

/** Where a scan resumes: the next entry to read is entry `entry` of log `log` in block `block`. */
interface EvmPosition {
  block: number;
  log: number;
  entry: number;
}

const NOTHING_SENT: WriteResult = { tx: null };
const MAX_SCAN = 10_000;
/** nodes per nodesPage() call */
const NODE_PAGE = 100;

class EvmRegistry implements Registry {
  readonly kind = 'evm' as const;
  readonly domain: Extract<RegistryDomain, { kind: 'evm' }>;
  readonly #chain: RegistryChain;
  readonly #contract: Address;
  readonly #deployBlock: number;
  readonly #chunk: number;
  readonly #confirmations: number;
  readonly #logger: Logger | undefined;
  readonly #watchers: Watchers;
  /** writes run one at a time: one account, one nonce sequence */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(parts: EvmRegistryParts) {
    this.domain = parts.domain;
    this.#chain = parts.chain;
    this.#contract = parts.contract;
    this.#deployBlock = parts.deployBlock;
    this.#chunk = parts.chunk;
    this.#confirmations = parts.confirmations;
    this.#logger = parts.logger;
    this.#watchers = new Watchers(this, parts.pollIntervalMs);
  }

  async registerNode(input: NodeRecord): Promise<WriteResult> {
    this.#open();
    const r = validateNodeRecord(input);
    const owner = this.#account();
    if (!verifyNodeRecord(this.domain, r)) throw new RegistryBadSignatureError('node', `the node signature does not verify for account ${owner} on this registry`);
    const precheck = async (): Promise<boolean> => {
      const slot = await this.#chain.node(this.#contract, hex(r.nodeId));
      if (slot === null) return true;
      if (!sameAddress(slot.owner, owner)) throw new RegistryNotOwnerError(`node is registered by account ${slot.owner}`);
      if (r.seq > slot.seq) return true;
      const same = BigInt(r.seq) === slot.seq && hex(r.encKey) === slot.encKey && hex(encodeAddrs(r.addrs)) === slot.addrs && hex(r.signature) === `${slot.sigR}${slot.sigS.slice(2)}`;
      if (same) return false;
      throw new RegistryStaleError(Number(slot.seq), `node record seq ${r.seq} is not above the registered ${slot.seq}`);
    };
    const [sigR, sigS] = split(r.signature);
    return this.#write('registerNode', precheck, () =>
      this.#chain.sendRegisterNode(this.#contract, { nodeId: hex(r.nodeId), encKey: hex(r.encKey), seq: BigInt(r.seq), addrs: hex(encodeAddrs(r.addrs)), sigR, sigS }),
    );
  }

  async getNode(nodeId: Uint8Array): Promise<NodeRecord | null> {
    this.#open();
    if (!(nodeId instanceof Uint8Array) || nodeId.length !== 32) return null;
    const slot = await this.#chain.node(this.#contract, hex(nodeId));
    return slot === null ? null : this.#verifiedNode(slot);
  }

  async listNodes(): Promise<NodeRecord[]> {
    this.#open();
    const count = await this.#chain.nodeCount(this.#contract);
    const out: NodeRecord[] = [];
    for (let offset = 0; offset < count; offset += NODE_PAGE) {
      for (const slot of await this.#chain.nodesPage(this.#contract, offset, NODE_PAGE)) {
        const record = this.#verifiedNode(slot);
        if (record !== null) out.push(record);
      }
    }
    return out;
  }

  async claimAddress(input: AddressClaim): Promise<WriteResult> {
    this.#open();
    const c = validateAddressClaim(input);
    const owner = this.#account();
    if (!verifyAddressClaim(this.domain, c)) throw new RegistryBadSignatureError('claim');
    const hash = hex(addressHash(c.address));
    const fingerprint = `0x${c.fingerprint.toLowerCase()}` as Hex;
    const precheck = async (): Promise<boolean> => {
      await this.#ownNode(c.nodeId, owner);
      const slot = await this.#chain.claim(this.#contract, hash);
      if (slot === null) return true;
      if (slot.nodeId !== hex(c.nodeId)) throw new RegistryAddressTakenError();
      if (c.seq > slot.seq) return true;
      const same = BigInt(c.seq) === slot.seq && slot.fingerprint === fingerprint && slot.keyRef === c.keyRef && hex(c.signature) === `${slot.sigR}${slot.sigS.slice(2)}`;
      if (same) return false;
      throw new RegistryStaleError(Number(slot.seq), `claim seq ${c.seq} is not above the registered ${slot.seq}`);
    };
    const [sigR, sigS] = split(c.signature);
    return this.#write('claimAddress', precheck, () =>
      this.#chain.sendClaimAddress(this.#contract, { addressHash: hash, nodeId: hex(c.nodeId), seq: BigInt(c.seq), fingerprint, keyRef: c.keyRef, sigR, sigS }),
    );
  }

  async lookupAddress(address: string): Promise<AddressClaim | null> {
    this.#open();
    const canonical = canonicalAddress(address);
    const slot = await this.#chain.claim(this.#contract, hex(addressHash(canonical)));
    if (slot === null) return null;
    const claim = safely(() => claimFromSlot(canonical, slot));
    return claim !== null && verifyAddressClaim(this.domain, claim) ? claim : null;
  }

  async announce(entries: readonly Announcement[]): Promise<WriteResult> {
    this.#open();
    this.#account();
    const packed = hex(packAnnouncements(entries));
    return this.#write('announce', async () => true, () => this.#chain.sendAnnounce(this.#contract, packed));
  }

  async scanAnnouncements(cursor: AnnouncementCursor | null, limit: number): Promise<AnnouncementPage> {
    this.#open();
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SCAN) throw new ValidationError('limit', `must be an integer 1..${MAX_SCAN}`);
    const start = cursor === null ? { block: this.#deployBlock, log: 0, entry: 0 } : parseCursor(cursor);
    const head = await this.#head();
    const entries: ScannedAnnouncement[] = [];
    let next: EvmPosition = start;
    for (let from = start.block; from <= head; ) {
      const to = Math.min(head, from + this.#chunk - 1);
      for (const log of await this.#chain.announcedLogs(this.#contract, from, to)) {
        if (log.block < start.block || (log.block === start.block && log.logIndex < start.log)) continue;
        // The contract refuses malformed batches; one that gets through anyway is skipped whole.
        const batch = safely(() => unpackAnnouncements(bytes(log.entries))) ?? [];
        const first = log.block === start.block && log.logIndex === start.log ? start.entry : 0;
        for (let i = first; i < batch.length; i++) {
          const cursor = evmCursor({ block: log.block, log: log.logIndex, entry: i + 1 });
          entries.push({ ...(batch[i] as Announcement), time: log.time * 1000, cursor });
          if (entries.length === limit) return { entries, next: cursor };
        }
      }
      from = to + 1;
      next = { block: from, log: 0, entry: 0 };
    }
    return { entries, next: evmCursor(next) };
  }

  async announcementHead(): Promise<AnnouncementCursor> {
    this.#open();
    return evmCursor({ block: Math.max(this.#deployBlock, (await this.#head()) + 1), log: 0, entry: 0 });
  }

  onAnnouncement(listener: AnnouncementListener, options?: WatchOptions): () => void {
    this.#open();
    return this.#watchers.add(listener, options);
  }

  async recordDeletion(input: DeletionReceipt): Promise<WriteResult> {
    this.#open();
    const d = validateDeletionReceipt(input);
    const owner = this.#account();
    if (!verifyDeletionReceipt(this.domain, d)) throw new RegistryBadSignatureError('deletion');
    const [sigR, sigS] = split(d.signature);
    return this.#write('recordDeletion', async () => {
      await this.#ownNode(d.custodian, owner, 'the custodian');
      return true;
    }, () => this.#chain.sendRecordDeletion(this.#contract, { messageRef: hex(d.messageRef), custodian: hex(d.custodian), time: BigInt(d.time), sigR, sigS }));
  }

  async deletionReceipts(messageRef: Uint8Array): Promise<DeletionReceipt[]> {
    this.#open();
    if (!(messageRef instanceof Uint8Array) || messageRef.length !== 32) throw new ValidationError('messageRef', 'must be 32 bytes');
    const head = await this.#chain.blockNumber();
    const out: DeletionReceipt[] = [];
    for (let from = this.#deployBlock; from <= head; from += this.#chunk) {
      for (const log of await this.#chain.deletionLogs(this.#contract, hex(messageRef), from, Math.min(head, from + this.#chunk - 1))) {
        if (log.time > BigInt(Number.MAX_SAFE_INTEGER)) continue;
        const receipt: DeletionReceipt = { messageRef: bytes(log.messageRef), custodian: bytes(log.custodian), time: Number(log.time), signature: bytes(`${log.sigR}${log.sigS.slice(2)}`) };
        const duplicate = out.some((d) => bytesEqual(d.custodian, receipt.custodian) && d.time === receipt.time && bytesEqual(d.signature, receipt.signature));
        if (!duplicate && verifyDeletionReceipt(this.domain, receipt)) out.push(receipt);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.stopAll();
    await this.#queue; // let a running write finish; viem's HTTP transport holds nothing open
  }

  /**
   * Runs a write in the queue: `precheck` reads the contract's state and
   * throws the typed error the contract would revert with (or returns false:
   * nothing to send), then the transaction is sent and awaited. A revert
   * (another process got there between our read and our send) is explained
   * by running the precheck again.
   */
  #write(what: string, precheck: () => Promise<boolean>, send: () => Promise<TxHash>): Promise<WriteResult> {
    const run = this.#queue.then(async (): Promise<WriteResult> => {
      if (!(await precheck())) return NOTHING_SENT;
      let tx: TxHash;
      try {
        tx = await send();
      } catch (error) {
        if (error instanceof ChainError && error.code === 'CHAIN_REVERTED') {
          await precheck();
          throw fromRevert(error);
        }
        throw error;
      }
      try {
        const receipt = await this.#chain.waitForReceipt(tx);
        this.#logger?.info({ what, tx, block: receipt.block, gasUsed: Number(receipt.gasUsed) }, 'registry transaction mined');
        return { tx: { hash: tx, block: receipt.block, gasUsed: receipt.gasUsed } };
      } catch (error) {
        if (error instanceof ChainError && error.code === 'CHAIN_REVERTED') await precheck();
        throw error;
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The node is registered by `owner`, else the contract would revert. */
  async #ownNode(nodeId: Uint8Array, owner: string, what = 'the node'): Promise<void> {
    const slot = await this.#chain.node(this.#contract, hex(nodeId));
    if (slot === null) throw new RegistryUnknownNodeError(`${what} is not registered`);
    if (!sameAddress(slot.owner, owner)) throw new RegistryNotOwnerError(`${what} is registered by account ${slot.owner}, not ${owner}`);
  }

  /** The newest block a scan reads. */
  async #head(): Promise<number> {
    return (await this.#chain.blockNumber()) - this.#confirmations;
  }

  #verifiedNode(slot: RegistryNodeSlot): NodeRecord | null {
    const record = safely(() => nodeFromSlot(slot));
    return record !== null && verifyNodeRecord(this.domain, record, bytes(slot.owner)) ? record : null;
  }

  #account(): string {
    if (this.domain.account === null) throw new ValidationError('registry.evm.privateKey', 'a private key is needed to write to the registry');
    return this.domain.account;
  }

  #open(): void {
    if (this.#closed) throw new RegistryClosedError();
  }
}

/** The typed error for a contract revert the precheck did not explain (a race it lost). */
function fromRevert(error: ChainError): Error {
  switch (error.revert) {
    case 'AddressTaken':
      return new RegistryAddressTakenError();
    case 'NotNodeOwner':
      return new RegistryNotOwnerError();
    case 'UnknownNode':
      return new RegistryUnknownNodeError();
    default:
      return error;
  }
}

function nodeFromSlot(slot: RegistryNodeSlot): NodeRecord {
  if (slot.seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValidationError('seq', 'out of range');
  return validateNodeRecord({
    nodeId: bytes(slot.nodeId),
    encKey: bytes(slot.encKey),
    addrs: decodeAddrs(bytes(slot.addrs)),
    seq: Number(slot.seq),
    signature: bytes(`${slot.sigR}${slot.sigS.slice(2)}`),
  });
}

function claimFromSlot(address: string, slot: RegistryClaimSlot): AddressClaim {
  if (slot.seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValidationError('seq', 'out of range');
  return validateAddressClaim({
    address,
    nodeId: bytes(slot.nodeId),
    fingerprint: slot.fingerprint.slice(2).toUpperCase(),
    keyRef: slot.keyRef,
    seq: Number(slot.seq),
    signature: bytes(`${slot.sigR}${slot.sigS.slice(2)}`),
  });
}

/** EVM cursors: "e:<block>:<log>:<entry>", the next entry to read. */
function evmCursor(p: EvmPosition): AnnouncementCursor {
  return `e:${p.block}:${p.log}:${p.entry}` as AnnouncementCursor;
}

function parseCursor(cursor: string): EvmPosition {
  const m = /^e:(0|[1-9]\d{0,15}):(0|[1-9]\d{0,9}):(0|[1-9]\d{0,9})$/.exec(cursor);
  if (m === null) throw new ValidationError('cursor', 'is not a cursor of this registry');
  return { block: Number(m[1]), log: Number(m[2]), entry: Number(m[3]) };
}

function rpcUrl(url: string): string {
  try {
    return checkRpcUrl(url);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError('registry.evm.rpcUrl', error.message.replace(/^[^:]*: /, ''));
    throw error;
  }
}

function tuning(options: RegistryChainTuning): RegistryChainTuning {
  const out: RegistryChainTuning = {};
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.retryCount !== undefined) out.retryCount = options.retryCount;
  if (options.pollingIntervalMs !== undefined) out.pollingIntervalMs = options.pollingIntervalMs;
  if (options.receiptTimeoutMs !== undefined) out.receiptTimeoutMs = options.receiptTimeoutMs;
  return out;
}

function split(signature: Uint8Array): [Hex, Hex] {
  return [hex(signature.subarray(0, 32)), hex(signature.subarray(32, 64))];
}

function hex(b: Uint8Array): Hex {
  return `0x${Buffer.from(b).toString('hex')}`;
}

function bytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h.slice(2), 'hex'));
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function safely<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
