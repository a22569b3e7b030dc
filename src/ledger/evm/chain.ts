// The one adapter to viem: JSON-RPC calls to an EVM node about the anchoring
// contract (deploy, anchor, anchoredAt, receipts, Anchored logs) and the
// registry contract (openRegistryChain: nodes, claims, announcement and
// deletion logs). The rest of Sealpost sees plain numbers, bigints and hex
// strings, and ChainError on trouble.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeEventLog,
  defineChain,
  ExecutionRevertedError,
  getAddress,
  http,
  HttpRequestError,
  SocketClosedError,
  TimeoutError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError,
  type Chain as ViemChain,
  type Hex,
  type PublicClient,
  type Transport,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ValidationError } from '../../errors/index.ts';
import { sealpostAnchorAbi, sealpostRegistryAbi } from './abi.ts';
import { ChainError } from './errors.ts';
import type { PrivateKey } from './private-key.ts';

export type Address = `0x${string}`;
export type TxHash = `0x${string}`;

export interface ChainOptions {
  rpcUrl: string;
  /** signs deploy and anchor transactions; read-only without it */
  privateKey?: PrivateKey;
  /** per JSON-RPC request (default 10 s) */
  timeoutMs?: number;
  /** retries of a failed request, with exponential back-off from 150 ms (default 3) */
  retryCount?: number;
  /** how often to poll for a receipt (default 1 s) */
  pollingIntervalMs?: number;
  /** how long to wait for a sent transaction to be mined (default 120 s) */
  receiptTimeoutMs?: number;
}

/** What anchoredAt(root) returned; time 0 means never anchored. */
export interface OnChainAnchor {
  /** block time, seconds */
  time: number;
  blockNumber: number;
  batchId: number;
  firstSeq: number;
  size: number;
}

/** What anchor() commits: the batch, as the ledger numbers it. */
export interface AnchoredBatch {
  /** 0x-prefixed */
  root: Hex;
  batchId: number;
  firstSeq: number;
  size: number;
}

/** An Anchored event, decoded. */
export interface AnchoredLog {
  /** the contract that emitted it */
  address: Address;
  /** 0x-prefixed */
  root: Hex;
  batchId: number;
  firstSeq: number;
  size: number;
  /** block time, seconds */
  time: number;
  tx: TxHash;
  block: number;
}

export interface Receipt {
  tx: TxHash;
  status: 'success' | 'reverted';
  from: Address;
  /** null for a contract creation */
  to: Address | null;
  block: number;
  gasUsed: bigint;
  contractAddress: Address | null;
  /** the Anchored events in it (from any contract with that event) */
  anchored: AnchoredLog[];
}

export interface Chain {
  readonly rpcUrl: string;
  /** the signing account, when a key was given */
  readonly account: Address | undefined;
  chainId(): Promise<number>;
  /** true when there is contract code at `address` */
  hasCode(address: Address): Promise<boolean>;
  /** Deploys creation bytecode (no constructor arguments) and waits for it to be mined. */
  deploy(bytecode: Hex): Promise<Receipt>;
  /** the account allowed to anchor (owner()) */
  owner(contract: Address): Promise<Address>;
  anchoredAt(contract: Address, root: Hex): Promise<OnChainAnchor>;
  /** the last batch id and record sequence number anchored (0, 0 before the first) */
  head(contract: Address): Promise<{ lastBatchId: number; lastSeq: number }>;
  /** Anchored events for `root` emitted by `contract` in block `block`. */
  anchoredLogs(contract: Address, root: Hex, block: number): Promise<AnchoredLog[]>;
  /** Sends anchor(root, batchId, firstSeq, size); returns the hash once the node accepted it (not yet mined). */
  sendAnchor(contract: Address, batch: AnchoredBatch): Promise<TxHash>;
  /** Waits until `tx` is mined. */
  waitForReceipt(tx: TxHash): Promise<Receipt>;
  /** The receipt of `tx`, or null when the chain knows no such mined transaction. */
  receipt(tx: TxHash): Promise<Receipt | null>;
  /** true when the node knows `tx`, mined or still pending */
  knows(tx: TxHash): Promise<boolean>;
}

/**
 * Connects (lazily: no request is made here) to an EVM node over HTTP(S).
 * @throws ValidationError (ledger.evm.rpcUrl) for a URL that is not http(s), (ledger.evm.privateKey) for a key off the curve
 */
