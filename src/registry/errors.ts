// Errors of the registry, one class per condition with a stable `code` and
// `name`: callers and tests check those, never the message. Malformed input
// is a ValidationError (code INVALID, `field` names it); chain trouble of the
// EVM backend is a ChainError (CHAIN_UNAVAILABLE, …) from ledger/evm.
import { SealpostError } from '../errors/index.ts';

/** A signature does not verify for the record it comes with. */
export class RegistryBadSignatureError extends SealpostError {
  /** which kind of record: 'node', 'claim' or 'deletion' */
  readonly record: 'node' | 'claim' | 'deletion';
  constructor(record: 'node' | 'claim' | 'deletion', message?: string) {
    super('REGISTRY_BAD_SIGNATURE', message ?? `the ${record} signature does not verify`);
    this.name = 'RegistryBadSignatureError';
    this.record = record;
  }
}

/** Another node claimed the address first. */
export class RegistryAddressTakenError extends SealpostError {
  constructor(message = 'the address is claimed by another node') {
    super('REGISTRY_ADDRESS_TAKEN', message);
    this.name = 'RegistryAddressTakenError';
  }
}

/** The record's seq is not above the stored one (and the record differs from it). */
export class RegistryStaleError extends SealpostError {
  /** the stored seq */
  readonly current: number;
  constructor(current: number, message?: string) {
    super('REGISTRY_STALE', message ?? `seq must be above ${current}`);
    this.name = 'RegistryStaleError';
    this.current = current;
  }
}

/** The node is not registered (a claim or a deletion receipt names it). */
export class RegistryUnknownNodeError extends SealpostError {
  constructor(message = 'the node is not registered') {
    super('REGISTRY_UNKNOWN_NODE', message);
    this.name = 'RegistryUnknownNodeError';
  }
}

/** EVM: the node id belongs to another account (the one that registered it first). */
export class RegistryNotOwnerError extends SealpostError {
  constructor(message = 'the node is registered by another account') {
    super('REGISTRY_NOT_OWNER', message);
    this.name = 'RegistryNotOwnerError';
  }
}

/** The registry was closed and cannot take this call. */
export class RegistryClosedError extends SealpostError {
  constructor() {
    super('REGISTRY_CLOSED', 'the registry is closed');
    this.name = 'RegistryClosedError';
  }
}
