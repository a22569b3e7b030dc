// Errors of the ledger, one class per condition with a stable `code` and
// `name`: callers and tests check those, never the message.
import { SealpostError } from '../errors/index.ts';

/** Anchoring a batch root failed (chain down, key missing): the records are kept and retried. */
export class AnchorError extends SealpostError {
  readonly batchId: number;
  constructor(batchId: number, message: string, options?: { cause?: unknown }) {
    super('ANCHOR_FAILED', message, options);
    this.name = 'AnchorError';
    this.batchId = batchId;
  }
}

/** The log's own bookkeeping is inconsistent (a batch missing leaves, unreadable rows). */
export class LedgerCorruptError extends SealpostError {
  constructor(message: string) {
    super('LEDGER_CORRUPT', message);
    this.name = 'LedgerCorruptError';
  }
}

/** The ledger was closed and cannot take this call. */
export class LedgerClosedError extends SealpostError {
  constructor() {
    super('CLOSED', 'the ledger is closed');
    this.name = 'LedgerClosedError';
  }
}
