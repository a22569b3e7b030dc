// Base error classes. Every error Sealpost raises on purpose carries a stable
// `code`; protocol layers map codes to replies (imap/errors.ts, smtp/errors.ts)
// and tests assert on `code`, never on message text.

export class SealpostError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SealpostError';
    this.code = code;
  }
}

/** A caller asked for something that does not exist (mailbox, account, message). */
export class NotFoundError extends SealpostError {
  constructor(what: string, message?: string) {
    super('NOT_FOUND', message ?? `${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** A name or object already exists (mailbox, account). */
export class AlreadyExistsError extends SealpostError {
  constructor(what: string, message?: string) {
    super('ALREADY_EXISTS', message ?? `${what} already exists`);
    this.name = 'AlreadyExistsError';
  }
}

/** Input from outside (network, file, flag) failed validation; `field` names it. */
export class ValidationError extends SealpostError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('INVALID', `${field}: ${message}`);
    this.name = 'ValidationError';
    this.field = field;
  }
}

/** An operation the target cannot do (delete INBOX, rename onto itself...). */
export class NotAllowedError extends SealpostError {
  constructor(message: string) {
    super('NOT_ALLOWED', message);
    this.name = 'NotAllowedError';
  }
}

/** A size or count limit was hit (message size, literal size, connections). */
export class LimitError extends SealpostError {
  constructor(message: string) {
    super('LIMIT', message);
    this.name = 'LimitError';
  }
}

/** Credentials were wrong, or the account is throttled. */
export class AuthError extends SealpostError {
  constructor(code: 'AUTH_FAILED' | 'AUTH_THROTTLED', message: string) {
    super(code, message);
    this.name = 'AuthError';
  }
}

/** Data is sealed with an account key that this process does not hold: the
 *  account has not logged in since the gateway started (accounts/keyring.ts). */
export class LockedError extends SealpostError {
  constructor(message = 'mailbox is locked: log in to unlock it') {
    super('LOCKED', message);
    this.name = 'LockedError';
  }
}

/** Sealed data does not open with the account's key: tampered with, moved to
 *  another account, or sealed under a key that was replaced (password reset
 *  with a new key pair). Permanent, unlike LockedError. */
export class UnreadableError extends SealpostError {
  constructor(message: string) {
    super('UNREADABLE', message);
    this.name = 'UnreadableError';
  }
}
