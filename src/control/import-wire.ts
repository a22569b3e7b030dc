// How a batch of messages to import crosses the control socket: one frame per
// message, [u32 length][JSON: folder, flags, internalDate, source][u32 length]
// [message bytes], lengths big-endian. Binary, so a 50 MB message is not
// inflated by base64; everything is validated on the way in.
import { ValidationError } from '../errors/index.ts';
import type { ImportItem } from '../pipeline/import.ts';

interface Meta { folder: string; flags: string[]; internalDate: number | null; source: string }

export function encodeImportBatch(items: readonly ImportItem[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const meta: Meta = { folder: item.folder, flags: item.flags, internalDate: item.internalDate?.getTime() ?? null, source: item.source };
    const json = Buffer.from(JSON.stringify(meta));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(json.byteLength);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(item.raw.byteLength);
    parts.push(head, json, size, item.raw);
  }
  return Buffer.concat(parts);
}

/** @throws ValidationError (field `batch`) on anything malformed */
export function decodeImportBatch(bytes: Uint8Array, maxItems = 10_000): ImportItem[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): never => {
    throw new ValidationError('batch', why);
  };
  const items: ImportItem[] = [];
  let at = 0;
  const take = (): Buffer => {
    if (at + 4 > buf.byteLength) bad('truncated frame');
    const length = buf.readUInt32BE(at);
    at += 4;
    if (at + length > buf.byteLength) bad('truncated frame');
    const part = buf.subarray(at, at + length);
    at += length;
    return part;
  };
  while (at < buf.byteLength) {
    if (items.length >= maxItems) bad(`more than ${maxItems} messages in one batch`);
    let meta: Meta;
    try {
      meta = JSON.parse(take().toString('utf8')) as Meta;
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      return bad('frame header is not JSON');
    }
    const raw = take();
    if (typeof meta.folder !== 'string' || meta.folder === '') bad('folder must be a name');
    if (!Array.isArray(meta.flags) || !meta.flags.every((f) => typeof f === 'string' && /^\\?[^\s()\\{%*"\]]+$/.test(f))) bad('flags must be IMAP flags');
    if (meta.internalDate !== null && !Number.isSafeInteger(meta.internalDate)) bad('internalDate must be ms since the epoch or null');
    if (typeof meta.source !== 'string' || meta.source === '') bad('source must be a non-empty id');
    items.push({ folder: meta.folder, flags: meta.flags, internalDate: meta.internalDate === null ? null : new Date(meta.internalDate), source: meta.source, raw });
  }
  return items;
}
