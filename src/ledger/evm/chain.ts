// The one adapter to viem: JSON-RPC calls to an EVM node about the anchoring
// contract (deploy, anchor, anchoredAt, receipts, Anchored logs). The rest of
// Sealpost sees plain numbers and hex strings, and ChainError on trouble.
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
import { sealpostAnchorAbi } from './abi.ts';
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
