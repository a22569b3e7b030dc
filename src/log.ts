// Structured logging (pino): JSON lines to stderr or to a file in the data
// directory. Secrets are redacted by field name wherever they appear two
// levels deep; message bodies are never passed to the logger at all.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/config.ts';

const SECRET_FIELDS = ['password', 'pass', 'passphrase', 'secret', 'privateKey', 'passwordHash', 'authorization', 'token', 'key'];

/** Paths for pino's redact: each secret field at the top level, one and two levels down. */
export const REDACT_PATHS: string[] = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export interface LoggerOptions {
  level?: LogLevel;
  /** a file to append to; stderr when absent */
  file?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.file === undefined
    ? pino.destination({ dest: 2, sync: true })
    : pino.destination({ dest: options.file, mkdir: true, sync: false });
  return pino(
    {
      name: 'sealpost',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    destination,
  );
}

/** A logger that discards everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
