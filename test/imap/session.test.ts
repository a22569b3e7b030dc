// IMAP commands end to end over a socket, against the memory double:
// byte-level replies for state handling, mailbox commands, APPEND, STORE,
// COPY/MOVE, EXPUNGE, IDLE, CONDSTORE/QRESYNC and the limits.
import test from 'ava';
import { startHarness, PASSWORD } from './harness.ts';

const MSG = (subject: string, body = 'hello'): string =>
  `From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n${body}\r\n`;

async function appendRaw(c: Awaited<ReturnType<Awaited<ReturnType<typeof startHarness>>['login']>>, mailbox: string, raw: string, flags = ''): Promise<string> {
  const r = await c.cmd(`APPEND ${mailbox} ${flags ? `(${flags}) ` : ''}{${Buffer.byteLength(raw)}+}\r\n${raw}`);
  return r.tagged;
}

test('greeting, CAPABILITY before and after login, LOGIN failures', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const c = await h.connect();
  const greeting = await c.ready;
  t.regex(greeting, /^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS.*AUTH=PLAIN.*\] /);
  const cap = await c.cmd('CAPABILITY');
  t.regex(cap.untagged, /^\* CAPABILITY IMAP4rev1 /);
  t.notRegex(cap.untagged, /QRESYNC/);
  t.regex((await c.cmd('LOGIN alice@example.test wrong')).tagged, /^T\d+ NO \[AUTHENTICATIONFAILED\]/);
  t.regex((await c.cmd('SELECT INBOX')).tagged, /^T\d+ BAD /);
  const ok = await c.cmd(`LOGIN ALICE@example.test "${PASSWORD}"`);
  t.regex(ok.tagged, /^T\d+ OK \[CAPABILITY [^\]]*CONDSTORE[^\]]*QRESYNC/);
  t.regex((await c.cmd('LOGIN alice@example.test x')).tagged, /^T\d+ BAD /);
  t.regex((await c.cmd('LOGOUT')).all, /\* BYE .*\r\nT\d+ OK/);
});

test('AUTHENTICATE PLAIN with SASL-IR and with a continuation; LOGIN mechanism; cancel', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const ir = Buffer.from(`\0alice@example.test\0${PASSWORD}`).toString('base64');
  const a = await h.connect();
  t.regex((await a.cmd(`AUTHENTICATE PLAIN ${ir}`)).tagged, /^T\d+ OK/);
  const b = await h.connect();
  const tag = b.nextTag();
  b.write(`${tag} AUTHENTICATE PLAIN\r\n`);
  t.is(await b.line(), '+');
  b.write(`${ir}\r\n`);
  t.regex((await b.waitTagged(tag)).tagged, /OK/);
  const c = await h.connect();
  const tag2 = c.nextTag();
  c.write(`${tag2} AUTHENTICATE PLAIN\r\n`);
  await c.line();
  c.write('*\r\n');
  t.regex((await c.waitTagged(tag2)).tagged, /BAD/);
  const d = await h.connect();
  const tag3 = d.nextTag();
  d.write(`${tag3} AUTHENTICATE LOGIN\r\n`);
  t.is(await d.line(), `+ ${Buffer.from('Username:').toString('base64')}`);
  d.write(`${Buffer.from('alice@example.test').toString('base64')}\r\n`);
  await d.line();
  d.write(`${Buffer.from(PASSWORD).toString('base64')}\r\n`);
  t.regex((await d.waitTagged(tag3)).tagged, /OK/);
});

test('SELECT reports the mailbox state; EXAMINE is read-only; unknown mailbox is NO', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const c = await h.login();
  t.regex(await appendRaw(c, 'INBOX', MSG('one'), '\\Seen'), /OK \[APPENDUID \d+ 1\]/);
  t.regex(await appendRaw(c, 'INBOX', MSG('two')), /OK \[APPENDUID \d+ 2\]/);
  const sel = await c.cmd('SELECT INBOX');
  t.regex(sel.untagged, /\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)\r\n/);
  t.regex(sel.untagged, /\* 2 EXISTS\r\n\* 2 RECENT\r\n/);
  t.regex(sel.untagged, /\* OK \[UNSEEN 2\]/);
  t.regex(sel.untagged, /\* OK \[UIDVALIDITY \d+\]/);
  t.regex(sel.untagged, /\* OK \[UIDNEXT 3\]/);
  t.regex(sel.tagged, /OK \[READ-WRITE\]/);
  const ex = await c.cmd('EXAMINE inbox');
  t.regex(ex.untagged, /\* OK \[CLOSED\]/);
  t.regex(ex.untagged, /\* 0 RECENT/); // the first SELECT claimed them
  t.regex(ex.tagged, /OK \[READ-ONLY\]/);
  t.regex((await c.cmd('STORE 1 +FLAGS (\\Flagged)')).tagged, /NO \[READ-ONLY\]/);
  t.regex((await c.cmd('SELECT Nope')).tagged, /NO \[NONEXISTENT\]/);
  t.regex((await c.cmd('FETCH 1 FLAGS')).tagged, /BAD/); // deselected by the failed SELECT
});

