// Errors of the EVM anchoring backend, one class with a stable `code` per
// kind of chain trouble: callers retry on CHAIN_UNAVAILABLE and report the
// others, and tests check `code`, never message text.
import { SealpostError } from '../../errors/index.ts';

/**
 * - CHAIN_UNAVAILABLE: the node did not answer (connection refused, timeout,
 *   HTTP error); nothing was decided, retry later.
 * - CHAIN_REVERTED: the contract refused the call (NotOwner, …) or the
 *   transaction was mined but failed.
 * - CHAIN_REJECTED: the node answered with an error before executing
 *   (insufficient funds, nonce, unknown method, no contract at the address).
 */
export type ChainErrorCode = 'CHAIN_UNAVAILABLE' | 'CHAIN_REVERTED' | 'CHAIN_REJECTED';

export class ChainError extends SealpostError {
  declare readonly code: ChainErrorCode;
  /** the contract's custom error name when the chain reverted with one (e.g. NotOwner) */
  readonly revert: string | undefined;
  constructor(code: ChainErrorCode, message: string, options: { cause?: unknown; revert?: string } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChainError';
    this.revert = options.revert;
  }
}
