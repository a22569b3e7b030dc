// What the submission server hands accepted mail to: the secure pipeline
// (pipeline/outbound.ts) in the gateway, a plain local deliverer in unit
// tests. The SMTP layer knows nothing about keys, storage or ledgers.

export interface Submission {
  /** the authenticated account's address */
  user: string;
  /** MAIL FROM (equal to user: checked at MAIL FROM) */
  from: string;
  /** RCPT TO addresses, lower-cased, without duplicates */
  recipients: string[];
  /** the message as received, CRLF, with our Received: field in front */
  raw: Uint8Array;
  /** smtp-server's session id, for logs */
  sessionId: string;
}

export interface Submitter {
  /**
   * Decides at RCPT TO whether a recipient can be served.
   * @throws SealpostError whose code the SMTP error table maps to a reply
   *         (NOT_FOUND → 550 5.1.1, NO_KEY → 550 5.7.1, ...), message naming the recipient
   */
  checkRecipient(user: string, address: string): Promise<void>;
  /**
   * Takes responsibility for the message. When the promise resolves the
   * message is durable and the client may be told 250.
   * @returns an id for the 250 reply and logs
   */
  submit(submission: Submission): Promise<{ id: string }>;
}
