// What the IMAP server needs from the rest of Sealpost: the mail store
// interface, an authenticator, TLS material and limits. Nothing else.
import type { Logger } from 'pino';
import type { Authenticator } from '../accounts/types.ts';
import type { MailStore } from '../mailstore/types.ts';

export interface ImapLimits {
  /** longest command line (without literals) in octets; Dovecot's default is 64 KiB */
  maxLineLength: number;
  /** largest literal accepted (also APPENDLIMIT, RFC 7889) */
  maxLiteralSize: number;
  /** concurrent authenticated connections per account */
  maxConnectionsPerAccount: number;
  /** concurrent connections in total */
  maxConnections: number;
  /** idle timeout before BYE, ms (RFC 3501 §5.4: at least 30 minutes) */
  idleTimeoutMs: number;
}

export const DEFAULT_IMAP_LIMITS: ImapLimits = {
  maxLineLength: 64 * 1024,
  maxLiteralSize: 25 * 1024 * 1024,
  maxConnectionsPerAccount: 20,
  maxConnections: 200,
  idleTimeoutMs: 30 * 60 * 1000,
};

export interface ImapServerOptions {
  store: MailStore;
  auth: Authenticator;
  logger: Logger;
  /** PEM key and certificate for STARTTLS and implicit TLS */
  tls: { key: string; cert: string };
  /** true: TLS from the first byte (port 993 style); false: plain + STARTTLS */
  implicitTls: boolean;
  limits?: Partial<ImapLimits>;
}
