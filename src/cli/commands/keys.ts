// `sealpost keys import|export|list`: the key directory (keys/directory.ts)
// from the command line: other people's public keys in, our keys out.
import fs from 'node:fs/promises';
import { normaliseAddress } from '../../accounts/service.ts';
import { openNode } from '../../app.ts';
import { NotFoundError, SealpostError } from '../../errors/index.ts';
import { openKeyDirectory, type DirectoryKey, type KeyDirectory } from '../../keys/directory.ts';
import { CommandFailed, checkFlag, DATA_DIR_OPTION, dataDirFrom, parseCommand, print, quietLogger, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost keys <import|export|list> [options] [--data-dir DIR]

  sealpost keys import FILE|-
      Imports OpenPGP public keys (armored or binary; - reads standard input)
      into the key directory: mail to their addresses is then encrypted to
      them. Prints each address with the key's fingerprint.

  sealpost keys export --address ADDR [--secret] [--output FILE]
      Prints the armored public key of an account, or the keys the directory
      holds for ADDR. With --secret (accounts only): the account's private key
      as stored, protected by a passphrase which is the account's client
      password. --output writes to FILE (mode 0600 with --secret).

  sealpost keys list
      Lists every key: the accounts', imported ones and (when keys.autocrypt is
      on) keys learnt from Autocrypt headers.

Examples:
  gpg --export --armor bob@example.net | sealpost keys import -
  sealpost keys export --address alice@example.org --secret --output alice.asc
  gpg --import alice.asc`;

const OPTIONS = {
  ...DATA_DIR_OPTION,
  address: { type: 'string' },
  secret: { type: 'boolean' },
  output: { type: 'string' },
} as const;

const ALLOWED: Record<string, readonly string[]> = { import: [], export: ['address', 'secret', 'output'], list: [] };

async function readInput(source: string): Promise<Uint8Array> {
  if (source !== '-') return new Uint8Array(await fs.readFile(source));
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** A one-line message for a failure the user can fix, then exit 1. */
function fail(action: string, message: string): never {
  process.stderr.write(`sealpost keys ${action}: ${message}\n`);
  throw new CommandFailed();
}

async function writeOutput(file: string, text: string, secret: boolean): Promise<void> {
  // Opened with 0600 and chmod-ed again: an existing file keeps its old mode on open.
  const handle = await fs.open(file, 'w', secret ? 0o600 : 0o644);
  try {
    if (secret) await handle.chmod(0o600);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

async function importKeys(directory: KeyDirectory, source: string): Promise<void> {
  let input: Uint8Array;
  try {
    input = await readInput(source);
  } catch (error) {
    fail('import', `cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let imported: DirectoryKey[];
  try {
    imported = await directory.importKeys(input);
  } catch (error) {
    if (error instanceof SealpostError) fail('import', `${source === '-' ? 'standard input' : source}: ${error.message}`);
    throw error;
  }
  for (const key of imported) {
    // lookup() only returns keys that can encrypt now: say so when this one cannot.
    const usable = (await directory.lookup(key.address))?.fingerprint === key.fingerprint;
    print(`${key.address}  ${key.fingerprint}${usable ? '' : '  (not used for encryption: expired, revoked, without an encryption subkey, or another key is preferred)'}`);
  }
  print(`Imported ${imported.length} ${imported.length === 1 ? 'entry' : 'entries'}.`);
}

export const keysCommand: Command = {
  name: 'keys',
  summary: 'import, export or list OpenPGP keys',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand('keys', argv, OPTIONS, 2);
    if (values.help === true) return print(help);
    const [sub, file] = positionals;
    if (sub === undefined) throw new UsageError('keys', 'say what to do: keys import, keys export or keys list');
    const allowed = ALLOWED[sub];
    if (allowed === undefined) throw new UsageError('keys', `unknown action "${sub}" (expected import, export or list)`);
    for (const key of Object.keys(values)) {
      if (key !== 'data-dir' && key !== 'help' && !allowed.includes(key)) throw new UsageError('keys', `--${key} does not apply to keys ${sub}`);
    }
    if (sub === 'import' && file === undefined) throw new UsageError('keys', 'keys import needs a FILE (or - for standard input)');
    if (sub !== 'import' && file !== undefined) throw new UsageError('keys', `unexpected argument "${file}"`);
    if (sub === 'export' && values.address === undefined) throw new UsageError('keys', '--address is required for keys export');
    const address = values.address === undefined ? '' : values.address;
    if (sub === 'export') checkFlag('keys', () => normaliseAddress(address));

    const node = await openNode({ dataDir: dataDirFrom(values), logger: quietLogger() });
    const directory = openKeyDirectory({ path: node.paths.keysDb, store: node.store });
    try {
      if (sub === 'import') return await importKeys(directory, file ?? '-');
      if (sub === 'list') {
        const keys = await directory.list();
        if (keys.length === 0) return print('No keys. Import one with: sealpost keys import FILE');
        for (const key of keys) print(`${key.source.padEnd(9)}  ${key.address}  ${key.fingerprint}  added ${key.addedAt.toISOString()}`);
        return;
      }
      const normalized = normaliseAddress(address);
      let text: string;
      const account = await node.store.getAccount(normalized);
      if (values.secret === true) {
        if (account === null) fail('export', `--secret exports only the key of an account on this node; ${normalized} is not one`);
        text = (await node.store.getSecrets(account.id)).privateKey;
        process.stderr.write(`Note: this private key is protected by a passphrase: the client password of ${normalized}.\n`);
      } else if (account !== null) {
        text = (await node.store.getSecrets(account.id)).publicKey;
      } else {
        const found = (await directory.list()).filter((k) => k.address === normalized);
        if (found.length === 0) throw new NotFoundError('key', `no key for ${normalized} in the key directory`);
        text = found.map((k) => k.armored.trimEnd()).join('\n');
      }
      if (!text.endsWith('\n')) text += '\n';
      if (values.output !== undefined) {
        await writeOutput(values.output, text, values.secret === true);
        process.stderr.write(`Wrote ${values.output}\n`);
      } else {
        process.stdout.write(text);
      }
    } finally {
      directory.close();
      await node.close();
    }
  },
};
