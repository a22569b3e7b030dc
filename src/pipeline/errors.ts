// Errors of the secure pipeline, each with a stable code that smtp/errors.ts
// maps to a reply the client understands (RFC 3463 enhanced codes).
import { SealpostError } from '../errors/index.ts';

/** An outside recipient has no known OpenPGP key and policy is `refuse`. */
export class NoKeyError extends SealpostError {
  readonly recipient: string;
  constructor(recipient: string) {
    super('NO_KEY', `<${recipient}>: no OpenPGP key is known for this recipient outside Sealpost, and unencrypted relaying is off. ` +
      'Import their key with "sealpost keys import FILE" (or set relay.policy to "plain")');
    this.name = 'NoKeyError';
    this.recipient = recipient;
  }
}

/** The recipient is not an account here and no smarthost is configured. */
export class NoRelayError extends SealpostError {
  readonly recipient: string;
  constructor(recipient: string) {
    super('NO_RELAY', `<${recipient}>: not a Sealpost account on this node, and no smarthost is configured for outside mail (config relay.host)`);
    this.name = 'NoRelayError';
    this.recipient = recipient;
  }
}

/** The sender's key is not unlocked (cannot happen after AUTH unless the key is unreadable). */
export class SenderLockedError extends SealpostError {
  constructor(address: string) {
    super('SENDER_LOCKED', `the OpenPGP key of ${address} is not unlocked; log in again`);
    this.name = 'SenderLockedError';
  }
}

/** An expiring message to recipients outside the network, where no custodian can enforce the expiry. */
export class ExpiryOutsideError extends SealpostError {
  readonly recipients: string[];
  constructor(recipients: string[]) {
    super('EXPIRY_OUTSIDE', `${recipients.map((r) => `<${r}>`).join(', ')}: an expiring message can only go to Sealpost recipients, whose nodes enforce the expiry; send these recipients a copy without an expiry`);
    this.name = 'ExpiryOutsideError';
    this.recipients = recipients;
  }
}
