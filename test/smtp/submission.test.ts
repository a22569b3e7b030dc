// SMTP submission (RFC 6409, RFC 3207 STARTTLS, RFC 8314 implicit TLS,
// RFC 4954 AUTH, RFC 1870 SIZE) against the real smtp-server on loopback,
// driven by nodemailer, raw protocol lines and Python's smtplib.
import test from 'ava';
import { execFile } from 'node:child_process';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { isLoopback } from '../../src/smtp/server.ts';
import { ALICE, BOB, startSubmission, type Harness } from './harness.ts';

function transport(h: Harness, options: { secure?: boolean; auth?: boolean; user?: typeof ALICE } = {}) {
  const user = options.user ?? ALICE;
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: h.port,
    secure: options.secure ?? false,
    requireTLS: options.secure !== true,
    // Trust exactly our certificate, checked for the name "localhost".
    tls: { ca: h.tls.cert, servername: 'localhost' },
    ...(options.auth === false ? {} : { auth: { user: user.address, pass: user.password } }),
  });
}

const message = (extra: Record<string, unknown> = {}) => ({
  from: ALICE.address,
  to: BOB.address,
  subject: 'Hello Bob',
  text: 'Plain text body\r\nsecond line',
  ...extra,
});

test('STARTTLS + AUTH PLAIN: delivered to the recipient INBOX with a Received header, nothing filed in Sent', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const info = await transport(h).sendMail(message());
  t.regex(info.response, /^250 2\.0\.0 Ok: queued as local-\d+$/);
  // the 250 came after the append: the message is already stored
  const inbox = await h.folder(BOB.address, 'INBOX');
  t.is(inbox.length, 1);
  const raw = inbox[0] ?? '';
  t.regex(raw, /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby localhost \(Sealpost\) with ESMTPSA id [0-9a-f]{16}\r\n\tfor <bob@example\.org>;\r\n\t\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
  t.true(raw.includes('Subject: Hello Bob'));
  t.true(raw.includes('Plain text body'));
  t.deepEqual(await h.folder(ALICE.address, 'Sent'), []);
  t.deepEqual(await h.folder(ALICE.address, 'INBOX'), []);
});

test('AUTH LOGIN works and the user name is case-insensitive; several recipients each get a copy', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const tr = nodemailer.createTransport({
    host: '127.0.0.1', port: h.port, requireTLS: true, tls: { ca: h.tls.cert, servername: 'localhost' },
    auth: { user: 'ALICE@Example.org', pass: ALICE.password, method: 'LOGIN' },
  });
  await tr.sendMail(message({ to: [BOB.address, 'Alice@Example.org'], from: 'Alice@EXAMPLE.org' }));
  t.is((await h.folder(BOB.address, 'INBOX')).length, 1);
  t.is((await h.folder(ALICE.address, 'INBOX')).length, 1);
  t.false((await h.folder(BOB.address, 'INBOX'))[0]?.includes('\tfor <') ?? true, 'no "for" clause with two recipients');
});

test('implicit TLS (port 465 style) works', async (t) => {
  const h = await startSubmission({ implicitTls: true });
  t.teardown(() => h.close());
  await transport(h, { secure: true }).sendMail(message());
  t.is((await h.folder(BOB.address, 'INBOX')).length, 1);
});

test('sending without AUTH is refused with 530', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const error = await t.throwsAsync(transport(h, { auth: false }).sendMail(message()));
  t.is((error as { responseCode?: number }).responseCode, 530);
  t.deepEqual(await h.folder(BOB.address, 'INBOX'), []);
});

test('a wrong password is 535 5.7.8', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const error = await t.throwsAsync(transport(h, { user: { ...ALICE, password: 'wrong-password' } }).sendMail(message()));
  t.is((error as { responseCode?: number }).responseCode, 535);
  t.regex((error as { response?: string }).response ?? '', /^535 5\.7\.8 /);
});

test('a throttled login is 454 4.7.0, even with the right password', async (t) => {
  const h = await startSubmission({ maxFailuresPerUser: 2 });
  t.teardown(() => h.close());
  for (let i = 0; i < 2; i++) await t.throwsAsync(transport(h, { user: { ...ALICE, password: 'wrong-password' } }).sendMail(message()));
  const error = await t.throwsAsync(transport(h).sendMail(message()));
  t.regex((error as { response?: string }).response ?? '', /^454 4\.7\.0 /);
});

