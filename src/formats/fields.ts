// Strict reading of JSON file formats (backup/format.ts, snapshot/format.ts):
// a FieldError names the field at fault ("mailboxes[2].messages[0].cid"), so
// that a damaged or hand-edited file is refused with a pointer to the
// problem. Each format maps FieldError to its own typed error.

/** A field that fails validation. */
export class FieldError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'FieldError';
    this.field = field;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "parent.key", or "key" at the top. */
export function joinField(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** A plain object with the `required` keys, any of the `optional` ones (undefined counts as absent) and no other. */
export function record(value: unknown, field: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (!isRecord(value)) throw new FieldError(field, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) throw new FieldError(joinField(field, key), 'unknown field');
  }
  for (const key of required) if (value[key] === undefined) throw new FieldError(joinField(field, key), 'is missing');
  return value;
}
