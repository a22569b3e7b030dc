// The key of the account that pays for anchoring: read from the file named by
// config ledger.evm.privateKeyFile, which must be private to its owner.
import { readFile, stat } from 'node:fs/promises';
import { ValidationError } from '../../errors/index.ts';

export type PrivateKey = `0x${string}`;

const FIELD = 'ledger.evm.privateKeyFile';

/**
 * Checks and normalises a hex private key: 32 bytes, 0x prefix, lowercase.
 * @param field the config field to name in the error
 * @throws ValidationError when it is not 64 hex digits after 0x, or is zero
 */
export function parsePrivateKey(text: string, field = 'ledger.evm.privateKey'): PrivateKey {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw new ValidationError(field, 'must be a 0x-prefixed 32-byte hex private key');
  if (/^0x0{64}$/.test(text)) throw new ValidationError(field, 'must not be zero');
  return `0x${text.slice(2).toLowerCase()}`;
}

/**
 * Reads a private key file: one 0x-prefixed 32-byte hex key, surrounding
 * whitespace ignored. Like ssh, refuses a file that the group or others may
 * read or write (any of mode 077), since whoever reads it can spend from the account.
 * @throws ValidationError (field ledger.evm.privateKeyFile) when the file is missing, too open, or malformed
 */
export async function readPrivateKeyFile(file: string): Promise<PrivateKey> {
  if (file === '') throw new ValidationError(FIELD, 'is not set');
  let mode: number;
  let text: string;
  try {
    mode = (await stat(file)).mode;
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ValidationError(FIELD, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ValidationError(FIELD, `${file} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return parsePrivateKey(text.trim(), FIELD);
}