test('MAIL FROM another address than the account is 553 5.7.1', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const error = await t.throwsAsync(transport(h).sendMail(message({ from: BOB.address })));
  t.is((error as { response?: string }).response, '553 5.7.1 Sender address rejected: not owned by user alice@example.org');
  t.deepEqual(await h.folder(BOB.address, 'INBOX'), []);
});

test('RCPT TO an address not on this node is 550 5.1.1', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const error = await t.throwsAsync(transport(h).sendMail(message({ to: 'Carol@Elsewhere.example' })));
  t.is((error as { response?: string }).response, '550 5.1.1 <carol@elsewhere.example>: Recipient not on this Sealpost node');
});

/** Speaks raw SMTP lines; resolves with every reply line. Loopback allows AUTH before TLS. */
async function rawSession(port: number, lines: string[]): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const replies: string[] = [];
  let buffer = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    let i: number;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      replies.push(line);
      if (/^\d{3} /.test(line)) waiting?.();
    }
  });
  const reply = () => new Promise<void>((resolve) => (waiting = resolve));
  await reply(); // greeting
  for (const line of lines) {
    const next = reply();
    socket.write(`${line}\r\n`);
    await next;
  }
  socket.end();
  return replies;
}

test('an oversized message is refused with 552 5.3.4 after DATA, and SIZE is advertised', async (t) => {
  const h = await startSubmission({ maxMessageSize: 2048 });
  t.teardown(() => h.close());
  const plain = Buffer.from(`\0${ALICE.address}\0${ALICE.password}`).toString('base64');
  const body = `Subject: big\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(60) + '.';
  const replies = await rawSession(h.port, ['EHLO client.test', `AUTH PLAIN ${plain}`, `MAIL FROM:<${ALICE.address}>`, `RCPT TO:<${BOB.address}>`, 'DATA', body, 'QUIT']);
  t.true(replies.some((r) => /^250[- ]SIZE 2048$/.test(r)), replies.join('\n'));
  t.true(replies.some((r) => r.startsWith('235 ')), 'AUTH without TLS is allowed from loopback');
  t.true(replies.some((r) => r.startsWith('552 5.3.4 ')), replies.join('\n'));
  t.deepEqual(await h.folder(BOB.address, 'INBOX'), []);
});

test('MAIL FROM with a SIZE parameter over the limit is refused at once', async (t) => {
  const h = await startSubmission({ maxMessageSize: 2048 });
  t.teardown(() => h.close());
  const plain = Buffer.from(`\0${ALICE.address}\0${ALICE.password}`).toString('base64');
  const replies = await rawSession(h.port, ['EHLO client.test', `AUTH PLAIN ${plain}`, `MAIL FROM:<${ALICE.address}> SIZE=999999`, 'QUIT']);
  t.true(replies.some((r) => r.startsWith('552 ')), replies.join('\n'));
});

test('AUTH PLAIN with an authorization identity of another user is refused', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const plain = Buffer.from(`${BOB.address}\0${ALICE.address}\0${ALICE.password}`).toString('base64');
  const replies = await rawSession(h.port, ['EHLO client.test', `AUTH PLAIN ${plain}`, 'QUIT']);
  t.true(replies.some((r) => r.startsWith('535 5.7.8 ')), replies.join('\n'));
});

test('isLoopback: only 127/8 and ::1 (also IPv4-mapped)', (t) => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) t.true(isLoopback(a), a);
  for (const a of ['10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', 'fe80::1', '0.0.0.0', '', undefined]) t.false(isLoopback(a), String(a));
});

test('Python smtplib: STARTTLS, AUTH, send', async (t) => {
  const h = await startSubmission();
  t.teardown(() => h.close());
  const script = `
import smtplib, ssl, sys
from email.message import EmailMessage
ctx = ssl.create_default_context(cadata=sys.argv[2])
msg = EmailMessage()
msg['From'] = '${ALICE.address}'
msg['To'] = '${BOB.address}'
msg['Subject'] = 'from python'
msg.set_content('hello from smtplib')
with smtplib.SMTP('localhost', int(sys.argv[1]), local_hostname='python.test') as s:
    s.starttls(context=ctx)
    s.login('${ALICE.address}', '${ALICE.password}')
    s.send_message(msg)
print('sent')
`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('python3', ['-c', script, String(h.port), h.tls.cert], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  t.is(out.trim(), 'sent');
  const inbox = await h.folder(BOB.address, 'INBOX');
  t.is(inbox.length, 1);
  t.true(inbox[0]?.includes('Subject: from python'));
  t.true(inbox[0]?.startsWith('Received: from python.test ([127.0.0.1])'));
});
