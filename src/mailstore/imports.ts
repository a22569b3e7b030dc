// Checks shared by every MailStore backend for imports and sealed references
// (types.ts ImportInput, SealedRef), with the offending field named.
import { ValidationError } from '../errors/index.ts';
import type { SealedRef } from './types.ts';

/** Longest source id kept (an RFC 5092 IMAP URL or a file path). */
export const MAX_SOURCE_LENGTH = 2048;

/** @throws ValidationError field `source` */
export function checkSource(source: string): void {
  if (typeof source !== 'string' || source === '' || source.length > MAX_SOURCE_LENGTH) {
    throw new ValidationError('source', `an import source id must be 1 to ${MAX_SOURCE_LENGTH} characters`);
  }
}

/** @throws ValidationError field `sealed` */
export function checkSealed(sealed: SealedRef | undefined): void {
  if (sealed === undefined) return;
  if (typeof sealed.cid !== 'string' || sealed.cid === '' || sealed.cid.length > 512 || /[\s\0]/.test(sealed.cid) || !Number.isSafeInteger(sealed.offset) || sealed.offset < 0) {
    throw new ValidationError('sealed', 'must name a content id and a non-negative byte offset');
  }
}
