// Benchmark part "gas": what the EVM ledger spends on chain per message.
// Starts a private anvil on loopback, deploys SealpostAnchor, opens the real
// EVM ledger (ledger/evm/ledger.ts) on a temp SQLite file, appends full
// batches of records (default 1,000), anchors them (ledger.anchor()), and reads each anchoring
// transaction's receipt straight from the node (eth_getTransactionReceipt on
// the tx named in the record's proof). Target: under 100 gas per message.
// Two batches are anchored: the first pays for a fresh storage slot of the
// contract's order-keeping counters, later ones do not.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { startAnvil } from '../test/helpers/anvil.ts';
import { makeTempDir, removeTempDir } from './servers.ts';

export interface GasOptions {
  /** records per batch (config ledger.batchSize) */
  batch: number;
  /** how many full batches to anchor */
  batches: number;
  log: (line: string) => void;
}

export interface AnchoredBatchGas {
  id: number;
  firstSeq: number;
  size: number;
  tx: string;
  gasUsed: number;
  perMessage: number;
  /** the proof of the batch's first record verified against the chain */
  verified: boolean;
}

export interface GasResult {
  deployGas: number;
  batches: AnchoredBatchGas[];
  /** the largest per-message figure (the first batch) */
  perMessage: number;
  setting: string;
}

const TARGET_GAS_PER_MESSAGE = 100;
const SENDER = 'D4C3B2A1'.repeat(5); // a v4 fingerprint: 40 uppercase hex digits

async function rpc(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** A record like the outbound pipeline writes: a real CIDv1 and a SHA-256. */
async function recordFor(seq: number, time: number): Promise<{ cid: string; messageHash: string; sender: string; time: number; expires: null }> {
  const bytes = new TextEncoder().encode(`ciphertext of message ${seq}`);
  const digest = await sha256.digest(bytes);
  const messageHash = Buffer.from((await sha256.digest(new TextEncoder().encode(`message ${seq}`))).digest).toString('hex');
  return { cid: CID.createV1(raw.code, digest).toString(), messageHash, sender: SENDER, time, expires: null };
}

function anvilPackageVersion(): string {
  try {
    const file = fileURLToPath(new URL('../node_modules/@foundry-rs/anvil/package.json', import.meta.url));
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/**
 * Runs the gas measurement against a private anvil.
 * @throws Error when anvil does not start, or a batch is not anchored
 */
export async function runGas(options: GasOptions): Promise<GasResult> {
  const { log } = options;
  const dir = makeTempDir('sealpost-gas-');
  log('Starting anvil and deploying SealpostAnchor...');
  const anvil = await startAnvil();
  try {
    const { deployAnchorContract } = await import('../src/ledger/evm/anchorer.ts');
    const { openEvmLedger } = await import('../src/ledger/evm/ledger.ts');
    const tuning = { pollingIntervalMs: 50 };
    const deployed = await deployAnchorContract({ rpcUrl: anvil.rpcUrl, privateKey: anvil.privateKey, ...tuning });
    const ledger = await openEvmLedger({
      path: path.join(dir, 'ledger.db'),
      rpcUrl: anvil.rpcUrl,
      contract: deployed.address,
      privateKey: anvil.privateKey,
      batchSize: options.batch,
      batchIntervalMs: 3_600_000, // only size closes a batch here
      ...tuning,
    });
    const batches: AnchoredBatchGas[] = [];
    try {
      let seq = 0;
      for (let b = 0; b < options.batches; b++) {
        log(`  appending ${options.batch} records and anchoring them...`);
        const firstSeq = seq + 1;
        const time = Date.now();
        for (let i = 0; i < options.batch; i++) {
          seq++;
          await ledger.append(await recordFor(seq, time));
        }
        await ledger.anchor();
        const proof = await ledger.prove(firstSeq);
        if (proof === null) throw new Error(`record ${firstSeq} has no proof after flush`);
        if (proof.anchor.kind !== 'evm') throw new Error(`record ${firstSeq} is anchored as ${proof.anchor.kind}`);
        const receipt = (await rpc(anvil.rpcUrl, 'eth_getTransactionReceipt', [proof.anchor.tx])) as { gasUsed: string; status: string } | null;
        if (receipt === null || receipt.status !== '0x1') throw new Error(`anchoring transaction ${proof.anchor.tx} is not mined successfully`);
        const gasUsed = Number(BigInt(receipt.gasUsed));
        const verified = (await ledger.verify(proof)).ok;
        batches.push({ id: proof.batch.id, firstSeq: proof.batch.firstSeq, size: proof.batch.size, tx: proof.anchor.tx, gasUsed, perMessage: gasUsed / proof.batch.size, verified });
        log(`  batch ${proof.batch.id}: ${proof.batch.size} records, tx ${proof.anchor.tx.slice(0, 10)}…, ${gasUsed} gas, ${(gasUsed / proof.batch.size).toFixed(1)} gas/message${verified ? '' : ' (proof did NOT verify)'}`);
      }
    } finally {
      await ledger.close();
    }
    const anvilVersion = anvilPackageVersion();
    return {
      deployGas: Number(deployed.gasUsed),
      batches,
      perMessage: Math.max(...batches.map((b) => b.perMessage)),
      setting: `EVM ledger (ledger/evm) against a private anvil ${anvilVersion} on loopback, SealpostAnchor deployed by the benchmark; ${options.batches} batches of ${options.batch} records appended through the ledger and anchored by ledger.anchor(); gas from eth_getTransactionReceipt of the tx in each batch's proof`,
    };
  } finally {
    await anvil.stop();
    removeTempDir(dir);
  }
}

/** The table as lines: [header, ...rows]. */
export function gasTable(result: GasResult): string[][] {
  return [
    ['Ledger anchoring (EVM)', 'records', 'gas', 'gas per message', `target < ${TARGET_GAS_PER_MESSAGE}`],
    ...result.batches.map((b) => [
      `batch ${b.id}${b.id === 1 ? ' (first: fresh counter slot)' : ''}`,
      String(b.size),
      String(b.gasUsed),
      b.perMessage.toFixed(1),
      b.perMessage < TARGET_GAS_PER_MESSAGE ? 'met' : 'NOT met',
    ]),
  ];
}

export function gasNote(result: GasResult): string {
  const verified = result.batches.every((b) => b.verified) ? 'every batch\'s proof verified against the chain' : 'a proof did NOT verify';
  return `Contract deployment: ${result.deployGas} gas, once per ledger; ${verified}`;
}
