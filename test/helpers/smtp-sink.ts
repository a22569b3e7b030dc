// Test helper: a real SMTP server (smtp-server) on 127.0.0.1, port 0, standing
// in for the user's provider (the smarthost). It records each message's
// envelope and exact bytes; it can offer STARTTLS (RFC 3207) and require AUTH
// (RFC 4954), and refuse recipients or the data with any reply, so tests see
// what the gateway makes of a provider's answers.
//   const sink = await startSmtpSink({ rejectData: () => reply(451, '...') });
//   t.teardown(sink.close); // register before the gateway's teardown: ava runs them last-in first-out
import type net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface SinkMessage {
  /** MAIL FROM address ('' for the null reverse-path) */
  from: string;
  /** RCPT TO addresses, as accepted */
  to: string[];
  /** the DATA bytes, dot-unstuffed, as received */
  bytes: Buffer;
  /** the AUTH user name, when the client logged in */
  user: string | undefined;
  /** the session ran over TLS (STARTTLS) */
  secure: boolean;
}

export interface SinkOptions {
  /** offer STARTTLS with this certificate (PEM); without it the sink speaks plain SMTP only */
  tls?: { key: string; cert: string };
  /** require AUTH PLAIN/LOGIN (after STARTTLS when `tls` is given) with these credentials */
  auth?: { user: string; password: string };
  /** an error with `responseCode` refuses that recipient at RCPT TO */
  rejectRcpt?: (address: string) => Error | null;
  /** an error with `responseCode` refuses the message after the data was read */
  rejectData?: (to: string[]) => Error | null;
}

export interface SmtpSink {
  port: number;
  /** messages accepted, in the order they arrived */
  received: SinkMessage[];
  /** failed AUTH attempts */
  authFailures: () => number;
  close(): Promise<void>;
}

/** An Error carrying the SMTP reply smtp-server sends for it. */
export function reply(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/** Starts the sink; resolves once it listens. */
export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  const received: SinkMessage[] = [];
  let authFailures = 0;
  const auth = options.auth;
  const settings: SMTPServerOptions = {
    logger: false,
    secure: false,
    disabledCommands: [...(options.tls === undefined ? ['STARTTLS'] : []), ...(auth === undefined ? ['AUTH'] : [])],
    ...(options.tls === undefined ? {} : { key: options.tls.key, cert: options.tls.cert }),
    ...(auth === undefined
      ? { authOptional: true }
      : {
          authMethods: ['PLAIN', 'LOGIN'],
          authOptional: false,
          allowInsecureAuth: options.tls === undefined,
          onAuth(credentials, _session, callback) {
            if (credentials.username === auth.user && credentials.password === auth.password) {
              callback(null, { user: credentials.username });
              return;
            }
            authFailures++;
            callback(reply(535, '5.7.8 Authentication credentials invalid'));
          },
        }),
    onRcptTo(address, _session, callback) {
      callback(options.rejectRcpt?.(address.address) ?? undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const refusal = options.rejectData?.(to) ?? null;
        if (refusal !== null) {
          callback(refusal);
          return;
        }
        received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to,
          bytes: Buffer.concat(chunks),
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(settings);
  // A client dropping a pooled connection at shutdown is not a sink failure.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as net.AddressInfo;
  return {
    port,
    received,
    authFailures: () => authFailures,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
