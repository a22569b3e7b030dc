// Errors of the smarthost relay. Kept apart from smarthost.ts so that pipeline
// code and test doubles can raise and check them without loading nodemailer.
import { SealpostError } from '../errors/index.ts';

export type RelayErrorCode = 'RELAY_TEMPORARY' | 'RELAY_REJECTED';

export interface RelayErrorDetails {
  /** the provider's SMTP reply code, when there was a reply */
  responseCode?: number | undefined;
  /** recipients the failure applies to (all of them when the whole message failed) */
  recipients: string[];
  /** recipients the provider accepted anyway (partial acceptance): they got the message */
  accepted?: string[];
}

/**
 * The smarthost did not take the message for every recipient.
 * RELAY_TEMPORARY: try again later (connection refused, timeout, 4xx reply).
 * RELAY_REJECTED: retrying the same message will not help (5xx reply, login refused).
 */
export class RelayError extends SealpostError {
  readonly responseCode: number | undefined;
  readonly recipients: string[];
  readonly accepted: string[];
  constructor(code: RelayErrorCode, message: string, details: RelayErrorDetails) {
    super(code, message);
    this.name = 'RelayError';
    this.responseCode = details.responseCode;
    this.recipients = details.recipients;
    this.accepted = details.accepted ?? [];
  }
}
