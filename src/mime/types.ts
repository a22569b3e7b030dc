// The parsed shape of an RFC 5322 / MIME (RFC 2045-2049) message, as IMAP
// needs it: byte offsets for BODY[section] (RFC 3501 §6.4.5) and the fields of
// ENVELOPE and BODYSTRUCTURE (RFC 3501 §7.4.2). Computed once at delivery and
// cached by the mail store as JSON, so every type here is plain data.

/** One address of an ENVELOPE address list (RFC 3501 §7.4.2, "addr").
 *  A group is a start marker { name:null, mailbox:GROUPNAME, host:null }
 *  followed by its members and an end marker { mailbox:null, host:null }. */
export interface EnvelopeAddress {
  name: string | null;
  /** source route; always null in practice */
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

/** ENVELOPE fields. Strings are header values as they appear in the message
 *  (unfolded, encoded-words left as is), as Dovecot and RFC 3501 do. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

export type MimeParams = Array<[name: string, value: string]>;

/** One MIME entity. Offsets are into the whole (CRLF-normalised) message. */
export interface MimeNode {
  /** first byte of this entity's header */
  start: number;
  /** first byte of this entity's body (just past the blank line ending the header) */
  bodyStart: number;
  /** one past the last byte of the body (the CRLF before a boundary is not part of it) */
  end: number;
  /** media type and subtype as written, defaults "text" / "plain" (RFC 2045 §5.2) */
  type: string;
  subtype: string;
  /** Content-Type parameters (RFC 2231 continuations joined and decoded) */
  params: MimeParams;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, default "7BIT" */
  encoding: string;
  md5: string | null;
  disposition: { type: string; params: MimeParams } | null;
  language: string[] | null;
  location: string | null;
  /** body size in octets (end - bodyStart) */
  size: number;
  /** body size in lines, for text/* and message/rfc822 */
  lines: number;
  /** children of a multipart/* */
  parts?: MimeNode[];
  /** the encapsulated message of a message/rfc822 (its start === this.bodyStart) */
  message?: MimeNode;
  /** on the root entity and on every encapsulated message's root */
  envelope?: Envelope;
}

/** BODY[section] specifier (RFC 3501 §6.4.5): part path plus optional text part. */
export interface SectionSpec {
  /** part numbers, 1-based; [] is the whole message */
  path: number[];
  /** null = the whole part (BODY[1], BODY[]) */
  text: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME' | null;
  /** header field names for HEADER.FIELDS / HEADER.FIELDS.NOT */
  fields?: string[];
}