test('LIST with special-use and children, LSUB, CREATE/RENAME/DELETE with hierarchy and UTF-7 names', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const c = await h.login();
  const list = await c.cmd('LIST "" "*"');
  t.regex(list.untagged, /\* LIST \(\\HasNoChildren\) "\/" "?INBOX"?\r\n/);
  t.regex(list.untagged, /\* LIST \(\\HasNoChildren \\Sent\) "\/" "?Sent"?\r\n/);
  t.regex(list.untagged, /\\Trash/);
  t.regex((await c.cmd('LIST "" ""')).untagged, /^\* LIST \(\\Noselect\) "\/" ""\r\n$/);
  t.regex((await c.cmd('CREATE "Projects/Zürich/2026"')).tagged, /BAD/); // raw 8-bit is not modified UTF-7
  t.regex((await c.cmd('CREATE Projects/Z&APw-rich/2026')).tagged, /OK/);
  const tree = await c.cmd('LIST "" "Projects/%"');
  t.regex(tree.untagged, /\* LIST \(\\HasChildren\) "\/" "?Projects\/Z&APw-rich"?\r\n/);
  t.notRegex(tree.untagged, /2026/);
  t.regex((await c.cmd('CREATE Projects')).tagged, /NO \[ALREADYEXISTS\]/);
  t.regex((await c.cmd('DELETE Projects')).tagged, /NO \[HASCHILDREN\]/);
  t.regex((await c.cmd('RENAME Projects Work')).tagged, /OK/);
  const after = await c.cmd('LIST "" "Work*"');
  t.regex(after.untagged, /Work\/Z&APw-rich\/2026/);
  t.regex((await c.cmd('DELETE INBOX')).tagged, /NO/);
  t.regex((await c.cmd('SUBSCRIBE Work')).tagged, /OK/);
  t.regex((await c.cmd('SUBSCRIBE Gone')).tagged, /OK/);
  const lsub = await c.cmd('LSUB "" "*"');
  t.regex(lsub.untagged, /\* LSUB \([^)]*\) "\/" "?Work"?\r\n/);
  t.regex(lsub.untagged, /\* LSUB \(\\Noselect\) "\/" "?Gone"?\r\n/);
  const ext = await c.cmd('LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)');
  t.regex(ext.untagged, /\\Subscribed/);
  t.regex(ext.untagged, /\\NonExistent/);
  const st = await c.cmd('LIST "" "INBOX" RETURN (STATUS (MESSAGES UIDNEXT))');
  t.regex(st.untagged, /\* STATUS "?INBOX"? \(MESSAGES 0 UIDNEXT 1\)/);
});

test('STATUS, APPEND errors, STORE variants, COPY/MOVE with COPYUID, EXPUNGE numbering', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const c = await h.login();
  for (const s of ['a', 'b', 'c', 'd']) await appendRaw(c, 'INBOX', MSG(s));
  t.regex((await c.cmd('APPEND Nowhere {3+}\r\nabc')).tagged, /NO \[TRYCREATE\]/);
  t.regex((await c.cmd('STATUS INBOX (MESSAGES UNSEEN UIDNEXT HIGHESTMODSEQ)')).untagged, /\* STATUS "?INBOX"? \(MESSAGES 4 UNSEEN 4 UIDNEXT 5 HIGHESTMODSEQ \d+\)/);
  await c.cmd('SELECT INBOX');
  const st = await c.cmd('STORE 1:2 +FLAGS (\\Seen \\Deleted)');
  t.regex(st.untagged, /\* 1 FETCH \(FLAGS \(\\Seen \\Deleted \\Recent\)\)\r\n\* 2 FETCH/);
  t.is((await c.cmd('STORE 3 +FLAGS.SILENT (\\Flagged)')).untagged, '');
  const uidStore = await c.cmd('UID STORE 3 -FLAGS ($Label1)');
  t.regex(uidStore.untagged, /\* 3 FETCH \(UID 3 FLAGS \(\\Flagged \\Recent\)\)/);
  t.regex((await c.cmd('STORE 1 +FLAGS (\\Bogus)')).tagged, /BAD/);
  t.regex((await c.cmd('STORE 9 +FLAGS (\\Seen)')).tagged, /BAD/);
  const copy = await c.cmd('UID COPY 3:4 Archive');
  t.regex(copy.tagged, /OK \[COPYUID \d+ 3:4 1:2\]/);
  const exp = await c.cmd('EXPUNGE');
  t.is(exp.untagged, '* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n');
  const mv = await c.cmd('MOVE 1 Trash');
  t.regex(mv.untagged, /^\* OK \[COPYUID \d+ 3 1\] Moved\r\n\* 1 EXPUNGE\r\n$/);
  t.regex((await c.cmd('STATUS Trash (MESSAGES)')).untagged, /MESSAGES 1/);
  t.regex((await c.cmd('COPY 1 Nowhere')).tagged, /NO \[TRYCREATE\]/);
  const self = await c.cmd('COPY 1 INBOX');
  t.regex(self.untagged, /^\* 2 EXISTS\r\n/, 'a copy into the selected mailbox is announced in the same reply');
});

