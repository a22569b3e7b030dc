// The EVM ledger backend: the record log in ledger.db (the same log as the
// embedded backend), batch roots anchored by the SealpostAnchor contract.
// Mirrors ledger/local.ts; importing this file loads viem, so callers that may
// run the local backend import it on demand.
import type { Logger } from 'pino';
import { createLedger } from '../ledger.ts';
import { openRecordLog, type RecordLog } from '../log.ts';
import type { Ledger } from '../types.ts';
import { createEvmAnchorer, type ChainTuning } from './anchorer.ts';

export interface EvmLedgerOptions extends ChainTuning {
  /** the SQLite file (DataPaths.ledgerDb) */
  path: string;
  /** config ledger.evm.rpcUrl */
  rpcUrl: string;
  /** config ledger.evm.contract */
  contract: string;
  /** 0x-prefixed hex key of the contract's owner (readPrivateKeyFile(config ledger.evm.privateKeyFile)) */
  privateKey: string;
  batchSize: number;
  batchIntervalMs: number;
  logger?: Logger;
  /** first retry delay after a failed anchoring (see LedgerOptions) */
  retryBaseMs?: number;
  /** read-only use: do not resume anchoring (see LedgerOptions.passive) */
  passive?: boolean;
}

/**
 * Opens the ledger anchored on an EVM chain and resumes anchoring whatever a
 * previous run left unanchored. A chain that is down does not stop it from
 * opening: records are appended and anchored once the chain answers.
 * @throws ValidationError (ledger.evm.*) for bad settings, a contract that is not there or not ours
 * @throws RangeError when batchSize or batchIntervalMs is invalid
 */
export async function openEvmLedger(options: EvmLedgerOptions): Promise<Ledger> {
  const { path, rpcUrl, contract, privateKey, batchSize, batchIntervalMs, logger, retryBaseMs, passive, ...tuning } = options;
  // Passive (`sealpost verify`) never anchors: its "anchoring will retry" warning
  // would be wrong, and verify's anchor step already says the chain is unavailable.
  const anchorer = await createEvmAnchorer({ ...tuning, rpcUrl, contract, privateKey, ...(logger && passive !== true ? { logger } : {}) });
  let log: RecordLog | undefined;
  try {
    log = openRecordLog({ path });
    return createLedger({
      log,
      anchorer,
      batchSize,
      batchIntervalMs,
      ...(logger ? { logger } : {}),
      ...(retryBaseMs !== undefined ? { retryBaseMs } : {}),
      ...(passive === true ? { passive: true } : {}),
    });
  } catch (err) {
    log?.close();
    await anchorer.close();
    throw err;
  }
}
