// ENVELOPE (RFC 3501 §7.4.2) and RFC 5322 §3.4 address lists.
import test from 'ava';
import { parseEnvelope, parseAddressList } from '../../src/mime/envelope.ts';

const a = (name: string | null, mailbox: string | null, host: string | null, adl: string | null = null) => ({ name, adl, mailbox, host });
const START = (g: string) => a(null, g, null);
const END = a(null, null, null);

test('mailboxes: name-addr, quoted names, comments, dots in phrases', (t) => {
  t.deepEqual(parseAddressList('John Q. Public <jqp@example.com>, "Doe, Jane" <jd@example.com>'),
    [a('John Q. Public', 'jqp', 'example.com'), a('Doe, Jane', 'jd', 'example.com')]);
  t.deepEqual(parseAddressList('a@b (Ann (the) Admin)'), [a('Ann (the) Admin', 'a', 'b')]);
  t.deepEqual(parseAddressList('=?utf-8?q?J=C3=B6rg?= <j@x.de>'), [a('=?utf-8?q?J=C3=B6rg?=', 'j', 'x.de')]);
  t.deepEqual(parseAddressList('"john doe"@example.com'), [a(null, 'john doe', 'example.com')]);
  t.deepEqual(parseAddressList('x@[127.0.0.1]'), [a(null, 'x', '[127.0.0.1]')]);
  t.deepEqual(parseAddressList('"Last, First"   <  f.l @ example.com >'), [a('Last, First', 'f.l', 'example.com')]);
});

test('groups, empty groups, routes and missing domains (Dovecot placeholders)', (t) => {
  t.deepEqual(parseAddressList('undisclosed-recipients:;'), [START('undisclosed-recipients'), END]);
  t.deepEqual(parseAddressList('A Team: x@y, <z@w>; , after@h'),
    [START('A Team'), a(null, 'x', 'y'), a(null, 'z', 'w'), END, a(null, 'after', 'h')]);
  t.deepEqual(parseAddressList('Open: x@y'), [START('Open'), a(null, 'x', 'y'), END]);
  t.deepEqual(parseAddressList('<@r1,@r2:u@h>'), [a(null, 'u', 'h', '@r1,@r2')]);
  t.deepEqual(parseAddressList('localonly'), [a(null, 'localonly', 'MISSING_DOMAIN')]);
  t.deepEqual(parseAddressList('Name <@h>'), [a('Name', 'MISSING_MAILBOX', 'h')]);
  t.is(parseAddressList(''), null);
  t.is(parseAddressList(' , (just a comment) ,'), null);
});

test('envelope: defaults for sender and reply-to, first header wins, absent is null', (t) => {
  const env = parseEnvelope(Buffer.from('From: a@b\r\nSubject: one\r\nSubject: two\r\nSender:\r\nIn-Reply-To: <x@y>\r\nMessage-ID: <m@y>\r\n\r\n'));
  t.deepEqual(env, {
    date: null, subject: 'one', from: [a(null, 'a', 'b')], sender: [a(null, 'a', 'b')], replyTo: [a(null, 'a', 'b')],
    to: null, cc: null, bcc: null, inReplyTo: '<x@y>', messageId: '<m@y>',
  });
  const none = parseEnvelope(new Uint8Array(0));
  t.is(none.from, null);
  t.is(none.sender, null);
  t.is(none.subject, null);
  t.is(parseEnvelope(Buffer.from('Subject:\r\n')).subject, '');
});
