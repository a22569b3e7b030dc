// pipeline/message.ts and pipeline/view.ts: what the pipeline reads from and
// removes from a submitted message, and the X-Sealpost view it builds and
// strips again for `sealpost verify`.
import test from 'ava';
import { ensureMessageId, headerFields, messageIdOf, parseRelative, requestedExpiry, requestedCustodians, withoutExpiryTag, withoutSubmitterFields } from '../../src/pipeline/message.ts';
import { placeholderMessage, signatureText, stripView, viewHeader } from '../../src/pipeline/view.ts';

const msg = (head: string, body = 'Hello.\r\n'): Buffer => Buffer.from(`${head.replace(/\n/g, '\r\n')}\r\n\r\n${body}`, 'utf8');

test('Bcc and forged X-Sealpost-* fields are removed, folded lines included; everything else is kept byte for byte', (t) => {
  const raw = msg('From: a@x.test\nBcc: hidden@x.test,\n  other@x.test\nX-Sealpost-Signature: valid; signer=boss@x.test\nTo: b@x.test\nX-Mailer: test', 'Bcc: stays in the body\r\n');
  const out = Buffer.from(withoutSubmitterFields(raw)).toString();
  t.is(out, 'From: a@x.test\r\nTo: b@x.test\r\nX-Mailer: test\r\n\r\nBcc: stays in the body\r\n');
  const clean = msg('From: a@x.test\nTo: b@x.test');
  t.is(withoutSubmitterFields(clean), clean, 'nothing to remove: the same buffer');
});

test('a missing Message-ID is added at the top; an existing one is read without brackets', (t) => {
  const withId = msg('Message-ID: <abc@x.test>\nFrom: a@x.test');
  t.deepEqual(ensureMessageId(withId, 'gw.test'), { raw: withId, messageId: 'abc@x.test' });
  const added = ensureMessageId(msg('From: a@x.test'), 'gw.test');
  t.regex(added.messageId, /^[0-9a-f]{24}@gw\.test$/);
  t.is(messageIdOf(headerFields(added.raw)), added.messageId);
  t.true(Buffer.from(added.raw).toString().startsWith(`Message-ID: <${added.messageId}>\r\nFrom: a@x.test\r\n`));
});

test('expiry: Expires:/Expiry-Date: dates and relative forms, and the subject tag (DESIGN.md "Expiry headers")', (t) => {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0);
  t.is(parseRelative('7d'), 7 * 86_400_000);
  t.is(parseRelative(' 24H '), 86_400_000);
  t.is(parseRelative('soon'), null);
  t.is(requestedExpiry(headerFields(msg('Expires: 2h')), now), now + 7_200_000);
  t.is(requestedExpiry(headerFields(msg('Expiry-Date: Thu, 26 Nov 2026 12:00:00 +0000')), now), Date.UTC(2026, 10, 26, 12, 0, 0));
  t.is(requestedExpiry(headerFields(msg('Subject: plans [expires 30m]')), now), now + 1_800_000);
  t.is(requestedExpiry(headerFields(msg('Subject: no tag')), now), null);
  t.is(requestedExpiry(headerFields(msg('Expires: garbage')), now), null);
  t.is(parseRelative('20s'), 20_000);
});

test('expiry, strict (SMTP submission): a past or unreadable request is refused with its code', (t) => {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0);
  const strict = (head: string) => requestedExpiry(headerFields(msg(head)), now, { strict: true });
  t.is(strict('Expires: 2h'), now + 7_200_000);
  t.is(strict('Subject: plain'), null);
  t.is((t.throws(() => strict('Expires: Wed, 25 Nov 2026 11:59:59 +0000')) as { code?: string } | undefined)?.code, 'EXPIRY_PAST');
  t.is((t.throws(() => strict('Expiry-Date: Wed, 25 Nov 2026 12:00:00 +0000')) as { code?: string } | undefined)?.code, 'EXPIRY_PAST', 'now itself is not in the future');
  t.is((t.throws(() => strict('Expires: whenever')) as { code?: string } | undefined)?.code, 'EXPIRY_INVALID');
  t.is((t.throws(() => strict('Subject: hi [expires tomorrow]')) as { code?: string } | undefined)?.code, 'EXPIRY_INVALID');
  t.is((t.throws(() => strict('Expires: 0s')) as { code?: string } | undefined)?.code, 'EXPIRY_PAST');
});

