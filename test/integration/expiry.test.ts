// Sender-defined expiry on one node, end to end with real clients on loopback:
// the recipient reads the message until its expiry; then it leaves the
// recipient's INBOX (an IDLE client sees EXPUNGE) and the Sent copy the
// sender's client APPENDed; the "[expires …]" tag never reaches the
// recipient; a past expiry is refused at submission with 554 5.6.0; mail
// that expires before its recipient logs in is never delivered.
import test from 'ava';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { imapClient as imap, inboxSources, smtpClient as smtp } from '../helpers/clients.ts';
import { startSealpost } from '../helpers/sealpost.ts';

const alice = { user: 'alice@example.test', password: 'alice-secret-1' };
const bob = { user: 'bob@example.test', password: 'bob-secret-22' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

test('an expiring message is readable until its expiry, then gone from INBOX (IDLE sees EXPUNGE) and from Sent', async (t) => {
  const server = await startSealpost({ users: [alice, bob] });
  t.teardown(() => server.stop());
  const bobImap = imap(server, bob);
  await bobImap.connect();
  t.teardown(() => bobImap.logout().catch(() => undefined));
  await bobImap.mailboxOpen('INBOX');
  const expunged: number[] = [];
  bobImap.on('expunge', (event: { seq: number }) => expunged.push(event.seq));

  const raw = await compose({
    from: alice.user, to: bob.user, subject: 'Plans [expires 6s]', text: 'Meet at the old mill at nine.',
    messageId: '<plans-1@example.test>', date: new Date(),
  });
  const keep = await compose({ from: alice.user, to: bob.user, subject: 'Minutes', text: 'These stay.', messageId: '<minutes@example.test>' });
  const transport = smtp(server, alice);
  t.teardown(() => transport.close());
  const sentAt = Date.now();
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw });
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw: keep });

  // Alice's client saves its own copy in Sent, as Thunderbird does.
  const aliceImap = imap(server, alice);
  await aliceImap.connect();
  t.teardown(() => aliceImap.logout().catch(() => undefined));
  await aliceImap.append('Sent', raw, ['\\Seen']);
  await aliceImap.append('Sent', keep, ['\\Seen']);
  t.like(await aliceImap.status('Sent', { messages: true }), { messages: 2 });

  // Bob reads it before the expiry, without the tag in the subject.
  let sources: Buffer[] = [];
  for (let i = 0; i < 100 && sources.length < 2; i++) {
    await bobImap.noop(); // the client learns of new mail (EXISTS) only when it talks to the server
    sources = await inboxSources(bobImap);
    if (sources.length < 2) await sleep(50);
  }
  t.is(sources.length, 2);
  const plans = sources.find((s) => s.includes('Meet at the old mill'));
  if (plans === undefined) return t.fail('the expiring message was not delivered');
  t.regex(plans.toString(), /\r\nSubject: Plans\r\n/);
  t.false(plans.includes('[expires'), 'the tag is an instruction to the gateway, not part of the subject');
  t.true(Date.now() - sentAt < 6000, 'read before the expiry');

  // After the expiry: gone from both mailboxes; the message without expiry stays.
  void bobImap.idle().catch(() => undefined); // resolves only when the next command ends the IDLE
  for (let i = 0; i < 200 && expunged.length === 0; i++) await sleep(50);
  t.true(Date.now() - sentAt >= 6000 - 50, 'not before its expiry');
  t.deepEqual(expunged, [1], 'the IDLE client was told at once (EXPUNGE of message 1)');
  const left = await inboxSources(bobImap);
  t.is(left.length, 1);
  t.true(left[0]?.includes('These stay.'));
  t.like(await aliceImap.status('Sent', { messages: true }), { messages: 1 }, "the sender's own Sent copy expired with it");
});

test('an expiry in the past, or one that cannot be read, is refused at submission with 554 5.6.0', async (t) => {
  const server = await startSealpost({ users: [alice, bob] });
  t.teardown(() => server.stop());
  const transport = smtp(server, alice);
  t.teardown(() => transport.close());
  for (const [header, reason] of [
    ['Tue, 01 Dec 2020 10:00:00 +0000', /has already passed/],
    ['next week', /neither a date .* nor a period/],
  ] as const) {
    const raw = await compose({ from: alice.user, to: bob.user, subject: 'late', text: 'x', headers: { Expires: header } });
    const error = await t.throwsAsync(transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw })) as Error & { responseCode?: number; response?: string };
    t.is(error.responseCode, 554);
    t.regex(error.response ?? '', /^554 5\.6\.0 /);
    t.regex(error.response ?? '', reason);
  }
});

test('mail that expires while its recipient is logged out is never delivered', async (t) => {
  const server = await startSealpost({ users: [alice, bob] });
  t.teardown(() => server.stop());
  const transport = smtp(server, alice);
  t.teardown(() => transport.close());
  const raw = await compose({ from: alice.user, to: bob.user, subject: 'Soon gone', text: 'Short-lived.', headers: { Expires: '2s' } });
  const keep = await compose({ from: alice.user, to: bob.user, subject: 'Stays', text: 'Long-lived.' });
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw });
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw: keep });
  await sleep(2500);
  const bobImap = imap(server, bob);
  await bobImap.connect();
  t.teardown(() => bobImap.logout().catch(() => undefined));
  const sources = await inboxSources(bobImap);
  t.is(sources.length, 1);
  t.true(sources[0]?.includes('Long-lived.'));
});

test('time is injectable: a message expiring in an hour is gone once the clock has moved two hours on, with no wait', async (t) => {
  let offset = 0;
  const server = await startSealpost({ users: [alice, bob], now: () => Date.now() + offset });
  t.teardown(() => server.stop());
  const transport = smtp(server, alice);
  t.teardown(() => transport.close());
  const raw = await compose({ from: alice.user, to: bob.user, subject: 'An hour', text: 'Valid for an hour.', headers: { Expires: '1h' } });
  await transport.sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw });
  const bobImap = imap(server, bob);
  await bobImap.connect();
  t.teardown(() => bobImap.logout().catch(() => undefined));
  t.is((await inboxSources(bobImap)).length, 1, 'readable now');
  offset = 2 * 3_600_000;
  let left = 1;
  for (let i = 0; i < 50 && left > 0; i++) {
    await sleep(100);
    await bobImap.noop();
    left = (await inboxSources(bobImap)).length;
  }
  t.is(left, 0, 'expunged by the expiry clock at the injected time');
});
