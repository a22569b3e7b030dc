// Passphrase-only OpenPGP encryption (the key backup, backup/format.ts): a
// v4 SKESK with iterated+salted SHA-256 S2K at the largest count RFC 4880
// §3.7.1.3 can express, then a v1 SEIPD (AES-256 CFB + MDC), armored with the
// CRC-24 line: what GnuPG 2.2 opens with `gpg --decrypt` (it reads neither
// Argon2 S2K nor v2 SEIPD). Decryption tells a wrong passphrase from an
// altered file with the RFC 4880 §5.13 quick check, which OpenPGP.js skips.
// OpenPGP.js is reached through crypto/pgp.ts's loader (one adapter).
import { createDecipheriv } from 'node:crypto';
import type * as OpenPgp from 'openpgp';
import { SealpostError } from '../errors/index.ts';
import { loadOpenPgp } from './pgp.ts';

export type PassphraseErrorCode = 'PASSPHRASE_WRONG' | 'PASSPHRASE_NOT_MESSAGE' | 'PASSPHRASE_ALTERED' | 'PASSPHRASE_TOO_LARGE';

export class PassphraseError extends SealpostError {
  declare readonly code: PassphraseErrorCode;
  constructor(code: PassphraseErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PassphraseError';
  }
}


const TAG_SKESK = 3;
const TAG_SEIPD = 18;

const PASSPHRASE_CONFIG = {
  aeadProtect: false, // v4 SKESK + v1 SEIPD: what GnuPG 2.2 reads
  s2kType: 3, // enums.s2k.iterated (salted, SHA-256)
  s2kIterationCountByte: 255, // 65,011,712 octets: the most RFC 4880 §3.7.1.3 can express
  preferredSymmetricAlgorithm: 9, // enums.symmetric.aes256
  preferredCompressionAlgorithm: 0, // uncompressed
} as const;

/** An armored OpenPGP message of `data` that only `passphrase` opens (the packets above); `comment` goes in the armor. */
export async function encryptWithPassphrase(data: Uint8Array, passphrase: string, comment: string): Promise<string> {
  const openpgp = await loadOpenPgp();
  const message = await openpgp.createMessage({ binary: data, format: 'binary' });
  const binary = await openpgp.encrypt({ message, passwords: [passphrase], format: 'binary', config: PASSPHRASE_CONFIG });
  // With the CRC-24 line: GnuPG 2.2 misreads armor without it (see crypto/pgp.ts armorMessage).
  return openpgp.armor(openpgp.enums.armor.message, binary, undefined, undefined, comment, true);
}

// The session key's algorithm → the Node cipher for OpenPGP CFB (RFC 4880 §13.9: CFB-128, zero IV).
const CFB: Partial<Record<string, string>> = { aes128: 'aes-128-cfb', aes192: 'aes-192-cfb', aes256: 'aes-256-cfb' };

/**
 * What encryptWithPassphrase wrote (or the same re-encrypted by `gpg --symmetric`).
 * @throws PassphraseError PASSPHRASE_WRONG, PASSPHRASE_NOT_MESSAGE, PASSPHRASE_ALTERED, PASSPHRASE_TOO_LARGE
 */
export async function decryptWithPassphrase(input: string | Uint8Array, passphrase: string, limits: { maxBytes: number }): Promise<Uint8Array> {
  const openpgp = await loadOpenPgp();
  if (input.length > limits.maxBytes) throw new PassphraseError('PASSPHRASE_TOO_LARGE', `larger than ${limits.maxBytes} octets`);
  // A message re-encrypted with `gpg --symmetric` is compressed; nothing real inflates 4 times over.
  const config = { ...PASSPHRASE_CONFIG, maxDecompressedMessageSize: limits.maxBytes * 4 };
  const text = typeof input === 'string' ? input : isArmored(input) ? new TextDecoder().decode(input) : null;
  let binary: Uint8Array;
  if (text === null) {
    binary = input as Uint8Array;
  } else {
    try {
      const { type, data } = await openpgp.unarmor(text);
      if (type !== openpgp.enums.armor.message || !(data instanceof Uint8Array)) throw new Error('not a PGP MESSAGE block');
      binary = data;
    } catch (cause) {
      throw new PassphraseError('PASSPHRASE_NOT_MESSAGE', 'not an armored OpenPGP message', { cause });
    }
  }
  const packets = packetHeads(binary);
  const [skesk, seipd] = packets;
  if (packets.length !== 2 || skesk?.tag !== TAG_SKESK || seipd?.tag !== TAG_SEIPD || skesk.head[0] !== 4 || seipd.head[0] !== 1) {
    throw new PassphraseError('PASSPHRASE_NOT_MESSAGE', 'not a passphrase-encrypted message of the expected shape (a v4 SKESK and a v1 SEIPD packet)');
  }
  let message: OpenPgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: binary, config });
  } catch (cause) {
    throw new PassphraseError('PASSPHRASE_NOT_MESSAGE', 'not a readable OpenPGP message', { cause });
  }
  // The session key first, on its own: a wrong passphrase fails here (or at the
  // quick check below), so that a failure of the integrity check afterwards
  // means the file was altered, not that the passphrase was mistyped.
  let sessionKey: OpenPgp.DecryptedSessionKey | undefined;
  try {
    [sessionKey] = await openpgp.decryptSessionKeys({ message, passwords: [passphrase], config });
  } catch (cause) {
    throw new PassphraseError('PASSPHRASE_WRONG', 'the passphrase does not open this message', { cause });
  }
  if (sessionKey?.algorithm == null || !quickCheck(sessionKey.algorithm, sessionKey.data, seipd.head)) throw new PassphraseError('PASSPHRASE_WRONG', 'the passphrase does not open this message');
  try {
    const sessionKeys = { data: sessionKey.data, algorithm: sessionKey.algorithm };
    const { data } = await openpgp.decrypt({ message, sessionKeys, format: 'binary', config });
    if (!(data instanceof Uint8Array)) throw new Error('no literal data');
    return data;
  } catch (cause) {
    throw new PassphraseError('PASSPHRASE_ALTERED', 'the integrity check failed: the file was altered or damaged', { cause });
  }
}

