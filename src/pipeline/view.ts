// The IMAP view of a sealed message: the decrypted original with three
// trace fields in front (RFC 5322 §3.6.7 lets trace and X- fields lead):
//   X-Sealpost-CID        the ciphertext's CID in storage
//   X-Sealpost-Signature  valid / invalid / unknown key / unsigned, with fingerprint
//   X-Sealpost-Anchor     the Merkle batch root and where it is anchored
// `stripView` undoes exactly that (for `sealpost verify` on a saved .eml), and
// `placeholderMessage` is what the user sees in place of a message whose
// ciphertext cannot be read: a clear reason, never silently wrong content.
import type { SignatureStatus } from '../crypto/pgp.ts';
import type { AnchorRef, Proof } from '../ledger/types.ts';
import { normalizeCrlf } from '../mime/normalize.ts';
import { rfc5322Date } from '../smtp/received.ts';

export const VIEW_FIELDS = ['x-sealpost-cid', 'x-sealpost-signature', 'x-sealpost-anchor', 'x-sealpost-error'] as const;

/** The signature field's value, e.g. "valid; signer=alice@example.org; fingerprint=ABCD…". */
export function signatureText(signature: SignatureStatus, signer: string | null): string {
  const fpr = signature.fingerprint !== undefined ? `; fingerprint=${signature.fingerprint}` : signature.keyId !== undefined ? `; keyid=${signature.keyId}` : '';
  switch (signature.status) {
    case 'valid': return `valid${signer !== null ? `; signer=${signer}` : ''}${fpr}`;
    case 'invalid': return `invalid${fpr}`;
    case 'unknown-key': return `unknown key${fpr}`;
    case 'unsigned': return 'unsigned';
  }
}

/** The anchor field's value: batch root, where it is anchored, and the record number. */
export function anchorText(proof: Proof): string {
  const where = describeAnchor(proof.anchor, proof.batch.id);
  return `${where}; root=${proof.batch.root}; record=${proof.seq}`;
}

export function describeAnchor(anchor: AnchorRef, batchId: number): string {
  if (anchor.kind === 'local') return `local checkpoint ${batchId}; signer=ed25519:${anchor.publicKey}`;
  return `evm chain ${anchor.chainId}; block=${anchor.block}; tx=${anchor.tx}; contract=${anchor.contract}`;
}

/** Folds a long unstructured field value at "; " boundaries (RFC 5322 §2.2.3, lines ≤ 78 where possible). */
function field(name: string, value: string): string {
  const parts = value.split('; ');
  let line = `${name}: ${parts[0] ?? ''}`;
  let out = '';
  for (const part of parts.slice(1)) {
    if (line.length + part.length + 2 > 78) {
      out += `${line};\r\n`;
      line = `\t${part}`;
    } else {
      line += `; ${part}`;
    }
  }
  return `${out}${line}\r\n`;
}

export function viewHeader(input: { cid: string; signature: string; anchor: string }): string {
  return field('X-Sealpost-CID', input.cid) + field('X-Sealpost-Signature', input.signature) + field('X-Sealpost-Anchor', input.anchor);
}

/**
 * Recovers the original message from a saved view: line endings back to CRLF
 * (clients on Unix may save with LF), an mbox "From " line dropped, and the
 * X-Sealpost-* fields at the top removed. Returns what was removed too.
 */
export function stripView(saved: Uint8Array): { original: Uint8Array; fields: Map<string, string>; removed: number } {
  let text = Buffer.from(normalizeCrlf(saved));
  if (text.subarray(0, 5).toString('latin1') === 'From ') text = text.subarray(text.indexOf('\r\n') + 2);
  const fields = new Map<string, string>();
  let pos = 0;
  let removed = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', pos);
    if (lineEnd === -1) break;
    const first = text.subarray(pos, lineEnd).toString('latin1');
    const colon = first.indexOf(':');
    const name = colon === -1 ? '' : first.slice(0, colon).trim().toLowerCase();
    if (!(VIEW_FIELDS as readonly string[]).includes(name)) break;
    // The field runs on over continuation lines (starting with a blank).
    let end = lineEnd + 2;
    let value = first.slice(colon + 1);
    while (end < text.length && (text[end] === 0x20 || text[end] === 0x09)) {
      const next = text.indexOf('\r\n', end);
      const stop = next === -1 ? text.length : next;
      value += ` ${text.subarray(end, stop).toString('latin1').trim()}`;
      end = next === -1 ? text.length : next + 2;
    }
    fields.set(name, value.replace(/\s+/g, ' ').trim());
    removed++;
    pos = end;
  }
  return { original: text.subarray(pos), fields, removed };
}

/** A message delivered in place of one that cannot be read, saying why. */
export function placeholderMessage(input: { cid: string; reason: string; seq: number; time: number; hostname: string }): Uint8Array {
  const date = rfc5322Date(new Date(input.time));
  const text = [
    `X-Sealpost-CID: ${input.cid}`,
    `X-Sealpost-Error: ${input.reason.replace(/[\r\n]+/g, ' ')}`,
    `From: Sealpost <postmaster@${input.hostname}>`,
    `Subject: [Sealpost] A message could not be read`,
    `Date: ${date}`,
    `Message-ID: <unreadable-${input.seq}-${input.cid.slice(-16)}@${input.hostname}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Sealpost received a message for you but could not show it:',
    '',
    `  ${input.reason}`,
    '',
    `Ciphertext CID: ${input.cid}`,
    `Ledger record:  ${input.seq}`,
    '',
    'The stored ciphertext did not pass its integrity check, so its content is',
    'not shown (it could be altered). Run `sealpost verify --cid ' + input.cid + '`',
    'for details.',
    '',
  ].join('\r\n');
  return Buffer.from(text, 'utf8');
}
