// Errors of account replication (replica/): one class with a stable `code`
// per condition and, for input that failed validation, the `field` it names.
// A replica's refusal reaches the owner as NetworkRemoteError whose
// `remoteCode` is one of these codes; a per-CID failure inside a pin answer
// carries the code as text. Callers and tests check `code`, never the message.
import { SealpostError } from '../errors/index.ts';

export type ReplicaErrorCode =
  /** a request is malformed (wire.ts): not JSON, unknown op or field, bad tag, CID, seq, limit; `field` names it */
  | 'REPLICA_BAD_REQUEST'
  /** a replica's answer is malformed or does not match the request; `field` names it */
  | 'REPLICA_BAD_RESPONSE'
  /** a caller's argument is out of range (k, tag, cids, pointer); `field` names it */
  | 'REPLICA_BAD_PARAMS'
  /** the owner (or the replica as a whole) holds as many CIDs or bytes as its limit allows */
  | 'REPLICA_QUOTA_EXCEEDED'
  /** the block could not be fetched: no connected peer had it before the storage gave up */
  | 'REPLICA_FETCH_FAILED'
  /** the block was not fetched within the time the request allowed (it may still arrive: ask status/list) */
  | 'REPLICA_FETCH_TIMEOUT'
  /** this replica holds no snapshot pointer for the asking node and tag (the same answer whoever else stored one) */
  | 'REPLICA_NOT_FOUND'
  /** a snapshot pointer's signature does not verify under the owner's node key */
  | 'REPLICA_BAD_SIGNATURE'
  /** the asking node is not in the registry, and this replica keeps data for registered nodes only */
  | 'REPLICA_UNKNOWN_NODE'
  /** the replica is stopping and takes no new work */
  | 'REPLICA_STOPPING';

export class ReplicaError extends SealpostError {
  declare readonly code: ReplicaErrorCode;
  /** the argument or encoded field at fault, when there is one */
  readonly field?: string;
  constructor(code: ReplicaErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    const field = options?.field;
    super(code, field === undefined ? message : `${field}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReplicaError';
    if (field !== undefined) this.field = field;
  }
}