/**
 * RFC 4880 §5.13 quick check: the decrypted random prefix repeats its last two
 * octets. OpenPGP.js skips it (it leaks to an online oracle, which a local
 * file has none of); here it tells a wrong passphrase (fails 65535 times in
 * 65536) from an altered file (passes, then the MDC fails).
 * `head`: the SEIPD body's first octets (version, then ciphertext).
 */
function quickCheck(algorithm: string, key: Uint8Array, head: Uint8Array): boolean {
  const cipher = CFB[algorithm];
  const blockSize = 16;
  if (cipher === undefined || head.length < 1 + blockSize + 2) return false;
  let prefix: Uint8Array;
  try {
    prefix = createDecipheriv(cipher, key, new Uint8Array(blockSize)).update(head.subarray(1, 1 + blockSize + 2));
  } catch {
    return false; // a key of the wrong length for the algorithm: a wrong passphrase decrypted garbage
  }
  return prefix[blockSize - 2] === prefix[blockSize] && prefix[blockSize - 1] === prefix[blockSize + 1];
}

const HEAD_LENGTH = 19;

/**
 * The packets of a binary message (RFC 4880 §4.2 framing, old and new
 * formats, partial body lengths): each one's tag and the first octets of its
 * body (at most 19).
 * @throws PassphraseError PASSPHRASE_NOT_MESSAGE when the framing is broken
 */
function packetHeads(bytes: Uint8Array): Array<{ tag: number; head: Uint8Array }> {
  const out: Array<{ tag: number; head: Uint8Array }> = [];
  const broken = (): never => {
    throw new PassphraseError('PASSPHRASE_NOT_MESSAGE', 'not an OpenPGP message (broken packet framing)');
  };
  const at = (i: number): number => bytes[i] ?? broken();
  let i = 0;
  while (i < bytes.length) {
    const ctb = at(i++);
    if ((ctb & 0x80) === 0) broken();
    let tag: number;
    let head: Uint8Array | null = null;
    if ((ctb & 0x40) !== 0) {
      tag = ctb & 0x3f;
      for (;;) {
        const first = at(i++);
        let length: number;
        let partial = false;
        if (first < 192) length = first;
        else if (first < 224) length = ((first - 192) << 8) + at(i++) + 192;
        else if (first === 255) {
          length = ((at(i) << 24) >>> 0) + (at(i + 1) << 16) + (at(i + 2) << 8) + at(i + 3);
          i += 4;
        } else {
          length = 1 << (first & 0x1f);
          partial = true;
        }
        if (i + length > bytes.length) broken();
        head ??= bytes.subarray(i, i + Math.min(length, HEAD_LENGTH));
        i += length;
        if (!partial) break;
      }
    } else {
      tag = (ctb >> 2) & 0x0f;
      const lengthType = ctb & 3;
      let length: number;
      if (lengthType === 0) length = at(i++);
      else if (lengthType === 1) {
        length = (at(i) << 8) + at(i + 1);
        i += 2;
      } else if (lengthType === 2) {
        length = ((at(i) << 24) >>> 0) + (at(i + 1) << 16) + (at(i + 2) << 8) + at(i + 3);
        i += 4;
      } else length = bytes.length - i; // indeterminate: to the end
      if (i + length > bytes.length) broken();
      head = bytes.subarray(i, i + Math.min(length, HEAD_LENGTH));
      i += length;
    }
    out.push({ tag, head });
  }
  return out;
}

const ARMOR_START = '-----BEGIN PGP';

function isArmored(bytes: Uint8Array): boolean {
  const start = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart();
  return start.startsWith(ARMOR_START);
}