export function openChain(options: ChainOptions): Chain {
  const { rpcUrl, account, client, wallet, viemChain, waitForReceipt, toReceipt } = connect(options);
  return {
    rpcUrl,
    account: account?.address,
    chainId: () => guard('read the chain id', async () => (await viemChain()).id),
    hasCode: (address) => guard('read contract code', async () => {
      const code = await client.getCode({ address });
      return code !== undefined && code !== '0x';
    }),
    deploy: (bytecode) => guard('deploy the anchoring contract', async () => {
      const hash = await (await wallet()).deployContract({ abi: sealpostAnchorAbi, bytecode });
      return waitForReceipt(hash);
    }),
    owner: (contract) => guard('call owner', () => client.readContract({ address: contract, abi: sealpostAnchorAbi, functionName: 'owner' })),
    anchoredAt: (contract, root) => guard('call anchoredAt', async () => {
      const [time, blockNumber, batchId, firstSeq, size] = await client.readContract({ address: contract, abi: sealpostAnchorAbi, functionName: 'anchoredAt', args: [root] });
      return { time: Number(time), blockNumber: Number(blockNumber), batchId: Number(batchId), firstSeq: Number(firstSeq), size };
    }),
    head: (contract) => guard('read lastBatchId and lastSeq', async () => {
      const [lastBatchId, lastSeq] = await Promise.all([
        client.readContract({ address: contract, abi: sealpostAnchorAbi, functionName: 'lastBatchId' }),
        client.readContract({ address: contract, abi: sealpostAnchorAbi, functionName: 'lastSeq' }),
      ]);
      return { lastBatchId: Number(lastBatchId), lastSeq: Number(lastSeq) };
    }),
    anchoredLogs: (contract, root, block) => guard('read Anchored logs', async () => {
      const logs = await client.getContractEvents({
        address: contract,
        abi: sealpostAnchorAbi,
        eventName: 'Anchored',
        args: { root },
        fromBlock: BigInt(block),
        toBlock: BigInt(block),
        strict: true,
      });
      return logs.flatMap((log) => {
        const decoded = decodeAnchored(log);
        return decoded === null ? [] : [decoded];
      });
    }),
    sendAnchor: (contract, batch) => guard('send anchor()', async () => {
      const args = [batch.root, BigInt(batch.batchId), BigInt(batch.firstSeq), batch.size] as const;
      return (await wallet()).writeContract({ address: contract, abi: sealpostAnchorAbi, functionName: 'anchor', args });
    }),
    waitForReceipt: (tx) => guard(`wait for transaction ${tx}`, () => waitForReceipt(tx)),
    receipt: (tx) => guard(`read receipt of ${tx}`, async () => {
      try {
        return toReceipt(await client.getTransactionReceipt({ hash: tx }));
      } catch (error) {
        if (error instanceof BaseError && error.walk((e) => e instanceof TransactionReceiptNotFoundError) !== null) return null;
        throw error;
      }
    }),
    knows: (tx) => guard(`look up transaction ${tx}`, async () => {
      try {
        await client.getTransaction({ hash: tx });
        return true;
      } catch (error) {
        if (error instanceof BaseError && error.walk((e) => e instanceof TransactionNotFoundError) !== null) return false;
        throw error;
      }
    }),
  };
}

// ── The registry contract (contracts/SealpostRegistry.sol) ──────────────────
// Plain shapes of its storage and events; src/registry/evm.ts checks the
// signatures inside them and turns them into registry records.

/** A node slot as node()/nodesPage() return it; null when never registered. */
export interface RegistryNodeSlot {
  /** 0x-prefixed 32 bytes */
  nodeId: Hex;
  owner: Address;
  seq: bigint;
  encKey: Hex;
  sigR: Hex;
  sigS: Hex;
  /** the canonical address list, as stored */
  addrs: Hex;
}

/** An address claim as claim() returns it; null when unclaimed. */
export interface RegistryClaimSlot {
  nodeId: Hex;
  seq: bigint;
  sigR: Hex;
  sigS: Hex;
  fingerprint: Hex;
  keyRef: string;
}

/** What registerNode() sends. */
export interface RegisterNodeArgs {
  nodeId: Hex;
  encKey: Hex;
  seq: bigint;
  addrs: Hex;
  sigR: Hex;
  sigS: Hex;
}

/** What claimAddress() sends. */
export interface ClaimAddressArgs {
  addressHash: Hex;
  nodeId: Hex;
  seq: bigint;
  fingerprint: Hex;
  keyRef: string;
  sigR: Hex;
  sigS: Hex;
}

/** What recordDeletion() sends. */
export interface RecordDeletionArgs {
  messageRef: Hex;
  custodian: Hex;
  /** ms since the epoch, as the custodian signed it */
  time: bigint;
  sigR: Hex;
  sigS: Hex;
}

