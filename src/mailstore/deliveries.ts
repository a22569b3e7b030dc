// Checks shared by every MailStore backend for the delivery queue (types.ts
// Delivery): what the secure pipeline hands in is validated once, here, with
// the offending field named.
import { ValidationError } from '../errors/index.ts';
import type { DeliveryInput } from './types.ts';

/** Longest stored failure reason; longer ones are cut (they come from exceptions). */
export const MAX_DELIVERY_ERROR = 1000;

/** @throws ValidationError field `cid`, `seq`, `messageId` or `origin` */
export function checkDeliveryInput(item: DeliveryInput): void {
  if (typeof item.cid !== 'string' || item.cid.length === 0 || item.cid.length > 512 || /[\s\0]/.test(item.cid)) {
    throw new ValidationError('cid', 'must be a non-empty content id without spaces');
  }
  if (!Number.isSafeInteger(item.seq) || item.seq < 0) throw new ValidationError('seq', 'must be a non-negative integer');
  if (item.messageId !== null && (typeof item.messageId !== 'string' || item.messageId.length > 998 || /[\r\n\0]/.test(item.messageId))) {
    throw new ValidationError('messageId', 'must be one line of at most 998 characters, or null');
  }
  const origin = item.origin ?? null;
  if (origin !== null && (typeof origin !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(origin))) {
    throw new ValidationError('origin', 'must be a node id (base64 of 32 bytes) or null');
  }
}

/** @throws ValidationError field `limit` */
export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('limit', 'must be a positive integer');
}

/** The failure reason as stored: one line, bounded. */
export function deliveryError(error: string): string {
  return error.replace(/[\r\n\0]+/g, ' ').slice(0, MAX_DELIVERY_ERROR);
}
