// What every MailStore backend does to a message at APPEND/delivery: line
// endings normalised to CRLF (RFC 5322 §2.1; RFC 3501 RFC822.SIZE counts the
// stored octets), the MIME tree parsed once, and the top-level header block cut
// out, so FETCH ENVELOPE/BODYSTRUCTURE and SEARCH HEADER never re-parse.
import { normalizeCrlf } from '../mime/normalize.ts';
import { parseMessage } from '../mime/parse.ts';
import { bodyStructureText } from '../mime/bodystructure-text.ts';
import { EMPTY_ENVELOPE, envelopeText } from '../mime/envelope-text.ts';
import { splitHeader } from '../mime/headers.ts';
import { decodeHeaderValue } from '../mime/text.ts';
import type { MimeNode } from '../mime/types.ts';
import type { MessageSummary } from './types.ts';

export interface PreparedMessage {
  /** the CRLF-normalised message (a private copy) */
  data: Uint8Array;
  structure: MimeNode;
  /** the top-level header block including the blank line that ends it */
  header: Uint8Array;
  summary: MessageSummary;
  /** the header as searchable text: "name: decoded value" lines, lower-cased */
  searchHeader: string;
}

/** Header fields unfolded and decoded once at delivery, so SEARCH can rule out
 *  messages in SQL without decoding every header again (RFC 3501 §6.4.4). */
export function searchableHeader(header: Uint8Array): string {
  return splitHeader(header)
    .map((f) => `${f.lowerName}: ${decodeHeaderValue(f.value)}`)
    .join('\n')
    .toLowerCase();
}

export function prepareMessage(raw: Uint8Array): PreparedMessage {
  const normalized = normalizeCrlf(raw);
  // normalizeCrlf may hand back the caller's buffer; keep a copy the caller cannot mutate.
  const data = normalized === raw ? raw.slice() : normalized;
  const structure = parseMessage(data);
  const header = data.slice(0, Math.min(structure.bodyStart, data.byteLength));
  const summary = { envelope: envelopeText(structure.envelope ?? EMPTY_ENVELOPE), bodyStructure: bodyStructureText(structure, true) };
  return { data, structure, header, summary, searchHeader: searchableHeader(header) };
}

/** Next UIDVALIDITY: the current time in seconds, but always above the last one
 *  handed out, so a mailbox re-created under the same name gets a new value
 *  (RFC 3501 §2.3.1.1). Stays within 32 bits until 2106. */
export function nextUidValidity(last: number, now: Date = new Date()): number {
  return Math.max(last + 1, Math.floor(now.getTime() / 1000));
}
