// A user's day with real clients on loopback: nodemailer submits over SMTP
// (STARTTLS and implicit TLS), imapflow reads over IMAP (TLS), waits in IDLE
// for new mail, replies, files, flags and deletes, the way Thunderbird does.
import test from 'ava';
import type { ImapFlow } from 'imapflow';
import { imapClient as imap, smtpClient as smtp } from '../helpers/clients.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';

const alice = { user: 'alice@example.test', password: 'alice-secret-1' };
const bob = { user: 'bob@example.test', password: 'bob-secret-22' };


async function status(client: ImapFlow, mailbox: string): Promise<{ messages: number; unseen: number }> {
  const st = await client.status(mailbox, { messages: true, unseen: true });
  if (!st) throw new Error(`STATUS ${mailbox} failed`);
  return { messages: st.messages ?? -1, unseen: st.unseen ?? -1 };
}

async function download(client: ImapFlow, uid: number, part: string): Promise<Buffer> {
  const { content } = await client.download(String(uid), part, { uid: true });
  const chunks: Buffer[] = [];
  if (content) for await (const c of content) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}


test('send, receive with IDLE, reply, file, flag, delete; Sent copy is not duplicated', async (t) => {
  const server = await startSealpost({ users: [alice, bob] });
  t.teardown(() => server.stop());
  const bobImap = imap(server, bob);
  await bobImap.connect();
  t.teardown(() => bobImap.logout().catch(() => undefined));
  const lock = await bobImap.getMailboxLock('INBOX');
  // imapflow enters IDLE by itself when idle; EXISTS arrives as an 'exists' event.
  const arrived = new Promise<number>((resolve) => bobImap.once('exists', (e: { count: number }) => resolve(e.count)));
  // Enter IDLE explicitly; the next command ends it (imapflow sends DONE itself).
  const idling = bobImap.idle();

  const text = 'Grüße aus Zürich — the quarterly numbers are attached.\r\n';
  const sent = await smtp(server, alice).sendMail({
    from: alice.user,
    to: bob.user,
    subject: 'Quarterly numbers ✓',
    text,
    attachments: [{ filename: 'numbers.csv', content: 'a,b\n1,2\n' }],
  });
  t.deepEqual(sent.accepted, [bob.user]);
  // Thunderbird saves its own copy in Sent over IMAP; the gateway must not add another.
  const aliceImap = imap(server, alice, false);
  await aliceImap.connect();
  t.teardown(() => aliceImap.logout().catch(() => undefined));
  await aliceImap.append('Sent', Buffer.from(`From: ${alice.user}\r\nTo: ${bob.user}\r\nSubject: Quarterly numbers\r\n\r\n${text}`), ['\\Seen']);
  t.is((await status(aliceImap, 'Sent')).messages, 1);

  t.is(await arrived, 1);
  const msg = await bobImap.fetchOne('*', { envelope: true, bodyStructure: true, source: true, flags: true, uid: true });
  t.truthy(msg);
  if (!msg) return;
  t.is(msg.envelope?.subject, 'Quarterly numbers ✓');
  t.is(msg.envelope?.from?.[0]?.address, alice.user);
  t.is(msg.bodyStructure?.type, 'multipart/mixed');
  t.false(msg.flags?.has('\\Seen'));
  t.is((await download(bobImap, msg.uid, '1')).toString('utf8').replace(/\r\n/g, '\n'), text.replace(/\r\n/g, '\n'));
  t.is((await download(bobImap, msg.uid, '2')).toString(), 'a,b\n1,2\n');

  // Reply over implicit TLS; flag, file into a new folder, delete.
  await smtp(server, bob, true).sendMail({ from: bob.user, to: alice.user, subject: 'Re: Quarterly numbers ✓', text: 'Thanks!', inReplyTo: msg.envelope?.messageId ?? '' });
  await bobImap.messageFlagsAdd(String(msg.uid), ['\\Answered', '\\Flagged', '$Important'], { uid: true });
  const flagged = await bobImap.fetchOne(String(msg.uid), { flags: true }, { uid: true });
  t.true(flagged && flagged.flags?.has('\\Flagged') && flagged.flags.has('$Important'));
  await bobImap.mailboxCreate('Projects/2026');
  const moved = await bobImap.messageMove(String(msg.uid), 'Projects/2026', { uid: true });
  t.truthy(moved && moved.uidMap && moved.uidMap.size === 1);
  t.is((await status(bobImap, 'INBOX')).messages, 0);
  lock.release();
  const lock2 = await bobImap.getMailboxLock('Projects/2026');
  const inFolder = await bobImap.fetchOne('*', { flags: true, envelope: true });
  t.true(inFolder && inFolder.flags?.has('$Important') && inFolder.envelope?.subject === 'Quarterly numbers ✓');
  await bobImap.messageDelete('1:*');
  t.is((await status(bobImap, 'Projects/2026')).messages, 0);
  lock2.release();
  await idling;

  // Delivery follows the 250 once the ledger batch is anchored (ledger.batchIntervalMs), as with any MTA queue.
  let aliceInbox = await status(aliceImap, 'INBOX');
  for (let i = 0; i < 50 && aliceInbox.messages === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    aliceInbox = await status(aliceImap, 'INBOX');
  }
  t.is(aliceInbox.messages, 1);
  t.is(aliceInbox.unseen, 1);
  t.is((await status(aliceImap, 'Sent')).messages, 1);
});

test('SMTP refuses a foreign sender and an unknown recipient with clear replies', async (t) => {
  const server = await startSealpost({ users: [alice, bob] });
  t.teardown(() => server.stop());
  const transport = smtp(server, alice);
  const foreign = await t.throwsAsync(transport.sendMail({ from: bob.user, to: bob.user, subject: 'x', text: 'x' }));
  t.regex(String((foreign as { response?: string }).response), /^553 5\.7\.1/);
  const unknown = await t.throwsAsync(transport.sendMail({ from: alice.user, to: 'nobody@elsewhere.test', subject: 'x', text: 'x' }));
  t.regex(String((unknown as { response?: string }).response), /^550 5\.1\.1/);
});
