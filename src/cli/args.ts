// Shared pieces of the command line: flag parsing with node:util parseArgs,
// the usage error (exit code 2), and reading passwords from flags or files.
import fs from 'node:fs/promises';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { resolveDataDir } from '../config/paths.ts';
import { ValidationError } from '../errors/index.ts';
import { createLogger } from '../log.ts';
import type { Logger } from 'pino';

/** A mistake in how the command was called: exit code 2 and a pointer to --help. */
export class UsageError extends Error {
  readonly command: string;
  constructor(command: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** The command already told the user what failed (e.g. `verify`): exit 1 without another message. */
export class CommandFailed extends Error {
  constructor() {
    super('command failed');
    this.name = 'CommandFailed';
  }
}

export const DATA_DIR_OPTION = { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const satisfies ParseArgsOptionsConfig;

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>>['values'];

/**
 * Parses `argv` for one command; unknown flags and missing values become UsageErrors.
 */
export function parseCommand<O extends ParseArgsOptionsConfig>(command: string, argv: string[], options: O, maxPositionals = 0): { values: Values<O>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (positionals.length > maxPositionals) throw new UsageError(command, `unexpected argument "${positionals[maxPositionals] ?? ''}"`);
    return { values: values as Values<O>, positionals };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // parseArgs messages are clear enough ("Unknown option '--x'"), minus the "To specify a positional..." tips.
    const message = (error as Error).message.split('. To ')[0] ?? 'bad arguments';
    throw new UsageError(command, message);
  }
}

export function dataDirFrom(values: { 'data-dir'?: string | undefined }): string {
  return resolveDataDir(values['data-dir']);
}

/** A port flag: an integer 0-65535 (0 = any free port). */
export function portFlag(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(command, `--${name} must be a port number 0-65535, got "${value}"`);
  return Number(value);
}

/**
 * The password from --<name> or --<name>-file (first line of the file); undefined when neither.
 */
export async function passwordFlag(command: string, values: Record<string, unknown>, name: string): Promise<string | undefined> {
  const direct = values[name];
  const file = values[`${name}-file`];
  if (direct !== undefined && file !== undefined) throw new UsageError(command, `give --${name} or --${name}-file, not both`);
  if (typeof direct === 'string') return direct;
  if (typeof file !== 'string') return undefined;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(command, `cannot read --${name}-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new UsageError(command, `--${name}-file ${file} is empty`);
  return line;
}

/** One CLI command: its help text and its action (throws UsageError / SealpostError). */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[]): Promise<void>;
}

export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Runs a check on a flag value; its ValidationError becomes a UsageError (exit code 2). */
export function checkFlag(command: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(command, error.message);
    throw error;
  }
}

/** Commands other than start only log warnings (their output is for a person). */
export function quietLogger(): Logger {
  return createLogger({ level: 'warn' });
}
