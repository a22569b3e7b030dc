// The one file that imports smtp-server: SMTP message submission (RFC 6409)
// on STARTTLS (RFC 3207) and implicit TLS (RFC 8314 §3.3) ports, AUTH PLAIN
// and LOGIN (RFC 4954, RFC 4616), SIZE (RFC 1870). Accepted mail goes to a
// Submitter (smtp/types.ts): the secure pipeline in the gateway.
//
// Decisions:
// - No copy is filed into the sender's Sent folder. Thunderbird and Outlook
//   APPEND their own copy over IMAP after sending; filing one here too would
//   give every sent message twice.
// - 250 is sent only after the Submitter's promise resolves, which it does
//   only once the message is durable (sealed, stored, recorded, queued).
// - smtp-server's allowInsecureAuth is global, so it is on and the real rule
//   is in onAuth: AUTH before TLS only from a loopback address.
// - Enhanced status codes (RFC 3463) are written into our reply texts.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Authenticator } from '../accounts/types.ts';
import { smtpReply, toSmtpError, type SmtpReplyError } from './errors.ts';
import { receivedHeader } from './received.ts';
import type { Submitter } from './types.ts';

export interface SubmissionServerOptions {
  /** takes accepted mail; decides which recipients are acceptable */
  submitter: Submitter;
  auth: Authenticator;
  logger: Logger;
  tls: { key: string; cert: string };
  /** true: TLS from the first byte (port 465 style); false: plain + STARTTLS */
  implicitTls: boolean;
  /** SIZE limit in octets (default 25 MiB) */
  maxMessageSize?: number;
  /** concurrent connections (default 50) */
  maxClients?: number;
  /** idle socket timeout, ms (default 5 minutes; RFC 5321 §4.5.3.2) */
  socketTimeoutMs?: number;
  /** how long close() waits for sessions before sending 421 (default 2 s) */
  closeTimeoutMs?: number;
  /** our name in the greeting and Received: (default localhost) */
  hostname?: string;
  /** recipients per message (default 100, RFC 5321 §4.5.3.1.8 minimum) */
  maxRecipients?: number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 25 * 1024 * 1024;

/** True for 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

type Callback = (err?: Error | null) => void;

export function createSubmissionServer(options: SubmissionServerOptions): SMTPServer {
  const { submitter, auth } = options;
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const maxRecipients = options.maxRecipients ?? 100;
  const hostname = options.hostname ?? 'localhost';
  const log = options.logger.child({ proto: 'smtp', tls: options.implicitTls ? 'implicit' : 'starttls' });

  const fail = (cb: Callback, error: unknown): void => cb(toSmtpError(error, log));

  const server = new SMTPServer({
    secure: options.implicitTls,
    key: options.tls.key,
    cert: options.tls.cert,
    name: hostname,
    banner: 'Sealpost mail submission',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    authRequiredMessage: '5.7.0 Authentication required',
    allowInsecureAuth: true, // the loopback-only rule is enforced in onAuth
    size: maxMessageSize,
    maxClients: options.maxClients ?? 50,
    socketTimeout: options.socketTimeoutMs ?? 5 * 60 * 1000,
    closeTimeout: options.closeTimeoutMs ?? 2000,
    disableReverseLookup: true, // no DNS traffic; the address is what we log
    disabledCommands: [],
    logger: false,

    onConnect(session, cb) {
      log.debug({ session: session.id, remote: session.remoteAddress }, 'connect');
      cb();
    },

    onAuth(authData, session, cb) {
      if (!session.secure && !isLoopback(session.remoteAddress)) {
        cb(smtpReply(538, '5.7.11 Encryption required for requested authentication mechanism (use STARTTLS)'));
        return;
      }
      const authzid = (authData as { authzid?: unknown }).authzid;
      const username = authData.username ?? '';
      if (typeof authzid === 'string' && authzid !== '' && authzid.toLowerCase() !== username.toLowerCase()) {
        cb(smtpReply(535, '5.7.8 Authorization identity must equal the user name'));
        return;
      }
      auth.authenticate(username, authData.password ?? '', session.remoteAddress).then(
        (account) => {
          log.info({ session: session.id, account: account.address }, 'authenticated');
          cb(null, { user: account.address });
        },
        (error: unknown) => fail(cb, error),
      );
    },

    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: Callback) {
      const user = session.user;
      if (user === undefined) {
        cb(smtpReply(530, '5.7.0 Authentication required'));
        return;
      }
      if (address.address.toLowerCase() !== user.toLowerCase()) {
        cb(smtpReply(553, `5.7.1 Sender address rejected: not owned by user ${user}`));
        return;
      }
      cb();
    },

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: Callback) {
      if (session.envelope.rcptTo.length >= maxRecipients) {
        cb(smtpReply(452, '4.5.3 Too many recipients'));
        return;
      }
      const rcpt = address.address.toLowerCase();
      submitter.checkRecipient(session.user ?? '', rcpt).then(
        () => cb(),
        (error: unknown) => fail(cb, error),
      );
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void) {
      const chunks: Buffer[] = [];
      let collected = 0;
      let answered = false;
      const reply = (err: Error | null, text?: string): void => {
        if (answered) return;
        answered = true;
        if (err === null) cb(null, text);
        else cb(err);
      };
      stream.on('data', (chunk: Buffer) => {
        // Keep reading to the end (the client is still sending) but stop storing once over the limit.
        if (collected + chunk.length <= maxMessageSize) chunks.push(chunk);
        collected += chunk.length;
      });
      stream.once('error', (error: Error) => reply(toSmtpError(error, log)));
      stream.once('end', () => {
        if (stream.sizeExceeded || collected > maxMessageSize) {
          log.info({ session: session.id, bytes: collected, limit: maxMessageSize }, 'message refused: too big');
          reply(smtpReply(552, `5.3.4 Message size exceeds fixed limit of ${maxMessageSize} octets`));
          return;
        }
        deliver(session, Buffer.concat(chunks)).then(
          (id) => reply(null, `2.0.0 Ok: queued as ${id}`),
          (error: unknown) => reply(toSmtpError(error, log)),
        );
      });
    },
  });

  /** Hands the message to the submitter; resolves when it is durable. */
  async function deliver(session: SMTPServerSession, message: Buffer): Promise<string> {
    const id = randomBytes(8).toString('hex');
    const recipients = [...new Set(session.envelope.rcptTo.map((r) => r.address.toLowerCase()))];
    const header = receivedHeader({
      helo: session.hostNameAppearsAs,
      remoteAddress: session.remoteAddress,
      by: hostname,
      secure: session.secure,
      authenticated: session.user !== undefined,
      id,
      recipients,
      date: new Date(),
    });
    const raw = Buffer.concat([Buffer.from(header, 'latin1'), message]);
    const result = await submitter.submit({ user: session.user ?? '', from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address, recipients, raw, sessionId: session.id });
    log.info({ session: session.id, id, ref: result.id, from: session.user, recipients: recipients.length, bytes: raw.length }, 'accepted');
    return result.id;
  }

  // Without a listener an 'error' event (socket reset, TLS failure) would throw.
  server.on('error', (error: Error) => log.debug({ err: error.message }, 'connection error'));
  return server;
}

export type { SmtpReplyError };
