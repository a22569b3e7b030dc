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
  | 'CUSTODY_TOO_FEW_NODES'
  // ── custody service (service.ts, client.ts; wire format in wire.ts) ──
  /** fewer than t custodians acknowledged a deposit (CustodyDepositError says how many) */
  | 'CUSTODY_DEPOSIT_FAILED'
  /** the share's expiry has passed (custodian's clock): it is deleted; also a collect where too few shares remain before expiry */
  | 'CUSTODY_EXPIRED'
  /** the sender revoked the share early: it is deleted */
  | 'CUSTODY_REVOKED'
  /** this custodian holds no share for the message and sender */
  | 'CUSTODY_NOT_FOUND'
  /** the requester is not an authorised reader (release) or not the sender (revoke, deposit) */
  | 'CUSTODY_NOT_AUTHORISED'
  /** the request names a requester other than the node its connection authenticated */
  | 'CUSTODY_PEER_MISMATCH'
  /** the request's Ed25519 signature does not verify under the requester's node key */
  | 'CUSTODY_BAD_SIGNATURE'
  /** the request's time is too far from the custodian's clock (replay window) */
  | 'CUSTODY_STALE_REQUEST'
  /** a request or response is malformed (wire.ts); `field` names the part */
  | 'CUSTODY_BAD_REQUEST'
  /** the custodian holds as many shares as its limit allows (overall or for this sender) */
  | 'CUSTODY_FULL'
  /** the requester is not in the registry, so there is no key to seal its share to */
  | 'CUSTODY_UNKNOWN_NODE';

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

/** How the custodians of one collect answered (client.ts collectSecret). */
export interface CustodyTally {
  /** shares that opened and verified against the commitments */
  good: number;
  /** no answer: dial failed, timed out, connection lost, busy, protocol not served, not in the registry */
  unreachable: number;
  /** the custodian refused this reader (not authorised, bad signature, stale, unknown node, …) */
  refused: number;
  /** a share came back but did not open, had the wrong index, or failed the Pedersen check */
  bad: number;
  /** the custodian deleted the share at expiry */
  expired: number;
  /** the sender revoked the share */
  revoked: number;
  /** the custodian holds no share for this message */
  missing: number;
}

/**
 * A collect that could not gather t verified shares. Code CUSTODY_EXPIRED when
 * so many custodians report the share expired or revoked that t can never be
 * reached again (permanent); CUSTODY_TOO_FEW_SHARES otherwise (a later try may
 * succeed). `tally` says how each custodian answered.
 */
export class CustodyCollectError extends CustodyError {
  readonly tally: Readonly<CustodyTally>;
  readonly t: number;
  constructor(code: 'CUSTODY_TOO_FEW_SHARES' | 'CUSTODY_EXPIRED', t: number, tally: CustodyTally) {
    super(code, `need ${t} verified shares, got ${tally.good}: ${tally.unreachable} unreachable, ${tally.refused} refused, `
      + `${tally.bad} bad, ${tally.expired} expired, ${tally.revoked} revoked, ${tally.missing} missing`);
    this.name = 'CustodyCollectError';
    this.t = t;
    this.tally = { ...tally };
  }
}

/** A deposit that fewer than t custodians acknowledged; the shares that were stored have been revoked (best effort). */
export class CustodyDepositError extends CustodyError {
  readonly t: number;
  readonly acknowledged: number;
  /** custodian node id → the error code it failed with (NETWORK_* or a CUSTODY_* code the custodian sent) */
  readonly failures: Readonly<Record<string, string>>;
  constructor(t: number, acknowledged: number, failures: Record<string, string>) {
    super('CUSTODY_DEPOSIT_FAILED', `${acknowledged} of ${acknowledged + Object.keys(failures).length} custodians acknowledged the deposit, ${t} needed`);
    this.name = 'CustodyDepositError';
    this.t = t;
    this.acknowledged = acknowledged;
    this.failures = { ...failures };
  }
}
