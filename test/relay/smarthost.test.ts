// relay/smarthost.ts against a real SMTP server (smtp-server) on loopback
// acting as the provider: the three security modes (RFC 8314 implicit TLS,
// RFC 3207 STARTTLS, plain for loopback sinks), AUTH PLAIN (RFC 4954), bytes
// relayed unchanged, and RFC 5321 §4.2.1 reply classes mapped to
// RELAY_TEMPORARY / RELAY_REJECTED.
import test from 'ava';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { defaultConfig, type RelayConfig } from '../../src/config/config.ts';
import { generateTlsCertificate, type TlsMaterial } from '../../src/crypto/tls.ts';
import { ValidationError } from '../../src/errors/index.ts';
import { REDACT_PATHS } from '../../src/log.ts';
import { RelayError } from '../../src/relay/errors.ts';
import { createSmarthost } from '../../src/relay/smarthost.ts';

const USER = 'alice@provider.example';
const PASSWORD = 'pa55-w0rd-that-must-not-leak';

interface Received { from: string; to: string[]; bytes: Buffer; user: string | undefined; secure: boolean; body: unknown }
interface Sink { port: number; received: Received[]; connections: () => number; close: () => Promise<void> }

const reply = (code: number, text: string): Error => Object.assign(new Error(text), { responseCode: code });
const addr = (a: { address: string } | false): string => (a === false ? '' : a.address);

/** A provider stand-in: records every envelope and the exact bytes it received. */
async function startSink(options: Partial<SMTPServerOptions> = {}): Promise<Sink> {
  const received: Received[] = [];
  let connections = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['AUTH'],
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: addr(session.envelope.mailFrom),
          to: session.envelope.rcptTo.map((r) => r.address),
          bytes: Buffer.concat(chunks),
          user: session.user,
          secure: session.secure,
          body: session.envelope.mailFrom === false || session.envelope.mailFrom.args === false ? undefined : session.envelope.mailFrom.args['BODY'],
        });
        callback();
      });
    },
    ...options,
  });
  // a client that gives up mid-handshake (the untrusting one below) is not a sink failure
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address() as net.AddressInfo;
  return {
    port: address.port,
    received,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function relayConfig(overrides: Partial<RelayConfig>): RelayConfig {
  return { ...defaultConfig().relay, host: '127.0.0.1', security: 'none', ...overrides };
}

/** A logger at trace level whose output the test can read. */
function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { logger: pino({ level: 'trace', redact: { paths: REDACT_PATHS } }, stream), text: () => lines.join('') };
}

const silent = pino({ level: 'silent' });

/** A message with what transports like to mangle: a leading-dot line, 8-bit
 *  bytes, trailing blanks, a "From " line, and a long body. */
const MESSAGE = Buffer.concat([
  Buffer.from('From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: relay test\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'),
  Buffer.from('.leading dot\r\n..two dots\r\nFrom the start   \r\nGrüße \t\r\n.\r\n'),
  Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(20_000)),
  Buffer.from('last line\r\n'),
]);

let material: Promise<TlsMaterial> | undefined;
const tlsMaterial = (): Promise<TlsMaterial> => (material ??= generateTlsCertificate());

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("'none' on loopback: envelope and bytes arrive unchanged; a burst shares pooled connections", async (t) => {
  const sink = await startSink();
  t.teardown(sink.close);
  const relay = createSmarthost(relayConfig({ port: sink.port }), { logger: silent });
  t.teardown(relay.close);
  const result = await relay.send({ from: 'alice@example.org', to: ['bob@example.net', 'carol@example.net'], raw: MESSAGE });
  t.deepEqual(result.accepted, ['bob@example.net', 'carol@example.net']);
  t.deepEqual(result.rejected, []);
  t.regex(result.response, /^250 /);
  t.is(sink.received.length, 1);
  const got = sink.received[0]!;
  t.is(got.from, 'alice@example.org');
  t.deepEqual(got.to, ['bob@example.net', 'carol@example.net']);
  t.true(got.bytes.equals(MESSAGE), 'byte for byte');
  t.false(got.secure);
  t.is(got.body, '8BITMIME'); // RFC 6152: the 8-bit body is declared

  const small = Buffer.from('Subject: burst\r\n\r\nhello\r\n');
  await Promise.all(Array.from({ length: 12 }, (_, i) => relay.send({ from: '', to: [`r${i}@example.net`], raw: small })));
  t.is(sink.received.length, 13);
  t.true(sink.received.slice(1).every((r) => r.bytes.equals(small) && r.from === '' && r.body === undefined));
  t.true(sink.connections() <= 4, `${sink.connections()} connections for 13 messages`);
});

