// Line-ending normalisation for stored messages: RFC 5322 §2.1 and RFC 3501
// §2.3.1 speak of CRLF lines, and every byte offset in a MimeNode assumes them.
// Bare LF and bare CR both become CRLF.

const CR = 0x0d;
const LF = 0x0a;

/** True when every CR is followed by LF and every LF is preceded by CR.
 *  Uses the native indexOf so a clean 25 MB message costs a few milliseconds:
 *  if every LF has its own CR in front and the counts match, no CR is bare. */
function isClean(buf: Buffer): boolean {
  let crs = 0;
  for (let i = buf.indexOf(CR); i !== -1; i = buf.indexOf(CR, i + 1)) crs++;
  let lfs = 0;
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (i === 0 || buf[i - 1] !== CR) return false;
    lfs++;
  }
  return crs === lfs;
}

/** Bare LF -> CRLF, bare CR -> CRLF. Returns `raw` itself when already clean. */
export function normalizeCrlf(raw: Uint8Array): Uint8Array {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (isClean(buf)) return raw;
  const out = Buffer.allocUnsafe(buf.length * 2);
  let o = 0;
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    const c = buf[i] as number;
    if (c === CR) {
      out[o++] = CR;
      out[o++] = LF;
      if (i + 1 < n && buf[i + 1] === LF) i++;
    } else if (c === LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else {
      out[o++] = c;
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, o);
}
