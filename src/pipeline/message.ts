// What the pipeline reads from a submitted message before sealing it: the
// header fields (RFC 5322 §2.2), its Message-ID (§3.6.4), and the sender's
// expiry request (Expires:/Expiry-Date: of RFC 4021 §2.1.54/2.1.55, a
// relative "7d"/"24h" form, or a "[expires 24h]" subject tag; DESIGN.md
// "Expiry headers"). The message bytes themselves are never rewritten here
// except to add a missing Message-ID (RFC 6409 §8.3 lets a submission server
// do that) so that every message can be found again by `sealpost verify`.
import { randomBytes } from 'node:crypto';
import { SealpostError } from '../errors/index.ts';
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

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "7d", "24h", "90m", "2w", "30s" → milliseconds; null when it is not that form. */
export function parseRelative(text: string): number | null {
  const m = /^\s*(\d{1,6})\s*([smhdw])\s*$/i.exec(text);
  if (!m) return null;
  return Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number);
}

export type ExpiryErrorCode = 'EXPIRY_INVALID' | 'EXPIRY_PAST';

/** The sender asked for an expiry that cannot be honoured (smtp/errors.ts: 554 5.6.0). */
export class ExpiryError extends SealpostError {
  constructor(code: ExpiryErrorCode, message: string) {
    super(code, message);
    this.name = 'ExpiryError';
  }
}

const SUBJECT_TAG = /\[expires\s+([^\]]*)\]/i;

/**
 * The expiry instant the sender asked for, or null.
 * Expires:/Expiry-Date: take an RFC 5322 date or a relative form; a subject
 * tag "[expires 24h]" takes the relative form, counted from `now`.
 * Lenient by default (a copy a client APPENDs: an unreadable value means no
 * expiry). With `strict` (SMTP submission: the sender is there to be told):
 * @throws ExpiryError EXPIRY_INVALID when a value is neither a date nor a relative form,
 *   EXPIRY_PAST when the instant is not after `now`
 */
export function requestedExpiry(fields: readonly HeaderField[], now: number, options: { strict?: boolean } = {}): number | null {
  const strict = options.strict === true;
  const checked = (at: number, what: string): number => {
    if (strict && at <= now) {
      throw new ExpiryError('EXPIRY_PAST', `${what} asks for an expiry at ${new Date(at).toISOString()}, which has already passed; remove it or give a later time (e.g. "Expires: 24h")`);
    }
    return at;
  };
  for (const name of ['expires', 'expiry-date']) {
    const value = headerValue(fields, name);
    if (value === null) continue;
    const field = name === 'expires' ? 'Expires:' : 'Expiry-Date:';
    const relative = parseRelative(value);
    if (relative !== null) return checked(now + relative, field);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return checked(date, field);
    if (strict) throw new ExpiryError('EXPIRY_INVALID', `${field} "${value.slice(0, 60)}" is neither a date (RFC 5322) nor a period such as 30m, 24h, 7d or 2w`);
  }
  const subject = headerValue(fields, 'subject');
  const tag = subject === null ? null : SUBJECT_TAG.exec(subject);
  if (tag) {
    const relative = parseRelative(tag[1] as string);
    if (relative !== null) return checked(now + relative, 'The subject tag');
    if (strict) throw new ExpiryError('EXPIRY_INVALID', `the subject tag "[expires ${(tag[1] as string).slice(0, 20)}]" needs a period such as 30m, 24h, 7d or 2w`);
  }
  return null;
}

/**
 * The message with the "[expires …]" tag taken out of its Subject: the tag is
 * an instruction to the gateway, not part of the subject recipients see
 * (DESIGN.md "Expiry headers"). Other fields and the body are untouched.
 */
export function withoutExpiryTag(raw: Uint8Array): Uint8Array {
  const fields = headerFields(raw);
  const subject = fields.find((f) => f.lowerName === 'subject');
  if (subject === undefined || !SUBJECT_TAG.test(subject.value)) return raw;
  const text = Buffer.from(subject.raw).toString('latin1');
  const rewritten = text.replace(/[ \t]*\[expires\s+[^\]]*\]/i, '').replace(/^(Subject:)[ \t]*/i, '$1 ');
  if (rewritten === text) return raw; // the tag sat inside an encoded word or across a fold: leave it
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const at = subject.raw.byteOffset - raw.byteOffset;
  return Buffer.concat([buf.subarray(0, at), Buffer.from(rewritten, 'latin1'), buf.subarray(at + subject.raw.byteLength)]);
}

/**
 * How many custodians the sender asks for (`X-Sealpost-Custodians: 7`), or
 * null. A sender may ask for more than the node's policy, never fewer (the
 * expiry keys take the larger); at most 64.
 * @throws ExpiryError EXPIRY_INVALID when the value is not a number from 1 to 64
 */
export function requestedCustodians(fields: readonly HeaderField[]): number | null {
  const value = headerValue(fields, 'x-sealpost-custodians');
  if (value === null) return null;
  const n = /^\s*(\d{1,2})\s*$/.exec(value);
  if (n === null || Number(n[1]) < 1 || Number(n[1]) > 64) {
    throw new ExpiryError('EXPIRY_INVALID', `X-Sealpost-Custodians: "${value.slice(0, 20)}" must be a number of custodians from 1 to 64`);
  }
  return Number(n[1]);
}
