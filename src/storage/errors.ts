// Errors of the storage backends, one class per condition with a stable
// `code` and `name` (the Helia habit): callers and tests check those.
import { SealpostError } from '../errors/index.ts';

/** A block of the object is not stored here (and no peer had it). */
export class BlockNotFoundError extends SealpostError {
  readonly cid: string;
  constructor(cid: string, message?: string) {
    super('BLOCK_NOT_FOUND', message ?? `block ${cid} is not in the store`);
    this.name = 'BlockNotFoundError';
    this.cid = cid;
  }
}

/** A stored block does not hash to its CID: it was altered or damaged on disk. */
export class BlockCorruptError extends SealpostError {
  readonly cid: string;
  constructor(cid: string, message?: string) {
    super('BLOCK_CORRUPT', message ?? `block ${cid} is corrupted: its content does not match its hash`);
    this.name = 'BlockCorruptError';
    this.cid = cid;
  }
}
