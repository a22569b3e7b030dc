// What the pipeline reads from a submitted message before sealing it: the
// header fields (RFC 5322 §2.2), its Message-ID (§3.6.4), and the sender's
// expiry request (Expires:/Expiry-Date: of RFC 4021 §2.1.54/2.1.55, a
// relative "7d"/"24h" form, or a "[expires 24h]" subject tag; DESIGN.md
// "Expiry headers"). The message bytes themselves are never rewritten here
// except to add a missing Message-ID (RFC 6409 §8.3 lets a submission server
// do that) so that every message can be found again by `sealpost verify`.
import { randomBytes } from 'node:crypto';
import { splitHeader, type HeaderField } from '../mime/headers.ts';

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** The header fields of a CRLF message (everything before the first empty line). */
export function headerFields(raw: Uint8Array): HeaderField[] {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = buf.indexOf(CRLFCRLF);
  return splitHeader(end === -1 ? raw : raw.subarray(0, end + 2));
}

export function headerValue(fields: readonly HeaderField[], lowerName: string): string | null {
  return fields.find((f) => f.lowerName === lowerName)?.value ?? null;
}

/** The Message-ID without angle brackets, or null. */
export function messageIdOf(fields: readonly HeaderField[]): string | null {
  const value = headerValue(fields, 'message-id');
  if (value === null) return null;
  const m = /<([^<>\s]+)>/.exec(value);
  return m?.[1] ?? (value.trim() === '' ? null : value.trim());
}

/** Adds `Message-ID: <random@host>` at the top when the message has none. */
export function ensureMessageId(raw: Uint8Array, hostname: string): { raw: Uint8Array; messageId: string } {
  const fields = headerFields(raw);
  const existing = messageIdOf(fields);
  if (existing !== null) return { raw, messageId: existing };
  const messageId = `${randomBytes(12).toString('hex')}@${hostname}`;
  return { raw: Buffer.concat([Buffer.from(`Message-ID: <${messageId}>\r\n`, 'latin1'), raw]), messageId };
}

/**
 * The message without the header fields a sender must not submit:
 * - Bcc: (RFC 5322 §3.6.3; Postfix's cleanup removes it too): inside the
 *   ciphertext every recipient would read the blind copies;
 * - X-Sealpost-*: the gateway's own trust fields (pipeline/view.ts); a
 *   forged "X-Sealpost-Signature: valid" must never reach a recipient.
 */
export function withoutSubmitterFields(raw: Uint8Array): Uint8Array {
  const drop = (f: HeaderField): boolean => f.lowerName === 'bcc' || f.lowerName.startsWith('x-sealpost-');
  const fields = headerFields(raw);
  if (!fields.some(drop)) return raw;
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const headerEnd = fields.reduce((end, f) => Math.max(end, f.raw.byteOffset - raw.byteOffset + f.raw.byteLength), 0);
  const kept = fields.filter((f) => !drop(f)).map((f) => f.raw);
  return Buffer.concat([...kept, buf.subarray(headerEnd)]);
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "7d", "24h", "90m", "2w" → milliseconds; null when it is not that form. */
export function parseRelative(text: string): number | null {
  const m = /^\s*(\d{1,6})\s*([mhdw])\s*$/i.exec(text);
  if (!m) return null;
  return Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number);
}

/**
 * The expiry instant the sender asked for, or null.
 * Expires:/Expiry-Date: take an RFC 5322 date or a relative form; a subject
 * tag "[expires 24h]" takes the relative form. Dates in the past are kept
 * (the message is then expired on arrival; enforcing it is the custody part).
 */
export function requestedExpiry(fields: readonly HeaderField[], now: number): number | null {
  for (const name of ['expires', 'expiry-date']) {
    const value = headerValue(fields, name);
    if (value === null) continue;
    const relative = parseRelative(value);
    if (relative !== null) return now + relative;
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return date;
  }
  const subject = headerValue(fields, 'subject');
  const tag = subject === null ? null : /\[expires\s+([^\]]+)\]/i.exec(subject);
  if (tag) {
    const relative = parseRelative(tag[1] as string);
    if (relative !== null) return now + relative;
  }
  return null;
}
