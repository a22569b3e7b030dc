// Errors of reading a key backup (backup/format.ts), one class per condition
// with a stable `code` and `name`: callers and tests check those, never the
// message text.
import { SealpostError } from '../errors/index.ts';

/** The passphrase does not open the backup (mistyped, or another backup's). */
export class BackupPassphraseError extends SealpostError {
  constructor(message = 'the passphrase does not open this backup', options?: { cause?: unknown }) {
    super('BACKUP_BAD_PASSPHRASE', message, options);
    this.name = 'BackupPassphraseError';
  }
}

/**
 * The input is not a Sealpost backup, or it was altered or damaged: not an
 * OpenPGP message of the expected shape, integrity check failed although the
 * passphrase is right, not JSON, or a field fails validation (`field` names it).
 */
export class BackupCorruptError extends SealpostError {
  /** the offending field (`account.publicKey`, `storage.peers[2]`...), when one is at fault */
  readonly field: string | undefined;
  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super('BACKUP_CORRUPT', options?.field === undefined ? message : `${options.field}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BackupCorruptError';
    this.field = options?.field;
  }
}

/** The backup was written by a newer Sealpost (a format version this one does not know). */
export class BackupVersionError extends SealpostError {
  readonly version: number;
  constructor(version: number) {
    super('BACKUP_VERSION', `backup format version ${version} is newer than this Sealpost understands (1); upgrade Sealpost to restore it`);
    this.name = 'BackupVersionError';
    this.version = version;
  }
}