/** Where a log sits on the chain: logs are ordered by (block, logIndex). */
export interface LogPosition {
  block: number;
  logIndex: number;
  tx: TxHash;
}

/** An Announced event: a packed batch posted in one transaction. */
export interface AnnouncedLog extends LogPosition {
  /** block time, seconds */
  time: number;
  entries: Hex;
}

/** A DeletionRecorded event. */
export interface DeletionLog extends LogPosition {
  messageRef: Hex;
  custodian: Hex;
  time: bigint;
  sigR: Hex;
  sigS: Hex;
}

export interface RegistryChain {
  readonly rpcUrl: string;
  /** the signing account, when a key was given */
  readonly account: Address | undefined;
  chainId(): Promise<number>;
  hasCode(address: Address): Promise<boolean>;
  /** the newest block number */
  blockNumber(): Promise<number>;
  /** Deploys SealpostRegistry creation bytecode and waits for it to be mined. */
  deploy(bytecode: Hex): Promise<Receipt>;
  /** the block the contract was created in (its deployBlock()) */
  deployBlock(contract: Address): Promise<number>;
  node(contract: Address, nodeId: Hex): Promise<RegistryNodeSlot | null>;
  nodeCount(contract: Address): Promise<number>;
  /** nodes offset .. offset+limit-1 in order of first registration */
  nodesPage(contract: Address, offset: number, limit: number): Promise<RegistryNodeSlot[]>;
  claim(contract: Address, addressHash: Hex): Promise<RegistryClaimSlot | null>;
  sendRegisterNode(contract: Address, args: RegisterNodeArgs): Promise<TxHash>;
  sendClaimAddress(contract: Address, args: ClaimAddressArgs): Promise<TxHash>;
  sendAnnounce(contract: Address, entries: Hex): Promise<TxHash>;
  sendRecordDeletion(contract: Address, args: RecordDeletionArgs): Promise<TxHash>;
  /** Waits until `tx` is mined; a reverted transaction is CHAIN_REVERTED. */
  waitForReceipt(tx: TxHash): Promise<Receipt>;
  /** Announced events of `contract` in blocks fromBlock..toBlock, in chain order. */
  announcedLogs(contract: Address, fromBlock: number, toBlock: number): Promise<AnnouncedLog[]>;
  /** DeletionRecorded events for `messageRef` in blocks fromBlock..toBlock, in chain order. */
  deletionLogs(contract: Address, messageRef: Hex, fromBlock: number, toBlock: number): Promise<DeletionLog[]>;
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';
const ZERO_WORD = `0x${'0'.repeat(64)}`;

/**
 * Connects (lazily: no request is made here) to an EVM node, for the registry contract.
 * @throws ValidationError (ledger.evm.rpcUrl) for a URL that is not http(s), (ledger.evm.privateKey) for a key off the curve
 */
export function openRegistryChain(options: ChainOptions): RegistryChain {
  const { rpcUrl, account, client, wallet, viemChain, waitForReceipt } = connect(options);
  const abi = sealpostRegistryAbi;
  const write = async (send: (w: Awaited<ReturnType<typeof wallet>>) => Promise<TxHash>): Promise<TxHash> => send(await wallet());
  return {
    rpcUrl,
    account: account?.address,
    chainId: () => guard('read the chain id', async () => (await viemChain()).id),
    hasCode: (address) => guard('read contract code', async () => {
      const code = await client.getCode({ address });
      return code !== undefined && code !== '0x';
    }),
    blockNumber: () => guard('read the block number', async () => Number(await client.getBlockNumber({ cacheTime: 0 }))),
    deploy: (bytecode) => guard('deploy the registry contract', async () => waitForReceipt(await write((w) => w.deployContract({ abi, bytecode })))),
    deployBlock: (contract) => guard('call deployBlock', async () => Number(await client.readContract({ address: contract, abi, functionName: 'deployBlock' }))),
    node: (contract, nodeId) => guard('call node', async () => {
      const [owner, seq, encKey, sigR, sigS, addrs] = await client.readContract({ address: contract, abi, functionName: 'node', args: [nodeId] });
      return owner === ZERO_ADDRESS ? null : { nodeId, owner, seq, encKey, sigR, sigS, addrs };
    }),
    nodeCount: (contract) => guard('call nodeCount', async () => Number(await client.readContract({ address: contract, abi, functionName: 'nodeCount' }))),
    nodesPage: (contract, offset, limit) => guard('call nodesPage', async () => {
      const page = await client.readContract({ address: contract, abi, functionName: 'nodesPage', args: [BigInt(offset), BigInt(limit)] });
      return page.map((n) => ({ nodeId: n.nodeId, owner: n.owner, seq: n.seq, encKey: n.encKey, sigR: n.sigR, sigS: n.sigS, addrs: n.addrs }));
    }),
    claim: (contract, addressHash) => guard('call claim', async () => {
      const [nodeId, seq, sigR, sigS, fingerprint, keyRef] = await client.readContract({ address: contract, abi, functionName: 'claim', args: [addressHash] });
      return nodeId === ZERO_WORD ? null : { nodeId, seq, sigR, sigS, fingerprint, keyRef };
    }),
    sendRegisterNode: (contract, a) => guard('send registerNode()', () =>
      write((w) => w.writeContract({ address: contract, abi, functionName: 'registerNode', args: [a.nodeId, a.encKey, a.seq, a.addrs, a.sigR, a.sigS] }))),
    sendClaimAddress: (contract, a) => guard('send claimAddress()', () =>
      write((w) => w.writeContract({ address: contract, abi, functionName: 'claimAddress', args: [a.addressHash, a.nodeId, a.seq, a.fingerprint, a.keyRef, a.sigR, a.sigS] }))),
    sendAnnounce: (contract, entries) => guard('send announce()', () =>
      write((w) => w.writeContract({ address: contract, abi, functionName: 'announce', args: [entries] }))),
    sendRecordDeletion: (contract, a) => guard('send recordDeletion()', () =>
      write((w) => w.writeContract({ address: contract, abi, functionName: 'recordDeletion', args: [a.messageRef, a.custodian, a.time, a.sigR, a.sigS] }))),
    waitForReceipt: (tx) => guard(`wait for transaction ${tx}`, () => waitForReceipt(tx)),
    announcedLogs: (contract, fromBlock, toBlock) => guard('read Announced logs', async () => {
      const logs = await client.getContractEvents({ address: contract, abi, eventName: 'Announced', fromBlock: BigInt(fromBlock), toBlock: BigInt(toBlock), strict: true });
      return inChainOrder(logs.flatMap((log) => {
        const at = position(log);
        return at === null ? [] : [{ ...at, time: Number(log.args.time), entries: log.args.entries }];
      }));
    }),
    deletionLogs: (contract, messageRef, fromBlock, toBlock) => guard('read DeletionRecorded logs', async () => {
      const logs = await client.getContractEvents({
        address: contract,
        abi,
        eventName: 'DeletionRecorded',
        args: { messageRef },
        fromBlock: BigInt(fromBlock),
        toBlock: BigInt(toBlock),
        strict: true,
      });
      return inChainOrder(logs.flatMap((log) => {
        const at = position(log);
        const { custodian, time, sigR, sigS } = log.args;
        return at === null ? [] : [{ ...at, messageRef: log.args.messageRef, custodian, time, sigR, sigS }];
      }));
    }),
  };
}

/** Where a mined log sits; null for a pending one (no block yet). */
function position(log: { blockNumber: bigint | null; logIndex: number | null; transactionHash: Hex | null }): LogPosition | null {
  if (log.blockNumber === null || log.logIndex === null || log.transactionHash === null) return null;
  return { block: Number(log.blockNumber), logIndex: log.logIndex, tx: log.transactionHash };
}

function inChainOrder<T extends LogPosition>(logs: T[]): T[] {
  return logs.sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
}

/** What openChain and openRegistryChain share: one HTTP transport, a public client, a wallet on demand. */
function connect(options: ChainOptions) {
  const rpcUrl = checkRpcUrl(options.rpcUrl);
  const account = options.privateKey === undefined ? undefined : toAccount(options.privateKey);
  const transport: Transport = http(rpcUrl, {
    timeout: options.timeoutMs ?? 10_000,
    retryCount: options.retryCount ?? 3,
    retryDelay: 150,
  });
  const pollingInterval = options.pollingIntervalMs ?? 1_000;
  const receiptTimeout = options.receiptTimeoutMs ?? 120_000;
  const client: PublicClient = createPublicClient({ transport, pollingInterval });
  let chain: Promise<ViemChain> | undefined;

  // The chain id is asked once, on first need; a failure is not cached.
  const viemChain = (): Promise<ViemChain> => {
    chain ??= client.getChainId().then(
      (id) => defineChain({ id, name: `chain ${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } }),
      (error: unknown) => {
        chain = undefined;
        throw error;
      },
    );
    return chain;
  };
  const wallet = async () => {
    if (account === undefined) throw new ValidationError('ledger.evm.privateKeyFile', 'a private key is needed to send transactions');
    return createWalletClient({ account, chain: await viemChain(), transport, pollingInterval });
  };
  const toReceipt = (r: Awaited<ReturnType<PublicClient['getTransactionReceipt']>>): Receipt => ({
    tx: r.transactionHash,
    status: r.status,
    from: r.from,
    to: r.to,
    block: Number(r.blockNumber),
    gasUsed: r.gasUsed,
    contractAddress: r.contractAddress ?? null,
    anchored: r.logs.flatMap((log) => {
      const decoded = decodeAnchored(log);
      return decoded === null ? [] : [decoded];
    }),
  });
  const waitForReceipt = async (tx: TxHash): Promise<Receipt> => {
    const r = await client.waitForTransactionReceipt({ hash: tx, timeout: receiptTimeout, pollingInterval });
    if (r.status !== 'success') throw new ChainError('CHAIN_REVERTED', `transaction ${tx} was mined in block ${r.blockNumber} but reverted`);
    return toReceipt(r);
  };
  return { rpcUrl, account, client, wallet, viemChain, waitForReceipt, toReceipt };
}

/** The EIP-55 checksummed form of an address (the form viem returns). */
export function checksumAddress(address: Address): Address {
  return getAddress(address);
}

/**
 * Only http: and https: endpoints: a WebSocket or IPC path would need another transport.
 * @throws ValidationError (ledger.evm.rpcUrl)
 */
export function checkRpcUrl(rpcUrl: string): string {
  let url: URL;
  try {
    url = new URL(rpcUrl);
  } catch {
    throw new ValidationError('ledger.evm.rpcUrl', 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError('ledger.evm.rpcUrl', `must be http(s), not ${url.protocol}`);
  return rpcUrl;
}

function toAccount(privateKey: PrivateKey) {
  try {
    return privateKeyToAccount(privateKey);
  } catch {
    // Only a key outside the secp256k1 group order gets here (parsePrivateKey checked the form).
    throw new ValidationError('ledger.evm.privateKey', 'is not a valid secp256k1 private key');
  }
}

interface RawLog {
  address: Address;
  data: Hex;
  topics: [] | [Hex, ...Hex[]];
  transactionHash: Hex | null;
  blockNumber: bigint | null;
}

function decodeAnchored(log: RawLog): AnchoredLog | null {
  if (log.transactionHash === null || log.blockNumber === null) return null;
  try {
    const event = decodeEventLog({ abi: sealpostAnchorAbi, eventName: 'Anchored', data: log.data, topics: log.topics, strict: true });
    return {
      address: log.address,
      root: event.args.root,
      batchId: Number(event.args.batchId),
      firstSeq: Number(event.args.firstSeq),
      size: event.args.size,
      time: Number(event.args.time),
      tx: log.transactionHash,
      block: Number(log.blockNumber),
    };
  } catch {
    return null; // another event, or another contract's event of another shape
  }
}

/** Runs one chain operation and turns viem's errors into ChainError. */
async function guard<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toChainError(error, what);
  }
}

function toChainError(error: unknown, what: string): unknown {
  if (!(error instanceof BaseError)) return error; // ours (ChainError, ValidationError) or a bug
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) {
    const name = reverted.data?.errorName;
    const reason = name === undefined ? (reverted.reason ?? 'no reason given') : `${name}(${(reverted.data?.args ?? []).map(String).join(', ')})`;
    return new ChainError('CHAIN_REVERTED', `${what}: the contract reverted: ${reason}`, name === undefined ? { cause: error } : { cause: error, revert: name });
  }
  if (error.walk((e) => e instanceof ExecutionRevertedError) !== null) {
    return new ChainError('CHAIN_REVERTED', `${what}: execution reverted`, { cause: error });
  }
  const unavailable = error.walk(
    (e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof SocketClosedError || e instanceof WaitForTransactionReceiptTimeoutError,
  );
  if (unavailable !== null) {
    // Name the node and the network-level reason (ECONNREFUSED, a timeout): viem's
    // shortMessage alone ("HTTP request failed.") does not tell a user what to fix.
    const at = unavailable instanceof HttpRequestError ? ` at ${unavailable.url}` : '';
    return new ChainError('CHAIN_UNAVAILABLE', `${what}: the chain node${at} did not answer (${rootCause(error)})`, { cause: error });
  }
  return new ChainError('CHAIN_REJECTED', `${what}: ${error.shortMessage}`, { cause: error });
}

/** The innermost cause's message, e.g. "connect ECONNREFUSED 127.0.0.1:8545", else viem's short message. */
function rootCause(error: BaseError): string {
  let inner: unknown = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  if (inner === error || !(inner instanceof Error)) return error.shortMessage;
  return inner instanceof BaseError ? inner.shortMessage : inner.message;
}
