// The one file that imports nodemailer: relays mail for recipients outside
// Sealpost through the user's existing provider (a "smarthost") over SMTP
// submission (RFC 6409) with implicit TLS (RFC 8314) or required STARTTLS
// (RFC 3207) and AUTH (RFC 4954). The message bytes go out unchanged.
// Reply classes follow RFC 5321 §4.2.1: 4yz is transient, 5yz permanent.
import { isAscii } from 'node:buffer';
import net from 'node:net';
import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/config.ts';
import { ValidationError } from '../errors/index.ts';
import { RelayError, type RelayErrorCode } from './errors.ts';
import type { RelayMessage, RelayResult, Smarthost } from './types.ts';

export { RelayError } from './errors.ts';
export type { RelayMessage, RelayResult, Smarthost } from './types.ts';

export interface SmarthostOptions {
  logger: Logger;
  /** extra trust anchors (PEM), e.g. a test sink's self-signed certificate */
  tls?: { ca?: string };
}

const CONNECTION_TIMEOUT_MS = 15_000;
const SOCKET_TIMEOUT_MS = 60_000;
/** a burst of outside mail reuses these instead of a handshake per message */
const MAX_CONNECTIONS = 4;
/** A connection that closes mid-delivery is retried once on a fresh one: this
 *  covers picking a pooled connection the provider had just dropped, while a
 *  provider that keeps closing is reported instead of hammered. */
const MAX_REQUEUES = 1;

/** Errors without an SMTP reply that a retry will not cure. */
const PERMANENT_WITHOUT_REPLY = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS', 'ECONFIG', 'EREQUIRETLS']);
/** Failures of the connection itself (TLS included) are temporary whatever
 *  reply came with them: a 5xx to STARTTLS may be a man in the middle
 *  stripping TLS, which is no verdict on the message. */
const CONNECTION_FAILURES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL']);

/** The fields of a nodemailer error this file reads. */
interface MailerError extends Error {
  code?: string | undefined;
  response?: string | undefined;
  responseCode?: number | undefined;
  recipient?: string | undefined;
  rejected?: string[] | undefined;
  rejectedErrors?: MailerError[] | undefined;
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
}

/** RFC 5321 §4.2.1; 503 (bad sequence) is the session's fault, not the message's. */
function isPermanentReply(code: number): boolean {
  return code >= 500 && code < 600 && code !== 503;
}

/** @throws ValidationError naming the bad relay.* field */
function validateRelayConfig(config: RelayConfig): void {
  if (config.host === '') throw new ValidationError('relay.host', 'is empty: no smarthost is configured');
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) {
    throw new ValidationError('relay.port', 'must be a port number (1-65535)');
  }
  if (!['tls', 'starttls', 'none'].includes(config.security)) {
    throw new ValidationError('relay.security', 'must be one of tls, starttls, none');
  }
  // Plain SMTP would expose the password and the (possibly unencrypted) mail
  // to the network: only a sink on this machine may be spoken to in clear.
  if (config.security === 'none' && !isLoopback(config.host)) {
    throw new ValidationError('relay.security', '"none" is only allowed for a smarthost on loopback (127.0.0.1, ::1, localhost)');
  }
  if (config.user === '' && config.password !== '') throw new ValidationError('relay.user', 'is required when relay.password is set');
}

/**
 * Creates the smarthost relay: a pool of up to 4 SMTP connections to
 * `config.host`, opened on demand.
 * @throws ValidationError (relay.host, relay.port, relay.security, relay.user) for an unusable config
 */
