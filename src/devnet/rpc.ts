// The few Ethereum JSON-RPC 2.0 calls devnet makes itself (is the chain up,
// which chain, is there code at an address), over fetch: they must not wait
// for viem to load and must fail fast while anvil is still starting.
import { DevnetError } from './errors.ts';

/**
 * One JSON-RPC call.
 * @throws Error when the node does not answer or answers with an error
 */
export async function rpcCall(rpcUrl: string, method: string, params: unknown[] = [], timeoutMs = 2_000): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message ?? 'error'}`);
  return body.result;
}

/** The chain id (eth_chainId). */
export async function chainId(rpcUrl: string): Promise<number> {
  return Number(BigInt(String(await rpcCall(rpcUrl, 'eth_chainId'))));
}

/** true when there is contract code at `address` (eth_getCode at the latest block). */
export async function hasCode(rpcUrl: string, address: string): Promise<boolean> {
  const code = await rpcCall(rpcUrl, 'eth_getCode', [address, 'latest']);
  return typeof code === 'string' && code !== '0x' && code !== '';
}

/**
 * Polls eth_chainId until the node answers.
 * @throws DevnetError DEVNET_ANVIL when it has not answered within `timeoutMs`, or `isDead` says it exited
 */
export async function waitForChain(rpcUrl: string, options: { timeoutMs: number; isDead?: () => string | null; signal?: AbortSignal }): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    if (options.signal?.aborted === true) throw new DevnetError('DEVNET_ABORTED', 'stopped before the chain answered');
    const dead = options.isDead?.() ?? null;
    if (dead !== null) throw new DevnetError('DEVNET_ANVIL', dead);
    try {
      return await chainId(rpcUrl);
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new DevnetError('DEVNET_ANVIL', `the chain at ${rpcUrl} did not answer within ${Math.round(options.timeoutMs / 1000)} s (${(last as Error).message})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