test('changes in one session reach another: EXISTS, FETCH FLAGS, EXPUNGE; IDLE pushes at once', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const a = await h.login();
  const b = await h.login();
  await appendRaw(a, 'INBOX', MSG('first'));
  await a.cmd('SELECT INBOX');
  await b.cmd('SELECT INBOX');
  const tag = b.nextTag();
  b.write(`${tag} IDLE\r\n`);
  t.is(await b.line(), '+ idling');
  await appendRaw(a, 'INBOX', MSG('second'));
  t.is(await b.line(), '* 2 EXISTS');
  t.regex(await b.line(), /^\* \d RECENT$/);
  await a.cmd('STORE 1 +FLAGS (\\Seen)');
  t.regex(await b.line(), /^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\)\)$/);
  await a.cmd('STORE 1 +FLAGS (\\Deleted)');
  await b.line();
  await a.cmd('EXPUNGE');
  t.is(await b.line(), '* 1 EXPUNGE');
  b.write('DONE\r\n');
  t.regex((await b.waitTagged(tag)).tagged, /OK Idle completed/);
  // Without IDLE, updates come with the next command; not during FETCH for EXPUNGE.
  await appendRaw(a, 'INBOX', MSG('third'));
  await a.cmd('STORE 1 +FLAGS (\\Deleted)');
  await a.cmd('EXPUNGE');
  const f = await b.cmd('FETCH 1 FLAGS');
  t.notRegex(f.untagged, /EXPUNGE/);
  t.regex(f.untagged, /\* 2 EXISTS/);
  const n = await b.cmd('NOOP');
  t.regex(n.untagged, /\* 1 EXPUNGE/);
});

test('CONDSTORE: HIGHESTMODSEQ, UNCHANGEDSINCE with MODIFIED, FETCH CHANGEDSINCE; QRESYNC select reports VANISHED', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const c = await h.login();
  for (const s of ['a', 'b', 'c']) await appendRaw(c, 'INBOX', MSG(s));
  const sel = await c.cmd('SELECT INBOX (CONDSTORE)');
  const hms = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.untagged)![1]);
  const uidValidity = /UIDVALIDITY (\d+)/.exec(sel.untagged)![1];
  const st = await c.cmd('STORE 1 +FLAGS (\\Flagged)');
  t.regex(st.untagged, /\* 1 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \((\d+)\)\)/);
  const cond = await c.cmd(`STORE 1,2 (UNCHANGEDSINCE ${hms}) +FLAGS (\\Seen)`);
  t.regex(cond.tagged, /OK \[MODIFIED 1\]/);
  const ch = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms})`);
  t.regex(ch.untagged, /UID 1 .*MODSEQ/);
  t.regex(ch.untagged, /UID 2 .*MODSEQ/);
  t.notRegex(ch.untagged, /UID 3 /);
  await c.cmd('STORE 3 +FLAGS (\\Deleted)');
  await c.cmd('EXPUNGE');
  const q = await h.login();
  t.regex((await q.cmd('ENABLE QRESYNC')).untagged, /\* ENABLED QRESYNC/);
  const qs = await q.cmd(`SELECT INBOX (QRESYNC (${uidValidity} ${hms} 1:3))`);
  t.regex(qs.untagged, /\* VANISHED \(EARLIER\) 3\r\n/);
  t.regex(qs.untagged, /\* 1 FETCH \(UID 1 FLAGS \([^)]*\) MODSEQ \(\d+\)\)/);
  t.regex(qs.untagged, /\* 2 FETCH \(UID 2 /);
  // UID 3 (the highest) is gone: VANISHED must still name it, since it lies inside 1:*.
  const van = await q.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms} VANISHED)`);
  t.regex(van.untagged, /^\* VANISHED \(EARLIER\) 3\r\n/);
});

test('limits: long line, huge literal refused before reading, bad commands keep the session', async (t) => {
  const h = await startHarness({ limits: { maxLineLength: 1000, maxLiteralSize: 5000, maxConnectionsPerAccount: 2 } });
  t.teardown(() => h.close());
  const c = await h.login();
  c.write(`X1 NOOP ${'a'.repeat(2000)}\r\n`);
  t.regex(await c.line(), /^X1 BAD /);
  t.regex((await c.cmd('NOOP')).tagged, /OK/);
  c.write('X2 APPEND INBOX {999999}\r\n');
  t.regex(await c.line(), /^X2 NO \[TOOBIG\]/);
  t.regex((await c.cmd('FROBNICATE')).tagged, /BAD/);
  t.regex((await c.cmd('FETCH')).tagged, /BAD/);
  t.regex((await c.cmd('SELECT "unterminated')).tagged, /BAD/);
  t.regex((await c.cmd('NOOP')).tagged, /OK/);
  await h.login();
  const third = await h.connect();
  t.regex((await third.cmd(`LOGIN alice@example.test "${PASSWORD}"`)).tagged, /NO \[LIMIT\]/);
});
