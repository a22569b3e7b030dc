// The registry's write rules, shared by the backends that enforce them in
// code (memory.ts, local.ts; the EVM contract enforces the same on chain):
// a record is taken only with a valid signature; an update needs a higher
// seq (the same record again is a no-op); an address belongs to the node
// that claimed it first; claims and receipts name registered nodes.
import { RegistryAddressTakenError, RegistryBadSignatureError, RegistryStaleError } from './errors.ts';
import {
  bytesEqual,
  encodeAddrs,
  validateAddressClaim,
  validateDeletionReceipt,
  validateNodeRecord,
  verifyAddressClaim,
  verifyDeletionReceipt,
  verifyNodeRecord,
} from './records.ts';
import type { AddressClaim, DeletionReceipt, NodeRecord, RegistryDomain } from './types.ts';

/** What to do with an incoming record given the stored one. */
export type WriteAction = 'insert' | 'update' | 'none';

/**
 * Validates and verifies a node record (for this domain, no owner).
 * @throws ValidationError, RegistryBadSignatureError
 */
export function acceptNodeRecord(domain: RegistryDomain, input: NodeRecord): NodeRecord {
  const record = validateNodeRecord(input);
  if (!verifyNodeRecord(domain, record)) throw new RegistryBadSignatureError('node');
  return record;
}

/**
 * Validates and verifies an address claim; the address comes back canonical.
 * @throws ValidationError, RegistryBadSignatureError
 */
export function acceptAddressClaim(domain: RegistryDomain, input: AddressClaim): AddressClaim {
  const claim = validateAddressClaim(input);
  if (!verifyAddressClaim(domain, claim)) throw new RegistryBadSignatureError('claim');
  return claim;
}

/**
 * Validates and verifies a deletion receipt.
 * @throws ValidationError, RegistryBadSignatureError
 */
export function acceptDeletionReceipt(domain: RegistryDomain, input: DeletionReceipt): DeletionReceipt {
  const receipt = validateDeletionReceipt(input);
  if (!verifyDeletionReceipt(domain, receipt)) throw new RegistryBadSignatureError('deletion');
  return receipt;
}

/**
 * Insert, update, or nothing (the very same record again).
 * @throws RegistryStaleError when seq is not above the stored one and the record differs
 */
export function nodeAction(stored: NodeRecord | null, incoming: NodeRecord): WriteAction {
  if (stored === null) return 'insert';
  if (incoming.seq > stored.seq) return 'update';
  if (incoming.seq === stored.seq && sameNode(stored, incoming)) return 'none';
  throw new RegistryStaleError(stored.seq, `node record seq ${incoming.seq} is not above the registered ${stored.seq}`);
}

/**
 * Insert, update, or nothing (the very same claim again).
 * @throws RegistryAddressTakenError when another node holds the address
 * @throws RegistryStaleError when seq is not above the stored one and the claim differs
 */
export function claimAction(stored: AddressClaim | null, incoming: AddressClaim): WriteAction {
  if (stored === null) return 'insert';
  if (!bytesEqual(stored.nodeId, incoming.nodeId)) throw new RegistryAddressTakenError();
  if (incoming.seq > stored.seq) return 'update';
  if (incoming.seq === stored.seq && sameClaim(stored, incoming)) return 'none';
  throw new RegistryStaleError(stored.seq, `claim seq ${incoming.seq} is not above the registered ${stored.seq}`);
}

function sameNode(a: NodeRecord, b: NodeRecord): boolean {
  return bytesEqual(a.encKey, b.encKey) && bytesEqual(encodeAddrs(a.addrs), encodeAddrs(b.addrs)) && bytesEqual(a.signature, b.signature);
}

function sameClaim(a: AddressClaim, b: AddressClaim): boolean {
  return a.fingerprint === b.fingerprint && a.keyRef === b.keyRef && bytesEqual(a.signature, b.signature);
}
