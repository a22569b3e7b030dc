// Errors of the custody cryptography (expiry secret, Shamir/Pedersen shares,
// ECIES sealing, custodian selection): one class with a stable `code` per
// condition and, for input that failed validation, the `field` it names.
// Callers and tests check `code`, never the message.
import { SealpostError } from '../errors/index.ts';

export type CustodyErrorCode =
  /** fewer distinct share indexes than the threshold were given to combine */
  | 'CUSTODY_TOO_FEW_SHARES'
  /** an encoded or in-memory share is malformed, or two shares conflict */
  | 'CUSTODY_BAD_SHARE'
  /** encoded Pedersen commitments are malformed */
  | 'CUSTODY_BAD_COMMITMENTS'
  /** an argument is out of range (t, n, secret, message hash) */
  | 'CUSTODY_BAD_PARAMS'
  /** an X25519 key is the wrong size or a low-order point */
  | 'CUSTODY_BAD_KEY'
  /** a sealed box does not open: wrong key, wrong AAD, tampered, truncated */
  | 'CUSTODY_UNSEALABLE'
  /** the registry has fewer eligible nodes than custodians wanted */
  | 'CUSTODY_TOO_FEW_NODES';

export class CustodyError extends SealpostError {
  declare readonly code: CustodyErrorCode;
  /** the argument or encoded field at fault, when there is one */
  readonly field?: string;
  constructor(code: CustodyErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    const field = options?.field;
    super(code, field === undefined ? message : `${field}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustodyError';
    if (field !== undefined) this.field = field;
  }
}
