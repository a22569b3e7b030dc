// Decoded text for SEARCH (RFC 3501 §6.4.4): header values with RFC 2047
// encoded-words decoded, and the text of every text/* body part with its
// Content-Transfer-Encoding (RFC 2045 §6) and charset undone. Never throws.

import * as libqp from 'libqp';
import iconv from 'iconv-lite';
import { bytesToString } from './headers.ts';
import type { MimeNode } from './types.ts';

// encoded-word = "=?" charset ["*" language] "?" encoding "?" encoded-text "?="  (RFC 2047 §2, RFC 2231 §5)
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=/g;
// White space between two encoded-words is not displayed (RFC 2047 §6.2).
const BETWEEN_WORDS = /(\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)/g;

function decodeWord(charset: string, encoding: string, text: string): string {
  const bytes = encoding.toUpperCase() === 'B'
    ? Buffer.from(text, 'base64')
    // Q: "_" is space, =XX is a byte (RFC 2047 §4.2)
    : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return decodeCharset(bytes, charset);
}

/** Header value with encoded-words decoded to Unicode; the input on failure. */
export function decodeHeaderValue(value: string): string {
  if (!value.includes('=?')) return value;
  try {
    // Adjacent words may split one multi-byte character (RFC 2047 §5 forbids it, mailers do it):
    // join runs of words in the same charset and encoding before decoding.
    const joined = value.replace(BETWEEN_WORDS, '$1');
    return joined.replace(/(?:=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=)+/g, (run) => {
      const words = [...run.matchAll(ENCODED_WORD)];
      let out = '';
      let i = 0;
      while (i < words.length) {
        const [, cs, enc] = words[i]!;
        const sameKind: string[] = [];
        let j = i;
        for (; j < words.length && words[j]![1]!.toLowerCase() === cs!.toLowerCase() && words[j]![2]!.toUpperCase() === enc!.toUpperCase(); j++) {
          sameKind.push(words[j]![3]!);
        }
        // Base64 pieces must be decoded one by one (each has its own padding); Q text simply concatenates.
        out += enc!.toUpperCase() === 'B'
          ? decodeCharset(Buffer.concat(sameKind.map((t) => Buffer.from(t, 'base64'))), cs!)
          : decodeWord(cs!, enc!, sameKind.join(''));
        i = j;
      }
      return out;
    });
  } catch {
    return value;
  }
}

function undoTransferEncoding(body: Buffer, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case 'base64': return Buffer.from(body.toString('latin1'), 'base64'); // skips junk
    case 'quoted-printable': return libqp.decode(body);
    default: return body;
  }
}

function decodeCharset(bytes: Buffer, charset: string): string {
  const cs = charset.trim().toLowerCase();
  // us-ascii labels are often wrong about 8-bit data; UTF-8 is the best guess.
  if (cs === '' || cs === 'us-ascii' || cs === 'ascii' || cs === 'utf-8' || cs === 'utf8') return bytesToString(bytes);
  try {
    if (iconv.encodingExists(cs)) return iconv.decode(bytes, cs);
  } catch { /* unknown or broken charset: fall back below */ }
  return bytesToString(bytes);
}

function collect(buf: Buffer, node: MimeNode, out: string[]): void {
  if (node.parts) {
    for (const p of node.parts) collect(buf, p, out);
  } else if (node.message) {
    collect(buf, node.message, out);
  } else if (node.type.toLowerCase() === 'text') {
    try {
      const body = undoTransferEncoding(buf.subarray(node.bodyStart, node.end), node.encoding);
      const charset = node.params.find(([k]) => k === 'charset')?.[1] ?? '';
      out.push(decodeCharset(body, charset));
    } catch {
      out.push(bytesToString(buf.subarray(node.bodyStart, node.end)));
    }
  }
}

/** Decoded text of every text/* leaf part (HTML kept as is), joined by newlines. */
export function bodyText(raw: Uint8Array, root: MimeNode): string {
  const out: string[] = [];
  collect(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), root, out);
  return out.join('\n');
}