export function createSmarthost(config: RelayConfig, options: SmarthostOptions): Smarthost {
  validateRelayConfig(config);
  const log = options.logger.child({ component: 'relay' });
  const ca = options.tls?.ca;
  const transport = createTransport({
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    maxRequeues: MAX_REQUEUES,
    host: config.host,
    port: config.port,
    secure: config.security === 'tls',
    requireTLS: config.security === 'starttls',
    ignoreTLS: config.security === 'none',
    ...(config.user === '' ? {} : { auth: { user: config.user, pass: config.password } }),
    tls: { rejectUnauthorized: config.rejectUnauthorized, minVersion: 'TLSv1.2', ...(ca === undefined ? {} : { ca }) },
    allowInternalNetworkInterfaces: isLoopback(config.host),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: CONNECTION_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // nodemailer's own log would carry addresses; ours logs counts and codes
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  transport.on('error', (error: Error) => log.warn({ code: (error as MailerError).code }, 'smarthost transport error'));

  // The password and the forms it takes on the wire (AUTH PLAIN / LOGIN
  // base64) are cut out of every text that may reach an error or a log.
  const secrets = config.password === ''
    ? []
    : [
        config.password,
        Buffer.from(config.password).toString('base64'),
        Buffer.from(`\0${config.user}\0${config.password}`).toString('base64'),
        Buffer.from(`${config.user}\0${config.user}\0${config.password}`).toString('base64'),
      ].filter((s) => s.length >= 3);
  const scrub = (text: string): string => {
    let out = text.replace(/[\r\n]+/g, ' ').trim();
    for (const s of secrets) out = out.split(s).join('[redacted]');
    return out.slice(0, 400);
  };
  const target = `${config.host}:${config.port}`;
  const list = (addresses: string[]): string => addresses.map((a) => `<${a}>`).join(', ');

  /** Maps a nodemailer failure for the recipients `to` to a RelayError. */
  function toRelayError(error: unknown, to: string[]): RelayError {
    const err = (error ?? {}) as MailerError;
    const code = typeof err.code === 'string' ? err.code : undefined;
    // Every recipient refused at RCPT: classify by their replies.
    if (err.rejectedErrors !== undefined && err.rejectedErrors.length > 0) {
      return rejectionError(err.rejectedErrors, err.rejected ?? to, []);
    }
    const reply = typeof err.responseCode === 'number' ? err.responseCode : undefined;
    let relayCode: RelayErrorCode;
    // A refused login is the gateway's configuration, not the message: defer
    // (as Postfix does on SASL failure) so the client keeps the message and
    // retries once relay.user/password are fixed.
    if (code !== undefined && (CONNECTION_FAILURES.has(code) || code === 'EAUTH' || code === 'ENOAUTH')) relayCode = 'RELAY_TEMPORARY';
    else if (reply !== undefined && reply >= 400) relayCode = isPermanentReply(reply) ? 'RELAY_REJECTED' : 'RELAY_TEMPORARY';
    else if (reply === undefined && code !== undefined && PERMANENT_WITHOUT_REPLY.has(code)) relayCode = 'RELAY_REJECTED';
    else relayCode = 'RELAY_TEMPORARY';
    const what = code === 'EAUTH' || code === 'ENOAUTH'
      ? `the smarthost ${target} refused the login`
      : reply === undefined
        ? `the smarthost ${target} could not be used`
        : `the smarthost ${target} refused the message`;
    const detail = err.response !== undefined ? scrub(err.response) : scrub(`${code ?? 'error'}: ${err.message ?? String(error)}`);
    const prefix = to.length > 0 ? `${list(to)}: ` : '';
    return new RelayError(relayCode, `${prefix}${what} (${detail})`, { responseCode: reply, recipients: to });
  }

  /** Some or all recipients refused at RCPT TO. A deferral (4xx) of every one
   *  of them is temporary; any permanent refusal makes the whole outcome
   *  RELAY_REJECTED, naming the refused recipients. */
  function rejectionError(errors: MailerError[], rejected: string[], accepted: string[]): RelayError {
    const codes = errors.map((e) => e.responseCode).filter((c): c is number => typeof c === 'number');
    const permanent = codes.find(isPermanentReply);
    const relayCode: RelayErrorCode = permanent !== undefined || codes.length === 0 ? 'RELAY_REJECTED' : 'RELAY_TEMPORARY';
    const replies = errors.map((e) => `${e.recipient === undefined ? '' : `<${e.recipient}> `}${scrub(e.response ?? e.message)}`).join('; ');
    const what = accepted.length > 0 ? `the smarthost ${target} refused some recipients` : `the smarthost ${target} refused the recipients`;
    return new RelayError(relayCode, `${list(rejected)}: ${what} (${replies})`, {
      responseCode: permanent ?? codes[0],
      recipients: rejected,
      accepted,
    });
  }

  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  async function send(message: RelayMessage): Promise<RelayResult> {
    if (message.to.length === 0) throw new ValidationError('message.to', 'needs at least one recipient');
    if (closed) throw new RelayError('RELAY_TEMPORARY', 'the smarthost relay is shutting down', { recipients: message.to });
    const raw = Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength);
    const started = Date.now();
    let info;
    // 8-bit bytes (an RFC 6532 header, an 8bit body sent in plain) are
    // declared with BODY=8BITMIME (RFC 6152) when the provider offers it.
    const use8BitMime = !isAscii(raw);
    const attempt = transport.sendMail({ envelope: { from: message.from, to: message.to, use8BitMime }, raw });
    inFlight.add(attempt);
    try {
      info = await attempt;
    } catch (error) {
      const relayError = toRelayError(error, message.to);
      log.warn({ code: relayError.code, responseCode: relayError.responseCode, recipients: message.to.length, ms: Date.now() - started }, 'smarthost did not take the message');
      throw relayError;
    } finally {
      inFlight.delete(attempt);
    }
    const accepted = info.accepted.map(String);
    const rejected = info.rejected.map(String);
    if (rejected.length > 0) {
      const relayError = rejectionError((info.rejectedErrors ?? []) as MailerError[], rejected, accepted);
      log.warn({ code: relayError.code, responseCode: relayError.responseCode, accepted: accepted.length, rejected: rejected.length }, 'smarthost refused some recipients');
      throw relayError;
    }
    log.info({ recipients: accepted.length, bytes: raw.byteLength, ms: Date.now() - started }, 'relayed through smarthost');
    return { accepted, rejected, response: scrub(info.response) };
  }

  async function verify(): Promise<void> {
    try {
      await transport.verify();
    } catch (error) {
      throw toRelayError(error, []);
    }
  }

  async function close(): Promise<void> {
    closed = true;
    transport.close(); // idle connections now; busy ones after their delivery
    await Promise.allSettled([...inFlight]);
  }

  return { send, verify, close };
}