test('the [expires …] subject tag is removed before sending; the rest of the message is untouched', (t) => {
  const out = (head: string) => Buffer.from(withoutExpiryTag(msg(head, 'Body [expires 1h] stays.\r\n'))).toString();
  t.is(out('From: a@x.test\nSubject: Plans [expires 24h]\nTo: b@x.test'), 'From: a@x.test\r\nSubject: Plans\r\nTo: b@x.test\r\n\r\nBody [expires 1h] stays.\r\n');
  t.is(out('Subject: [EXPIRES 30m] Plans'), 'Subject: Plans\r\n\r\nBody [expires 1h] stays.\r\n');
  const untouched = msg('Subject: no tag here');
  t.is(withoutExpiryTag(untouched), untouched);
});

test('the view header strips back to the original, also saved with LF line endings or after an mbox From line', (t) => {
  const original = msg('Received: from x\n\tby y; Wed, 25 Nov 2026 11:00:00 +0000\nFrom: a@x.test\nSubject: hi');
  const header = viewHeader({
    cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
    signature: signatureText({ status: 'valid', fingerprint: 'A'.repeat(40), keyId: 'B'.repeat(16) }, 'a@x.test'),
    anchor: 'local checkpoint 3; signer=ed25519:AAAA; root=' + 'c'.repeat(64) + '; record=9',
  });
  for (const line of header.split('\r\n')) t.true(line.length <= 998);
  const view = Buffer.concat([Buffer.from(header), original]);
  const { original: back, fields, removed } = stripView(view);
  t.is(removed, 3);
  t.true(Buffer.from(back).equals(original));
  t.is(fields.get('x-sealpost-signature'), `valid; signer=a@x.test; fingerprint=${'A'.repeat(40)}`);
  t.is(fields.get('x-sealpost-anchor'), `local checkpoint 3; signer=ed25519:AAAA; root=${'c'.repeat(64)}; record=9`);
  const unix = Buffer.from(`From a@x.test Wed Nov 25 11:00:00 2026\n${view.toString().replace(/\r\n/g, '\n')}`);
  t.true(Buffer.from(stripView(unix).original).equals(original));
});

test('signature texts for every status', (t) => {
  t.is(signatureText({ status: 'invalid', fingerprint: 'F1' }, null), 'invalid; fingerprint=F1');
  t.is(signatureText({ status: 'unknown-key', keyId: 'K1' }, null), 'unknown key; keyid=K1');
  t.is(signatureText({ status: 'unsigned' }, null), 'unsigned');
});

test('a placeholder says why, names the CID, and strips like a view', (t) => {
  const text = Buffer.from(placeholderMessage({ cid: 'bafkqaaa', reason: 'block bafkqaaa is corrupted:\r\nits content does not match', seq: 4, time: 0, hostname: 'gw.test' })).toString();
  t.regex(text, /^X-Sealpost-CID: bafkqaaa\r\nX-Sealpost-Error: block bafkqaaa is corrupted: its content does not match\r\n/);
  t.regex(text, /\r\nSubject: \[Sealpost\] A message could not be read\r\n/);
  t.is(stripView(Buffer.from(text)).removed, 2);
});

test('X-Sealpost-Custodians: a number from 1 to 64, else EXPIRY_INVALID; absent is null', (t) => {
  t.is(requestedCustodians(headerFields(msg('X-Sealpost-Custodians: 7'))), 7);
  t.is(requestedCustodians(headerFields(msg('Subject: x'))), null);
  for (const bad of ['0', '65', 'many', '-3']) {
    t.is((t.throws(() => requestedCustodians(headerFields(msg(`X-Sealpost-Custodians: ${bad}`)))) as { code?: string } | undefined)?.code, 'EXPIRY_INVALID', bad);
  }
});
