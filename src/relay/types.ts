// The seam between the outbound pipeline and the smarthost relay: pipeline
// code sees only this interface, so tests can use an in-memory double and
// nodemailer stays inside relay/smarthost.ts.

/** One message for the user's existing provider (the smarthost). */
export interface RelayMessage {
  /** envelope sender (RFC 5321 MAIL FROM); "" for the null reverse-path */
  from: string;
  /** envelope recipients (RCPT TO), at least one */
  to: string[];
  /** the message as sent, CRLF; relayed unchanged */
  raw: Uint8Array;
}

/** What the smarthost said when every recipient was accepted. */
export interface RelayResult {
  accepted: string[];
  /** always empty on success (any rejection throws RelayError); kept for symmetry with SMTP */
  rejected: string[];
  /** the provider's final reply, e.g. "250 2.0.0 Ok: queued as 4F2…" */
  response: string;
}

export interface Smarthost {
  /**
   * Relays one message.
   * @throws RelayError RELAY_TEMPORARY (unreachable, timeout, 4xx) or RELAY_REJECTED
   *   (5xx, authentication refused, some recipients refused: `error.accepted` got it)
   * @throws ValidationError when the message has no recipients
   */
  send(message: RelayMessage): Promise<RelayResult>;
  /**
   * Connects, says EHLO, secures and authenticates as configured, then quits.
   * @throws RelayError as for send
   */
  verify(): Promise<void>;
  /** Closes pooled connections after in-flight deliveries finish. */
  close(): Promise<void>;
}
