// The MailStore contract (src/mailstore/types.ts), run against every backend:
// the memory double (memory.test.ts) and SQLite (sqlite.test.ts). Checks the
// RFC 3501 §2.3.1 UID/UIDVALIDITY rules, RFC 7162 MODSEQ bookkeeping, the
// mailbox operations of §6.3, the wrapped cache key and the delivery queue.
// Errors are checked by `code`.
import test, { type ExecutionContext } from 'ava';
import type { Account, AccountId, MailboxId, MailboxInfo, MailStore, ModSeq, Uid } from '../../src/mailstore/types.ts';

export const SECRETS = { passwordHash: 'hash', publicKey: 'pub', privateKey: 'priv', fingerprint: 'ABCD' };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A small message with bare LF line endings (the store must make them CRLF). */
export function message(subject: string, body = 'hello'): Uint8Array {
  return enc.encode(`From: a@example.test\nTo: b@example.test\nSubject: ${subject}\n\n${body}\n`);
}

const uids = (...n: number[]): Uid[] => n as Uid[];

export function runMailStoreContract(name: string, makeStore: () => Promise<MailStore>): void {
  interface Ctx { store: MailStore; account: Account; inbox: MailboxInfo }
  const setup = async (t: ExecutionContext): Promise<Ctx> => {
    const store = await makeStore();
    t.teardown(() => store.close());
    const account = await store.createAccount({ address: 'Alice@Example.TEST', name: 'Alice', ...SECRETS });
    const inbox = await store.getMailbox(account.id, 'INBOX');
    if (!inbox) throw new Error('no INBOX');
    return { store, account, inbox };
  };
  const fill = async (store: MailStore, box: MailboxId, n: number): Promise<Uid[]> => {
    const out: Uid[] = [];
    for (let i = 0; i < n; i++) out.push((await store.append(box, { raw: message(`m${i + 1}`) })).uid);
    return out;
  };
  const code = { instanceOf: Error };

  test(`${name}: accounts are created once, found case-insensitively, secrets kept`, async (t) => {
    const { store, account } = await setup(t);
    t.is(account.address, 'alice@example.test');
    t.is(account.name, 'Alice');
    t.true(account.createdAt instanceof Date);
    t.is((await store.getAccount('ALICE@example.test'))?.id, account.id);
    t.is((await store.getAccountById(account.id))?.address, 'alice@example.test');
    t.is(await store.getAccount('nobody@example.test'), null);
    t.is(await store.getAccountById(9999 as Account['id']), null);
    const err = await t.throwsAsync(store.createAccount({ address: 'alice@EXAMPLE.test', name: 'x', ...SECRETS }), code);
    t.is((err as { code?: string }).code, 'ALREADY_EXISTS');
    const bob = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
    t.deepEqual((await store.listAccounts()).map((a) => a.address).sort(), ['alice@example.test', 'bob@example.test']);
    t.deepEqual(await store.getSecrets(account.id), SECRETS);
    await store.updateSecrets(account.id, { passwordHash: 'new' });
    t.deepEqual(await store.getSecrets(account.id), { ...SECRETS, passwordHash: 'new' });
    t.deepEqual(await store.getSecrets(bob.id), SECRETS);
    t.is((await t.throwsAsync(store.getSecrets(9999 as Account['id'])) as { code?: string }).code, 'NOT_FOUND');
  });

  test(`${name}: ENVELOPE/BODYSTRUCTURE text is cached and headerContains filters on decoded headers`, async (t) => {
    const { store, inbox } = await setup(t);
    await store.append(inbox.id, { raw: message('=?utf-8?q?Gr=C3=B6=C3=9Fe_pr=C3=BCfen?=') });
    await store.append(inbox.id, { raw: message('plain invoice') });
    const all = await store.getMessages(inbox.id, uids(1, 2), { summary: true });
    t.regex(all[0]!.summary!.envelope, /^\(NIL "=\?utf-8\?q\?Gr=C3=B6=C3=9Fe_pr=C3=BCfen\?=" \(\(NIL NIL "a" "example.test"\)\)/);
    t.regex(all[1]!.summary!.bodyStructure, /^\("text" "plain" \("charset" "us-ascii"\) NIL NIL "7bit" \d+ 1 /);
    t.deepEqual((await store.getMessages(inbox.id, uids(1, 2), { headerContains: 'größe' })).map((m) => m.uid), uids(1));
    t.deepEqual((await store.getMessages(inbox.id, uids(1, 2), { headerContains: 'subject: plain' })).map((m) => m.uid), uids(2));
    t.deepEqual((await store.getMessages(inbox.id, uids(1, 2), { headerContains: 'nowhere' })), []);
  });

  test(`${name}: new accounts get the default mailboxes with special-use`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const list = await store.listMailboxes(account.id);
    t.deepEqual(list.map((m) => [m.name, m.specialUse]), [
      ['INBOX', null], ['Archive', '\\Archive'], ['Drafts', '\\Drafts'], ['Junk', '\\Junk'], ['Sent', '\\Sent'], ['Trash', '\\Trash'],
    ]);
    t.is(new Set(list.map((m) => m.uidValidity)).size, list.length);
    t.is<number, number>(inbox.uidNext, 1);
    t.true(inbox.highestModSeq >= 1);
    t.is(inbox.accountId, account.id);
    t.is((await store.getMailbox(account.id, 'inbox'))?.id, inbox.id);
    t.is((await store.getMailbox(account.id, 'InBoX'))?.id, inbox.id);
    t.is(await store.getMailbox(account.id, 'sent'), null, 'other names are case-sensitive');
    t.is((await store.getMailboxById(inbox.id))?.name, 'INBOX');
    t.is(await store.getMailboxById(9999 as MailboxId), null);
  });

  test(`${name}: mailbox names are validated`, async (t) => {
    const { store, account } = await setup(t);
    for (const bad of ['', 'a//b', 'a/', '/a', 'a\nb', 'a\rb', 'a\0b', 'x'.repeat(256)]) {
      const err = await t.throwsAsync(store.createMailbox(account.id, bad), undefined, JSON.stringify(bad));
      t.is((err as { code?: string }).code, 'INVALID', JSON.stringify(bad));
    }
    t.is((await store.createMailbox(account.id, 'x'.repeat(255))).name.length, 255);
    const work = await store.createMailbox(account.id, 'Work/Projects', '\\Archive');
    t.is(work.specialUse, '\\Archive');
    t.is<number, number>(work.uidNext, 1);
    t.is((await t.throwsAsync(store.createMailbox(account.id, 'Work/Projects')) as { code?: string }).code, 'ALREADY_EXISTS');
    t.is((await t.throwsAsync(store.createMailbox(account.id, 'inbox')) as { code?: string }).code, 'ALREADY_EXISTS');
    t.is((await store.createMailbox(account.id, 'inbox/child')).name, 'INBOX/child');
  });

  test(`${name}: UIDVALIDITY survives rename and changes on delete + create`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const a = await store.createMailbox(account.id, 'A');
    const renamed = await store.renameMailbox(a.id, 'B');
    t.is(renamed.id, a.id);
    t.is(renamed.name, 'B');
    t.is(renamed.uidValidity, a.uidValidity);
    await store.deleteMailbox(a.id);
    t.is(await store.getMailboxById(a.id), null);
    const again = await store.createMailbox(account.id, 'B');
    t.not(again.uidValidity, a.uidValidity);
    t.true(again.uidValidity > a.uidValidity);
    t.is((await t.throwsAsync(store.deleteMailbox(inbox.id)) as { code?: string }).code, 'NOT_ALLOWED');
    t.is((await t.throwsAsync(store.deleteMailbox(a.id)) as { code?: string }).code, 'NOT_FOUND');
  });

  test(`${name}: UIDs ascend and are never reused after expunge`, async (t) => {
    const { store, inbox } = await setup(t);
    t.deepEqual(await fill(store, inbox.id, 3), uids(1, 2, 3));
    await store.storeFlags(inbox.id, uids(3), 'add', ['\\Deleted']);
    t.deepEqual(await store.expunge(inbox.id), uids(3));
    const r = await store.append(inbox.id, { raw: message('m4') });
    t.is<number, number>(r.uid, 4);
    t.is(r.uidValidity, inbox.uidValidity);
    t.deepEqual((await store.listMessages(inbox.id)).map((m) => m.uid), uids(1, 2, 4));
    t.is<number | undefined, number | undefined>((await store.getMailboxById(inbox.id))?.uidNext, 5);
  });

  test(`${name}: append normalises line endings and caches structure and header`, async (t) => {
    const { store, inbox } = await setup(t);
    const date = new Date('2024-02-03T04:05:06Z');
    const raw = message('hi', 'line1\r\nline2\rline3');
    const { uid } = await store.append(inbox.id, { raw, flags: ['\\seen', '\\Recent', 'MyKeyword', '\\SEEN'], internalDate: date });
    const body = await store.getBody(inbox.id, uid);
    const text = dec.decode(body);
    t.is(text, 'From: a@example.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\nline1\r\nline2\r\nline3\r\n');
    t.false(/[^\r]\n/.test(text));
    const [rec] = await store.getMessages(inbox.id, [uid], { structure: true, header: true });
    if (!rec) throw new Error('missing record');
    t.is(rec.size, body.byteLength);
    t.is(rec.internalDate.getTime(), date.getTime());
    t.deepEqual(rec.flags, ['\\Seen', 'MyKeyword']);
    t.is(rec.structure?.type.toLowerCase(), 'text');
    t.is(rec.structure?.envelope?.subject, 'hi');
    t.is(dec.decode(rec.header), 'From: a@example.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\n');
    t.is(rec.structure?.bodyStart, rec.header?.byteLength);
    const [plain] = await store.getMessages(inbox.id, [uid]);
    t.is(plain?.structure, undefined);
    t.is(plain?.header, undefined);
    raw.fill(0); // the caller's buffer is not the stored one
    t.is(dec.decode(await store.getBody(inbox.id, uid)), text);
    t.is((await t.throwsAsync(store.getBody(inbox.id, 99 as Uid)) as { code?: string }).code, 'NOT_FOUND');
    t.is((await t.throwsAsync(store.append(9999 as MailboxId, { raw })) as { code?: string }).code, 'NOT_FOUND');
  });

  test(`${name}: getMessages returns existing UIDs ascending and skips missing ones`, async (t) => {
    const { store, inbox } = await setup(t);
    await fill(store, inbox.id, 30);
    await store.storeFlags(inbox.id, uids(10, 11), 'add', ['\\Deleted']);
    await store.expunge(inbox.id);
    const got = await store.getMessages(inbox.id, uids(30, 1, 11, 2, 3, 99, 12, 10, 9, 2, 20, 21, 22));
    t.deepEqual(got.map((m) => m.uid), uids(1, 2, 3, 9, 12, 20, 21, 22, 30));
    t.deepEqual(await store.getMessages(inbox.id, []), []);
    const all = Array.from({ length: 40 }, (_, i) => (i + 1) as Uid);
    t.is((await store.getMessages(inbox.id, all, { structure: true })).length, 28);
  });

  test(`${name}: flags add, remove and replace, with canonical system flags`, async (t) => {
    const { store, inbox } = await setup(t);
    await fill(store, inbox.id, 2);
    const before = (await store.getMailboxById(inbox.id))?.highestModSeq as ModSeq;
    let r = await store.storeFlags(inbox.id, uids(1, 2), 'add', ['\\flagged', 'Work']);
    t.deepEqual(r.changed.map((m) => [m.uid, m.flags]), [[1, ['\\Flagged', 'Work']], [2, ['\\Flagged', 'Work']]]);
    t.deepEqual(r.unchanged, []);
    t.true(r.changed.every((m) => m.modSeq > before));
    r = await store.storeFlags(inbox.id, uids(1), 'add', ['\\FLAGGED', 'work']);
    t.deepEqual(r.changed, []);
    t.deepEqual(r.unchanged.map((m) => m.uid), uids(1));
    t.is((await store.getMailboxById(inbox.id))?.highestModSeq, r.unchanged[0]?.modSeq, 'no-op does not bump MODSEQ');
    r = await store.storeFlags(inbox.id, uids(1), 'remove', ['WORK', '\\Seen']);
    t.deepEqual(r.changed.map((m) => m.flags), [['\\Flagged']]);
    r = await store.storeFlags(inbox.id, uids(2), 'replace', ['\\Seen', '\\Answered', '\\Recent']);
    t.deepEqual(r.changed.map((m) => m.flags), [['\\Seen', '\\Answered']]);
    r = await store.storeFlags(inbox.id, uids(2), 'replace', ['\\answered', '\\seen']);
    t.deepEqual(r.changed, [], 'same set in another order is no change');
    r = await store.storeFlags(inbox.id, uids(2, 7), 'remove', ['\\Draft']);
    t.deepEqual(r.unchanged.map((m) => m.uid), uids(2), 'missing UIDs are skipped');
    t.deepEqual((await store.listMessages(inbox.id)).map((m) => m.flags), [['\\Flagged'], ['\\Seen', '\\Answered']]);
    t.is((await t.throwsAsync(store.storeFlags(inbox.id, uids(1), 'add', ['bad flag'])) as { code?: string }).code, 'INVALID');
  });

  test(`${name}: STORE UNCHANGEDSINCE refuses messages modified after it`, async (t) => {
    const { store, inbox } = await setup(t);
    await fill(store, inbox.id, 3);
    const states = await store.listMessages(inbox.id);
    const since = states[1]?.modSeq as ModSeq; // message 3 was appended after this
    const r = await store.storeFlags(inbox.id, uids(1, 2, 3), 'add', ['\\Seen'], since);
    t.deepEqual(r.modified, uids(3));
    t.deepEqual(r.changed.map((m) => m.uid), uids(1, 2));
    t.deepEqual((await store.listMessages(inbox.id)).map((m) => m.flags.length), [1, 1, 0]);
    const r2 = await store.storeFlags(inbox.id, uids(1), 'add', ['\\Seen'], 0 as ModSeq);
    t.deepEqual(r2.modified, uids(1));
  });

  test(`${name}: every change bumps MODSEQ and changesSince reports changes and expunges`, async (t) => {
    const { store, inbox } = await setup(t);
    await fill(store, inbox.id, 4);
    const m0 = (await store.status(inbox.id)).highestModSeq;
    const states = await store.listMessages(inbox.id);
    t.deepEqual(states.map((s) => s.modSeq), [...states.map((s) => s.modSeq)].sort((a, b) => a - b));
    t.is(states[3]?.modSeq, m0);
    await store.storeFlags(inbox.id, uids(2), 'add', ['\\Seen']);
    await store.storeFlags(inbox.id, uids(4), 'add', ['\\Deleted']);
    await store.expunge(inbox.id);
    const m1 = (await store.status(inbox.id)).highestModSeq;
    t.true(m1 > m0 + 2);
    const c = await store.changesSince(inbox.id, m0);
    t.deepEqual(c.changed.map((s) => [s.uid, s.flags]), [[2, ['\\Seen']]]);
    t.deepEqual(c.expunged, uids(4));
    t.is(c.highestModSeq, m1);
    const none = await store.changesSince(inbox.id, m1);
    t.deepEqual([none.changed, none.expunged], [[], []]);
    const all = await store.changesSince(inbox.id, 0 as ModSeq);
    t.deepEqual(all.changed.map((s) => s.uid), uids(1, 2, 3));
  });

  test(`${name}: copy and move map UIDs and keep flags; move empties the source`, async (t) => {
    const { store, account, inbox } = await setup(t);
    await fill(store, inbox.id, 4);
    await store.storeFlags(inbox.id, uids(2), 'add', ['\\Seen', 'Tag']);
    const dest = await store.createMailbox(account.id, 'Dest');
    await fill(store, dest.id, 1);
    const c = await store.copy(inbox.id, uids(3, 2, 9), dest.id);
    t.is(c.uidValidity, dest.uidValidity);
    t.deepEqual(c.map, [[2, 2], [3, 3]]);
    const copied = await store.getMessages(dest.id, uids(2, 3));
    t.deepEqual(copied.map((m) => m.flags), [['\\Seen', 'Tag'], []]);
    t.deepEqual(await store.getBody(dest.id, 2 as Uid), await store.getBody(inbox.id, 2 as Uid));
    t.is((await store.listMessages(inbox.id)).length, 4, 'copy leaves the source alone');
    const before = (await store.status(inbox.id)).highestModSeq;
    const m = await store.move(inbox.id, uids(1, 2), dest.id);
    t.deepEqual(m.map, [[1, 4], [2, 5]]);
    t.deepEqual((await store.listMessages(inbox.id)).map((s) => s.uid), uids(3, 4));
    t.deepEqual((await store.changesSince(inbox.id, before)).expunged, uids(1, 2));
    t.is((await store.status(dest.id)).messages, 5);
    t.deepEqual((await store.getMessages(dest.id, uids(5)))[0]?.flags, ['\\Seen', 'Tag']);
    t.is(dec.decode(await store.getBody(dest.id, 4 as Uid)).includes('Subject: m1'), true);
    t.deepEqual((await store.copy(inbox.id, uids(77), dest.id)).map, []);
    t.is((await t.throwsAsync(store.copy(inbox.id, uids(3), 9999 as MailboxId)) as { code?: string }).code, 'NOT_FOUND');
    // bodies are shared, not tied to the first mailbox: expunging the source keeps the copy readable
    await store.storeFlags(inbox.id, uids(3), 'add', ['\\Deleted']);
    await store.expunge(inbox.id);
    t.true(dec.decode(await store.getBody(dest.id, 3 as Uid)).includes('Subject: m3'));
  });

  test(`${name}: expunge removes only \\Deleted messages, restricted to the given UIDs`, async (t) => {
    const { store, inbox } = await setup(t);
    await fill(store, inbox.id, 5);
    const before = (await store.status(inbox.id)).highestModSeq;
    t.deepEqual(await store.expunge(inbox.id), [], 'nothing flagged');
    t.is((await store.status(inbox.id)).highestModSeq, before, 'empty expunge changes nothing');
    await store.storeFlags(inbox.id, uids(1, 3, 5), 'add', ['\\deleted']);
    t.deepEqual(await store.expunge(inbox.id, uids(5, 3, 2)), uids(3, 5));
    t.deepEqual((await store.listMessages(inbox.id)).map((m) => m.uid), uids(1, 2, 4));
    t.deepEqual(await store.expunge(inbox.id), uids(1));
    t.deepEqual((await store.listMessages(inbox.id)).map((m) => m.uid), uids(2, 4));
  });

  test(`${name}: status counts messages, unseen, recent and size`, async (t) => {
    const { store, inbox } = await setup(t);
    let s = await store.status(inbox.id);
    t.deepEqual([s.messages, s.unseen, s.recent, s.size, s.uidNext], [0, 0, 0, 0, 1]);
    await fill(store, inbox.id, 3);
    await store.append(inbox.id, { raw: message('seen'), flags: ['\\Seen'] });
    const sizes = (await store.getMessages(inbox.id, uids(1, 2, 3, 4))).map((m) => m.size);
    s = await store.status(inbox.id);
    t.deepEqual([s.messages, s.unseen, s.recent, s.uidNext], [4, 3, 4, 5]);
    t.is(s.size, sizes.reduce((a, b) => a + b, 0));
    t.is(s.uidValidity, inbox.uidValidity);
    await store.storeFlags(inbox.id, uids(1), 'add', ['\\Seen', '\\Deleted']);
    await store.storeFlags(inbox.id, uids(4), 'remove', ['\\Seen']);
    t.is((await store.status(inbox.id)).unseen, 3);
    await store.expunge(inbox.id);
    s = await store.status(inbox.id);
    t.deepEqual([s.messages, s.unseen, s.size], [3, 3, s.size]);
    t.is(s.size, sizes.slice(1).reduce((a, b) => a + b, 0));
    t.is<number | undefined, number | undefined>(s.highestModSeq, (await store.getMailboxById(inbox.id))?.highestModSeq);
    t.is((await t.throwsAsync(store.status(9999 as MailboxId)) as { code?: string }).code, 'NOT_FOUND');
  });

  test(`${name}: claimRecent gives \\Recent to the first session only`, async (t) => {
    const { store, inbox } = await setup(t);
    await fill(store, inbox.id, 2);
    t.is<number, number>(await store.claimRecent(inbox.id), 1);
    t.is<number, number>(await store.claimRecent(inbox.id), 3, 'second session sees none recent');
    t.is((await store.status(inbox.id)).recent, 0);
    await fill(store, inbox.id, 1);
    t.is((await store.status(inbox.id)).recent, 1);
    t.is<number, number>(await store.claimRecent(inbox.id), 3);
    t.is((await store.status(inbox.id)).recent, 0);
  });

  test(`${name}: subscriptions are by name and may name missing mailboxes`, async (t) => {
    const { store, account } = await setup(t);
    t.deepEqual(await store.listSubscriptions(account.id), []);
    await store.setSubscribed(account.id, 'Sent', true);
    await store.setSubscribed(account.id, 'Ghost/Folder', true);
    await store.setSubscribed(account.id, 'inbox', true);
    await store.setSubscribed(account.id, 'Sent', true);
    t.deepEqual(await store.listSubscriptions(account.id), ['INBOX', 'Ghost/Folder', 'Sent']);
    await store.setSubscribed(account.id, 'Sent', false);
    await store.setSubscribed(account.id, 'Never', false);
    t.deepEqual(await store.listSubscriptions(account.id), ['INBOX', 'Ghost/Folder']);
    const bob = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
    t.deepEqual(await store.listSubscriptions(bob.id), []);
    t.is((await t.throwsAsync(store.setSubscribed(account.id, 'a//b', true)) as { code?: string }).code, 'INVALID');
  });

  test(`${name}: rename moves children and keeps messages; collisions refused`, async (t) => {
    const { store, account } = await setup(t);
    const a = await store.createMailbox(account.id, 'A');
    const ab = await store.createMailbox(account.id, 'A/B');
    const abc = await store.createMailbox(account.id, 'A/B/C');
    const other = await store.createMailbox(account.id, 'AB');
    await fill(store, ab.id, 2);
    await store.createMailbox(account.id, 'Taken');
    t.is((await t.throwsAsync(store.renameMailbox(a.id, 'Taken')) as { code?: string }).code, 'ALREADY_EXISTS');
    t.is((await t.throwsAsync(store.renameMailbox(a.id, 'A/B/X')) as { code?: string }).code, 'NOT_ALLOWED');
    t.is((await t.throwsAsync(store.renameMailbox(a.id, 'INBOX')) as { code?: string }).code, 'ALREADY_EXISTS');
    t.is((await t.throwsAsync(store.renameMailbox(a.id, 'bad/')) as { code?: string }).code, 'INVALID');
    const r = await store.renameMailbox(a.id, 'Z/Y');
    t.is(r.name, 'Z/Y');
    t.is((await store.getMailboxById(ab.id))?.name, 'Z/Y/B');
    t.is((await store.getMailboxById(abc.id))?.name, 'Z/Y/B/C');
    t.is((await store.getMailboxById(other.id))?.name, 'AB', 'a sibling with a common prefix stays');
    t.is((await store.getMailboxById(ab.id))?.uidValidity, ab.uidValidity);
    t.is((await store.listMessages(ab.id)).length, 2);
    t.is(await store.getMailbox(account.id, 'A/B'), null);
    // a child's new name colliding with an existing mailbox refuses the whole rename
    await store.createMailbox(account.id, 'Q/B');
    t.is((await t.throwsAsync(store.renameMailbox(r.id, 'Q')) as { code?: string }).code, 'ALREADY_EXISTS');
    t.is((await store.getMailboxById(ab.id))?.name, 'Z/Y/B');
  });

  test(`${name}: renaming INBOX moves its messages to a new mailbox and leaves INBOX empty`, async (t) => {
    const { store, account, inbox } = await setup(t);
    await fill(store, inbox.id, 3);
    await store.storeFlags(inbox.id, uids(2), 'add', ['\\Seen']);
    const child = await store.createMailbox(account.id, 'INBOX/Child');
    const before = (await store.status(inbox.id)).highestModSeq;
    const old = await store.renameMailbox(inbox.id, 'Old Mail');
    t.not(old.id, inbox.id);
    t.is(old.name, 'Old Mail');
    t.not(old.uidValidity, inbox.uidValidity);
    const moved = await store.listMessages(old.id);
    t.is(moved.length, 3);
    t.deepEqual(moved.map((m) => m.flags), [[], ['\\Seen'], []]);
    t.true(dec.decode(await store.getBody(old.id, moved[0]?.uid as Uid)).includes('Subject: m1'));
    t.is((await store.status(old.id)).messages, 3);
    t.is((await store.status(old.id)).unseen, 2);
    const after = await store.getMailbox(account.id, 'INBOX');
    t.is(after?.id, inbox.id);
    t.is(after?.uidValidity, inbox.uidValidity);
    t.is((await store.status(inbox.id)).messages, 0);
    t.deepEqual((await store.changesSince(inbox.id, before)).expunged, uids(1, 2, 3));
    t.is<number, number>((await store.append(inbox.id, { raw: message('new') })).uid, 4, 'INBOX UIDs keep growing');
    t.is((await store.getMailboxById(child.id))?.name, 'INBOX/Child', "INBOX's children stay");
  });

  test(`${name}: deleting a mailbox deletes its messages but not its children`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const p = await store.createMailbox(account.id, 'P');
    const c = await store.createMailbox(account.id, 'P/C');
    await fill(store, p.id, 2);
    await store.copy(p.id, uids(1), inbox.id);
    await store.deleteMailbox(p.id);
    t.is(await store.getMailboxById(p.id), null);
    t.is((await store.getMailboxById(c.id))?.name, 'P/C');
    t.is((await t.throwsAsync(store.listMessages(p.id)) as { code?: string }).code, 'NOT_FOUND');
    t.true(dec.decode(await store.getBody(inbox.id, 1 as Uid)).includes('Subject: m1'), 'copies survive');
    const again = await store.createMailbox(account.id, 'P');
    t.deepEqual(await store.listMessages(again.id), []);
    t.is((await store.status(again.id)).messages, 0);
  });

  test(`${name}: listeners hear about committed changes, and stop after unsubscribe`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const other = await store.createMailbox(account.id, 'Other');
    const heard: MailboxId[] = [];
    const off = store.subscribe(inbox.id, (id) => heard.push(id));
    const offOther = store.subscribe(other.id, (id) => heard.push(id));
    const wait = async (n: number): Promise<void> => {
      for (let i = 0; i < 100 && heard.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    let sync = true;
    store.subscribe(inbox.id, () => t.false(sync, 'listeners run after the change call has returned'));
    await store.append(inbox.id, { raw: message('x') });
    sync = false;
    await wait(1);
    t.deepEqual(heard, [inbox.id]);
    await store.storeFlags(inbox.id, uids(1), 'add', ['\\Seen']);
    await wait(2);
    t.is(heard.length, 2);
    await store.storeFlags(inbox.id, uids(1), 'add', ['\\Seen']);
    await store.move(inbox.id, uids(1), other.id);
    await wait(4);
    t.deepEqual(heard.slice(2).sort(), [inbox.id, other.id].sort(), 'a no-op store is not a change; move touches both');
    off();
    offOther();
    await store.append(inbox.id, { raw: message('y') });
    await new Promise((r) => setTimeout(r, 50));
    t.is(heard.length, 4);
  });

  const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
    try {
      await p;
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return 'no error';
  };

  test(`${name}: the wrapped cache key is set once by initCacheKey, replaced or cleared by setCacheKey`, async (t) => {
    const { store, account } = await setup(t);
    const bob = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
    t.is(await store.getCacheKey(account.id), null);
    const first = Uint8Array.from([1, 2, 3]);
    t.deepEqual(await store.initCacheKey(account.id, first), first);
    t.deepEqual(await store.initCacheKey(account.id, Uint8Array.from([9])), first, 'a second first-unlock gets the stored key');
    t.deepEqual(await store.getCacheKey(account.id), first);
    t.is(await store.getCacheKey(bob.id), null, 'per account');
    await store.setCacheKey(account.id, Uint8Array.from([4, 5]));
    t.deepEqual(await store.getCacheKey(account.id), Uint8Array.from([4, 5]));
    await store.setCacheKey(account.id, null);
    t.is(await store.getCacheKey(account.id), null);
    t.deepEqual(await store.initCacheKey(account.id, Uint8Array.from([6])), Uint8Array.from([6]), 'after clearing, a new key can be made');
    t.deepEqual(await store.getSecrets(account.id), SECRETS, 'secrets untouched');
    const nobody = 9999 as AccountId;
    t.is(await codeOf(store.getCacheKey(nobody)), 'NOT_FOUND');
    t.is(await codeOf(store.setCacheKey(nobody, null)), 'NOT_FOUND');
    t.is(await codeOf(store.initCacheKey(nobody, first)), 'NOT_FOUND');
  });

  test(`${name}: deliveries are queued pending, oldest first, per account`, async (t) => {
    const { store, account } = await setup(t);
    const bob = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
    t.deepEqual(await store.enqueueDeliveries([]), []);
    t.deepEqual(await store.accountsWithPending(), []);
    const before = Date.now();
    const queued = await store.enqueueDeliveries([
      { accountId: account.id, cid: 'bafy1', seq: 7, messageId: 'm1@example.test' },
      { accountId: bob.id, cid: 'bafy1', seq: 7, messageId: 'm1@example.test' },
      { accountId: account.id, cid: 'bafy2', seq: 8, messageId: null },
    ]);
    t.is(queued.length, 3);
    t.true(queued[0]!.id < queued[1]!.id && queued[1]!.id < queued[2]!.id);
    t.like(queued[0], { accountId: account.id, cid: 'bafy1', seq: 7, messageId: 'm1@example.test', state: 'pending', error: null, mailboxId: null, uid: null });
    t.true(queued[0]!.createdAt instanceof Date && queued[0]!.createdAt.getTime() >= before - 1000);
    const pending = await store.pendingDeliveries(account.id, 10);
    t.deepEqual(pending.map((d) => d.cid), ['bafy1', 'bafy2']);
    t.deepEqual(pending[0], queued[0]);
    t.deepEqual((await store.pendingDeliveries(account.id, 1)).map((d) => d.id), [queued[0]!.id]);
    t.deepEqual((await store.pendingDeliveries(bob.id, 10)).map((d) => d.id), [queued[1]!.id]);
    t.deepEqual(await store.accountsWithPending(), [account.id, bob.id]);
    t.deepEqual((await store.findDeliveries({ messageId: 'm1@example.test' })).map((d) => d.accountId), [account.id, bob.id]);
    t.deepEqual((await store.findDeliveries({ cid: 'bafy2' })).map((d) => d.id), [queued[2]!.id]);
    t.deepEqual(await store.findDeliveries({ cid: 'nothing' }), []);
    t.deepEqual(await store.findDeliveries({ messageId: 'nothing' }), []);
    t.is(await codeOf(store.pendingDeliveries(account.id, 0)), 'INVALID');
  });

  test(`${name}: a queued batch is all or nothing and is validated`, async (t) => {
    const { store, account } = await setup(t);
    const good = { accountId: account.id, cid: 'bafy1', seq: 1, messageId: null };
    t.is(await codeOf(store.enqueueDeliveries([good, { ...good, accountId: 9999 as AccountId }])), 'NOT_FOUND');
    for (const bad of [{ ...good, cid: '' }, { ...good, cid: 'a b' }, { ...good, seq: -1 }, { ...good, seq: 1.5 }, { ...good, messageId: 'a\r\nb' }]) {
      const err = await t.throwsAsync(store.enqueueDeliveries([good, bad]));
      t.is((err as { code?: string }).code, 'INVALID', JSON.stringify(bad));
    }
    t.deepEqual(await store.pendingDeliveries(account.id, 10), [], 'nothing of a refused batch is queued');
    t.deepEqual(await store.accountsWithPending(), []);
  });

  test(`${name}: deliver appends and marks delivered at once; only pending deliveries`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const bob = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
    const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!;
    const [d1, d2, d3] = await store.enqueueDeliveries([
      { accountId: account.id, cid: 'bafy1', seq: 1, messageId: 'x@example.test' },
      { accountId: account.id, cid: 'bafy2', seq: 2, messageId: null },
      { accountId: account.id, cid: 'bafy3', seq: 3, messageId: null },
    ]);
    const heard: MailboxId[] = [];
    store.subscribe(inbox.id, (id) => heard.push(id));
    const date = new Date('2024-05-06T07:08:09Z');
    const r = await store.deliver(d1!.id, inbox.id, { raw: message('delivered', 'secret words'), flags: ['\\Flagged'], internalDate: date });
    t.is(r.uidValidity, inbox.uidValidity);
    t.is<number, number>(r.uid, 1);
    t.true(dec.decode(await store.getBody(inbox.id, r.uid)).includes('secret words'));
    const [rec] = await store.getMessages(inbox.id, [r.uid]);
    t.deepEqual(rec?.flags, ['\\Flagged']);
    t.is(rec?.internalDate.getTime(), date.getTime());
    const [after] = await store.findDeliveries({ cid: 'bafy1' });
    t.like(after, { id: d1!.id, state: 'delivered', mailboxId: inbox.id, uid: r.uid, error: null });
    t.deepEqual((await store.pendingDeliveries(account.id, 10)).map((d) => d.id), [d2!.id, d3!.id]);
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    t.deepEqual(heard, [inbox.id], 'IDLE sessions hear about a delivery like an append');

    t.is(await codeOf(store.deliver(d1!.id, inbox.id, { raw: message('again') })), 'ALREADY_EXISTS');
    t.is(await codeOf(store.deliver(99999, inbox.id, { raw: message('ghost') })), 'NOT_FOUND');
    t.is(await codeOf(store.deliver(d2!.id, 99999 as MailboxId, { raw: message('nowhere') })), 'NOT_FOUND');
    t.is(await codeOf(store.deliver(d2!.id, bobInbox.id, { raw: message('wrong account') })), 'NOT_ALLOWED');
    t.is((await store.status(inbox.id)).messages, 1, 'refused deliveries append nothing');
    t.is((await store.status(bobInbox.id)).messages, 0);
    t.is((await store.findDeliveries({ cid: 'bafy2' }))[0]?.state, 'pending', 'and leave the delivery pending');

    await store.failDelivery(d2!.id, 'cannot decrypt:\r\nbad MDC');
    t.like((await store.findDeliveries({ cid: 'bafy2' }))[0], { state: 'failed', error: 'cannot decrypt: bad MDC', mailboxId: null, uid: null });
    t.is(await codeOf(store.deliver(d2!.id, inbox.id, { raw: message('late') })), 'ALREADY_EXISTS');
    t.is(await codeOf(store.failDelivery(d2!.id, 'twice')), 'ALREADY_EXISTS');
    t.is(await codeOf(store.failDelivery(d1!.id, 'was delivered')), 'ALREADY_EXISTS');
    t.is(await codeOf(store.failDelivery(99999, 'ghost')), 'NOT_FOUND');
    t.deepEqual(await store.accountsWithPending(), [account.id]);
    await store.deliver(d3!.id, inbox.id, { raw: message('last') });
    t.deepEqual(await store.accountsWithPending(), []);
    t.deepEqual(await store.pendingDeliveries(account.id, 10), []);
  });

  test(`${name}: expiring messages leave every mailbox at their expiry, copies too, as expunges`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const sent = await store.getMailbox(account.id, 'Sent');
    if (!sent) throw new Error('no Sent');
    const T = 1_800_000_000_000;
    const keep = await store.append(inbox.id, { raw: message('plain') });
    const soon = await store.append(inbox.id, { raw: message('soon'), expires: T + 1000 });
    const later = await store.append(inbox.id, { raw: message('later'), expires: T + 5000 });
    const copied = await store.copy(inbox.id, [soon.uid], sent.id);
    const [[, copyUid] = []] = copied.map;
    t.is(await store.nextExpiry(), T + 1000);
    const heard: MailboxId[] = [];
    store.subscribe(inbox.id, (id) => heard.push(id));
    store.subscribe(sent.id, (id) => heard.push(id));
    const before = (await store.status(inbox.id)).highestModSeq;

    t.is(await store.expireMessages(T + 999), 0, 'nothing is due a millisecond early');
    t.is(await store.expireMessages(T + 1000), 2, 'due at the instant: the message and its copy');
    t.deepEqual((await store.listMessages(inbox.id)).map((m) => m.uid), [keep.uid, later.uid]);
    t.deepEqual(await store.listMessages(sent.id), []);
    t.is(await codeOf(store.getBody(sent.id, copyUid as Uid)), 'NOT_FOUND');
    const changes = await store.changesSince(inbox.id, before);
    t.deepEqual(changes.expunged, [soon.uid], 'QRESYNC clients learn of it as VANISHED');
    for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((res) => setTimeout(res, 10));
    t.deepEqual([...new Set(heard)].sort(), [inbox.id, sent.id].sort(), 'IDLE sessions of both mailboxes are told');
    t.is(await store.nextExpiry(), T + 5000);

    // MOVE keeps the expiry too.
    const moved = await store.move(inbox.id, [later.uid], sent.id);
    t.is(moved.map.length, 1);
    t.is(await store.expireMessages(T + 5000), 1);
    t.deepEqual(await store.listMessages(sent.id), []);
    t.is(await store.nextExpiry(), null);
    t.is((await store.status(inbox.id)).messages, 1, 'the message without expiry stays');
  });

  test(`${name}: a sent message's expiry is remembered per account until it passes`, async (t) => {
    const { store, account } = await setup(t);
    const bob = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
    const T = 1_800_000_000_000;
    await store.rememberSentExpiry(account.id, 'm1@example.test', T + 1000);
    t.is(await store.sentExpiry(account.id, 'm1@example.test'), T + 1000);
    t.is(await store.sentExpiry(bob.id, 'm1@example.test'), null, 'only for the account that sent it');
    t.is(await store.sentExpiry(account.id, 'other@example.test'), null);
    await store.expireMessages(T + 1000);
    t.is(await store.sentExpiry(account.id, 'm1@example.test'), null, 'forgotten once it has passed');
    t.is(await codeOf(store.rememberSentExpiry(9999 as AccountId, 'x@y', T)), 'NOT_FOUND');
  });

  test(`${name}: a remote delivery (origin set) is queued once per account, however often it arrives`, async (t) => {
    const { store, account } = await setup(t);
    const origin = Buffer.alloc(32, 7).toString('base64');
    const [first] = await store.enqueueDeliveries([{ accountId: account.id, cid: 'bafyR', seq: 9, messageId: null, origin }]);
    t.is(first?.origin, origin);
    const [again] = await store.enqueueDeliveries([{ accountId: account.id, cid: 'bafyR', seq: 9, messageId: null, origin }]);
    t.is(again?.id, first?.id, 'the second arrival returns the queued row');
    const [local] = await store.enqueueDeliveries([{ accountId: account.id, cid: 'bafyL', seq: 9, messageId: null }]);
    t.is(local?.origin, null, 'the same seq from this node is another record');
    t.is((await store.pendingDeliveries(account.id, 10)).length, 2);
    t.is(await codeOf(store.enqueueDeliveries([{ accountId: account.id, cid: 'bafyX', seq: 1, messageId: null, origin: 'not a node id' }])), 'INVALID');
  });

  test(`${name}: imports append once per source, keep flags, date and where they are sealed`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const other = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
    const date = new Date('2011-03-04T05:06:07Z');
    const first = await store.importMessages(inbox.id, [
      { raw: message('a'), source: 'src:1', flags: ['\\Seen', '$Label1'], internalDate: date, sealed: { cid: 'bafyA', offset: 0 } },
      { raw: message('b'), source: 'src:2' },
      { raw: message('b again'), source: 'src:2' },
    ]);
    t.deepEqual(first.map((r) => r?.uid ?? null), [1, 2, null], 'a source twice in one call is imported once');
    const again = await store.importMessages(inbox.id, [{ raw: message('a'), source: 'src:1' }, { raw: message('c'), source: 'src:3' }]);
    t.deepEqual(again.map((r) => r?.uid ?? null), [null, 3]);
    t.deepEqual([...(await store.importedSources(account.id, ['src:1', 'src:3', 'src:9']))].sort(), ['src:1', 'src:3']);
    t.is((await store.importedSources(other.id, ['src:1'])).size, 0, 'per account');
    const [ref] = await store.messageRefs(inbox.id);
    t.deepEqual(ref?.flags.sort(), ['$Label1', '\\Seen']);
    t.is(ref?.internalDate.getTime(), date.getTime());
    t.deepEqual(ref?.sealed, { cid: 'bafyA', offset: 0 });
    // Expunged, it stays imported: running the import again does not bring it back.
    await store.storeFlags(inbox.id, uids(1), 'add', ['\\Deleted']);
    await store.expunge(inbox.id);
    t.deepEqual((await store.importMessages(inbox.id, [{ raw: message('a'), source: 'src:1' }])).map((r) => r?.uid ?? null), [null]);
    t.is(await codeOf(store.importMessages(inbox.id, [{ raw: message('x'), source: '' }])), 'INVALID');
    t.is(await codeOf(store.importMessages(inbox.id, [{ raw: message('x'), source: 'ok', sealed: { cid: 'bafy', offset: -1 } }])), 'INVALID');
    t.is((await store.status(inbox.id)).messages, 2, 'a refused batch appends nothing');
  });

  test(`${name}: unsealed messages are listed once per body until sealed, never expiring ones`, async (t) => {
    const { store, account, inbox } = await setup(t);
    const archive = await store.getMailbox(account.id, 'Archive');
    if (!archive) throw new Error('no Archive');
    const [u1, u2] = await fill(store, inbox.id, 2);
    await store.append(inbox.id, { raw: message('sealed'), sealed: { cid: 'bafyS', offset: 12 } });
    await store.append(inbox.id, { raw: message('expiring'), expires: Date.now() + 3_600_000 });
    await store.copy(inbox.id, uids(u1 as number), archive.id);
    const listed = await store.unsealedMessages(account.id, 10);
    t.deepEqual(listed.map((m) => [m.mailboxId, m.uid]).sort(), [[inbox.id, u1], [inbox.id, u2]], 'a copy shares its body; sealed and expiring ones are not listed');
    t.is((await store.unsealedMessages(account.id, 1)).length, 1);
    await store.setSealed(inbox.id, u1 as Uid, { cid: 'bafy1', offset: 0 });
    t.deepEqual((await store.unsealedMessages(account.id, 10)).map((m) => m.uid), [u2]);
    const [copied] = await store.messageRefs(archive.id);
    t.deepEqual(copied?.sealed, { cid: 'bafy1', offset: 0 }, 'the copy is sealed with its original');
    const refs = await store.messageRefs(inbox.id);
    t.deepEqual(refs.map((r) => r.sealed?.cid ?? null), ['bafy1', null, 'bafyS', null]);
    t.deepEqual(refs.map((r) => r.expires !== null), [false, false, false, true]);
    t.is(await codeOf(store.setSealed(inbox.id, 999 as Uid, { cid: 'bafy', offset: 0 })), 'NOT_FOUND');
  });
}
