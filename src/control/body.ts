// Reading control requests (control/server.ts): a JSON object body and its
// string fields, refused with a ValidationError naming the field.
import { ValidationError } from '../errors/index.ts';

export function jsonBody(body: Uint8Array): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new ValidationError('body', 'must be a JSON object');
}

export function textField(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ValidationError(field, 'must be a non-empty string');
  return value;
}