test("'tls': implicit TLS to a self-signed provider trusted through options.tls.ca, certificate still verified", async (t) => {
  const { key, cert } = await tlsMaterial();
  const sink = await startSink({ secure: true, key, cert });
  t.teardown(sink.close);
  const config = relayConfig({ port: sink.port, security: 'tls', rejectUnauthorized: true });
  const relay = createSmarthost(config, { logger: silent, tls: { ca: cert } });
  t.teardown(relay.close);
  await relay.verify();
  await relay.send({ from: 'alice@example.org', to: ['bob@example.net'], raw: MESSAGE });
  t.is(sink.received.length, 1);
  t.true(sink.received[0]!.secure);
  t.true(sink.received[0]!.bytes.equals(MESSAGE));

  // Without the trust anchor the same certificate is refused: rejectUnauthorized is really on.
  const untrusting = createSmarthost(config, { logger: silent });
  t.teardown(untrusting.close);
  const error = await t.throwsAsync(untrusting.send({ from: 'alice@example.org', to: ['bob@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(error?.code, 'RELAY_TEMPORARY');
  t.is(sink.received.length, 1);
});

function authSink(key: string, cert: string, extra: Partial<SMTPServerOptions> = {}): Promise<Sink> {
  return startSink({
    secure: false,
    key,
    cert,
    authOptional: false,
    disabledCommands: [],
    authMethods: ['PLAIN'],
    onAuth(auth, _session, callback) {
      if (auth.method === 'PLAIN' && auth.username === USER && auth.password === PASSWORD) callback(null, { user: auth.username });
      else callback(reply(535, '5.7.8 Authentication credentials invalid'));
    },
    ...extra,
  });
}

test("'starttls' with AUTH PLAIN: upgraded before login; a wrong password is RELAY_TEMPORARY 535 (the gateway's setup, not the message) and never shown", async (t) => {
  const { key, cert } = await tlsMaterial();
  const sink = await authSink(key, cert);
  t.teardown(sink.close);
  const capture = capturingLogger();
  const relay = createSmarthost(relayConfig({ port: sink.port, security: 'starttls', user: USER, password: PASSWORD }), { logger: capture.logger, tls: { ca: cert } });
  t.teardown(relay.close);
  await relay.verify();
  await relay.send({ from: USER, to: ['bob@example.net'], raw: MESSAGE });
  t.is(sink.received.length, 1);
  t.is(sink.received[0]!.user, USER);
  t.true(sink.received[0]!.secure);
  t.true(sink.received[0]!.bytes.equals(MESSAGE));

  const wrongPassword = 'wrong-' + PASSWORD;
  const wrong = createSmarthost(relayConfig({ port: sink.port, security: 'starttls', user: USER, password: wrongPassword }), { logger: capture.logger, tls: { ca: cert } });
  t.teardown(wrong.close);
  const error = await t.throwsAsync(wrong.send({ from: USER, to: ['bob@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(error?.code, 'RELAY_TEMPORARY');
  t.is(error?.responseCode, 535);
  t.deepEqual(error?.recipients, ['bob@example.net']);
  const verifyError = await t.throwsAsync(wrong.verify(), { instanceOf: RelayError });
  t.is(verifyError?.code, 'RELAY_TEMPORARY');
  t.is(sink.received.length, 1);
  t.true(capture.text().includes('RELAY_TEMPORARY'), 'the failure was logged');
  for (const secret of [PASSWORD, wrongPassword, Buffer.from(`\0${USER}\0${wrongPassword}`).toString('base64')]) {
    for (const text of [error?.message ?? '', verifyError?.message ?? '', JSON.stringify(error), String(error?.stack), capture.text()]) {
      t.false(text.includes(secret));
    }
  }
});

test("'starttls' refuses a provider that does not offer STARTTLS rather than sending in clear", async (t) => {
  const { key, cert } = await tlsMaterial();
  const sink = await authSink(key, cert, { disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
  t.teardown(sink.close);
  const relay = createSmarthost(relayConfig({ port: sink.port, security: 'starttls', user: USER, password: PASSWORD }), { logger: silent, tls: { ca: cert } });
  t.teardown(relay.close);
  const error = await t.throwsAsync(relay.send({ from: USER, to: ['bob@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(error?.code, 'RELAY_TEMPORARY');
  t.is(sink.received.length, 0);
});

test('RCPT refused with 550: RELAY_REJECTED names the refused recipient; the accepted one got the message', async (t) => {
  const sink = await startSink({
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('nobody')) callback(reply(550, '5.1.1 No such user'));
      else callback();
    },
  });
  t.teardown(sink.close);
  const relay = createSmarthost(relayConfig({ port: sink.port }), { logger: silent });
  t.teardown(relay.close);

  const partial = await t.throwsAsync(relay.send({ from: 'alice@example.org', to: ['bob@example.net', 'nobody@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(partial?.code, 'RELAY_REJECTED');
  t.is(partial?.responseCode, 550);
  t.deepEqual(partial?.recipients, ['nobody@example.net']);
  t.deepEqual(partial?.accepted, ['bob@example.net']);
  t.true(partial?.message.includes('<nobody@example.net>'));
  t.deepEqual(sink.received.map((r) => r.to), [['bob@example.net']]);

  const all = await t.throwsAsync(relay.send({ from: 'alice@example.org', to: ['nobody@example.net', 'nobody2@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(all?.code, 'RELAY_REJECTED');
  t.is(all?.responseCode, 550);
  t.deepEqual(all?.recipients, ['nobody@example.net', 'nobody2@example.net']);
  t.deepEqual(all?.accepted, []);
  t.is(sink.received.length, 1);
});

test('RCPT deferred with 450 for every recipient is RELAY_TEMPORARY', async (t) => {
  const sink = await startSink({ onRcptTo: (_a, _s, callback) => callback(reply(450, '4.2.0 Mailbox busy')) });
  t.teardown(sink.close);
  const relay = createSmarthost(relayConfig({ port: sink.port }), { logger: silent });
  t.teardown(relay.close);
  const error = await t.throwsAsync(relay.send({ from: 'alice@example.org', to: ['bob@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(error?.code, 'RELAY_TEMPORARY');
  t.is(error?.responseCode, 450);
  t.deepEqual(error?.recipients, ['bob@example.net']);
});

test('451 at the end of DATA is RELAY_TEMPORARY; 554 there is RELAY_REJECTED', async (t) => {
  let code = 451;
  const sink = await startSink({
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback(reply(code, code === 451 ? '4.3.0 Try again later' : '5.7.1 Spam')));
    },
  });
  t.teardown(sink.close);
  const relay = createSmarthost(relayConfig({ port: sink.port }), { logger: silent });
  t.teardown(relay.close);
  const temporary = await t.throwsAsync(relay.send({ from: 'alice@example.org', to: ['bob@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(temporary?.code, 'RELAY_TEMPORARY');
  t.is(temporary?.responseCode, 451);
  t.deepEqual(temporary?.recipients, ['bob@example.net']);
  code = 554;
  const rejected = await t.throwsAsync(relay.send({ from: 'alice@example.org', to: ['bob@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(rejected?.code, 'RELAY_REJECTED');
  t.is(rejected?.responseCode, 554);
});

test('a provider that is not listening is RELAY_TEMPORARY, quickly', async (t) => {
  const port = await freePort();
  const relay = createSmarthost(relayConfig({ port }), { logger: silent });
  t.teardown(relay.close);
  const started = Date.now();
  const error = await t.throwsAsync(relay.send({ from: 'alice@example.org', to: ['bob@example.net'], raw: MESSAGE }), { instanceOf: RelayError });
  t.is(error?.code, 'RELAY_TEMPORARY');
  t.is(error?.responseCode, undefined);
  t.true(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  const verifyError = await t.throwsAsync(relay.verify(), { instanceOf: RelayError });
  t.is(verifyError?.code, 'RELAY_TEMPORARY');
});

test('config checks name the field: plain SMTP only to loopback, a host is required', (t) => {
  for (const host of ['192.0.2.10', 'smtp.example.com', '10.0.0.1', '::2']) {
    const error = t.throws(() => createSmarthost(relayConfig({ host, security: 'none' }), { logger: silent }), { instanceOf: ValidationError });
    t.is(error?.field, 'relay.security');
  }
  const noHost = t.throws(() => createSmarthost(relayConfig({ host: '' }), { logger: silent }), { instanceOf: ValidationError });
  t.is(noHost?.field, 'relay.host');
  const noUser = t.throws(() => createSmarthost(relayConfig({ password: PASSWORD }), { logger: silent }), { instanceOf: ValidationError });
  t.is(noUser?.field, 'relay.user');
  // loopback in any spelling is fine, and nothing connects before send/verify
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) {
    t.notThrows(() => void createSmarthost(relayConfig({ host, security: 'none' }), { logger: silent }).close());
  }
});

test('a message without recipients is a ValidationError', async (t) => {
  const relay = createSmarthost(relayConfig({ port: 25 }), { logger: silent });
  t.teardown(relay.close);
  const error = await t.throwsAsync(relay.send({ from: 'alice@example.org', to: [], raw: MESSAGE }), { instanceOf: ValidationError });
  t.is(error?.field, 'message.to');
});
