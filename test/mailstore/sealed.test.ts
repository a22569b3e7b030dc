// The SQLite store with a BodyCipher: message bytes are sealed at rest (no
// phrase of a body reaches sealpost.db or its WAL), the whole MailStore
// contract still holds, and bodies written before sealing stay readable.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { createBodyCipher } from '../../src/mailstore/body-cipher.ts';
import { openSqliteMailStore } from '../../src/mailstore/sqlite/index.ts';
import { MIGRATIONS } from '../../src/mailstore/sqlite/schema.ts';
import type { AccountId, MailboxId, Uid } from '../../src/mailstore/types.ts';
import { message, runMailStoreContract, SECRETS } from './contract.ts';

/** A key source standing in for the key ring: a random key per account, lockable. */
function keySource() {
  const keys = new Map<AccountId, Uint8Array>();
  const locked = new Set<AccountId>();
  return {
    keys,
    locked,
    cacheKey(id: AccountId): Uint8Array | null {
      if (locked.has(id)) return null;
      let key = keys.get(id);
      if (!key) keys.set(id, (key = randomBytes(32)));
      return key;
    },
  };
}

function tempDir(): { dir: string; file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-sealed-'));
  return { dir, file: path.join(dir, 'sealpost.db'), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

runMailStoreContract('sqlite+cipher', async () => {
  const { file, remove } = tempDir();
  const store = await openSqliteMailStore({ path: file, cipher: createBodyCipher(keySource()) });
  return { ...store, close: async () => { await store.close(); remove(); } };
});

const dec = new TextDecoder();

test('sqlite+cipher: no body phrase reaches the database or its WAL; getBody gives the exact bytes', async (t) => {
  const { file, remove } = tempDir();
  t.teardown(remove);
  const keys = keySource();
  const store = await openSqliteMailStore({ path: file, cipher: createBodyCipher(keys) });
  t.teardown(() => store.close());
  const alice = await store.createAccount({ address: 'alice@example.test', name: 'A', ...SECRETS });
  const bob = await store.createAccount({ address: 'bob@example.test', name: 'B', ...SECRETS });
  const inbox = (await store.getMailbox(alice.id, 'INBOX'))!.id;
  const trash = (await store.getMailbox(alice.id, 'Trash'))!.id;
  const phrase = `violet-${randomBytes(8).toString('hex')}-harbour`;
  const batchPhrase = `amber-${randomBytes(8).toString('hex')}-meadow`;
  const deliveredPhrase = `cobalt-${randomBytes(8).toString('hex')}-ridge`;
  const { uid } = await store.append(inbox, { raw: message('sealed', `the phrase is ${phrase}`) });
  await store.appendMany(inbox, [{ raw: message('b1', batchPhrase) }, { raw: message('b2', 'other') }]);
  const [d] = await store.enqueueDeliveries([{ accountId: alice.id, cid: 'bafyd', seq: 1, messageId: null }]);
  const delivered = await store.deliver(d!.id, inbox, { raw: message('queued', deliveredPhrase) });
  await store.copy(inbox, [uid], trash);

  const onDisk = (): Buffer => Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
  const check = (when: string): void => {
    const bytes = onDisk();
    t.true(bytes.byteLength > 0);
    t.true(bytes.includes(Buffer.from('Subject: sealed')), `${when}: the index (header) is there, so the search would find a phrase`);
    for (const p of [phrase, batchPhrase, deliveredPhrase]) t.false(bytes.includes(Buffer.from(p)), `${when}: ${p} is on disk`);
  };
  check('in the WAL');
  store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  check('after checkpoint');

  const body = dec.decode(await store.getBody(inbox, uid));
  t.is(body, `From: a@example.test\r\nTo: b@example.test\r\nSubject: sealed\r\n\r\nthe phrase is ${phrase}\r\n`);
  t.true(dec.decode(await store.getBody(trash, 1 as Uid)).includes(phrase), 'COPY shares the sealed body within the account');
  t.true(dec.decode(await store.getBody(inbox, 2 as Uid)).includes(batchPhrase));
  t.true(dec.decode(await store.getBody(inbox, delivered.uid)).includes(deliveredPhrase));
  const [rec] = await store.getMessages(inbox, [uid], { structure: true });
  t.is(rec?.size, Buffer.byteLength(body), 'RFC822.SIZE is the clear size');
  t.is((await store.status(inbox)).size, (await store.getMessages(inbox, [1, 2, 3, 4] as Uid[])).reduce((a, m) => a + m.size, 0));

  // a body row moved to another account's message does not open there
  const bobInbox = (await store.getMailbox(bob.id, 'INBOX'))!.id;
  await store.append(bobInbox, { raw: message('bob', 'bob text') });
  store.db.prepare(`UPDATE messages SET body_id = (SELECT body_id FROM messages WHERE mailbox_id = ? AND uid = ?) WHERE mailbox_id = ? AND uid = 1`)
    .run(inbox, uid, bobInbox);
  await t.throwsAsync(store.getBody(bobInbox, 1 as Uid), { code: 'UNREADABLE' });

  // locked: no reading, no appending
  keys.locked.add(alice.id);
  await t.throwsAsync(store.getBody(inbox, uid), { code: 'LOCKED', name: 'LockedError' });
  await t.throwsAsync(store.append(inbox, { raw: message('while locked') }), { code: 'LOCKED' });
  t.is((await store.status(inbox)).messages, 4, 'a refused append leaves nothing behind');
  keys.locked.delete(alice.id);
  t.true(dec.decode(await store.getBody(inbox, uid)).includes(phrase));
});

test('sqlite+cipher: a locked delivery stays pending; it is delivered once unlocked', async (t) => {
  const keys = keySource();
  const store = await openSqliteMailStore({ path: ':memory:', cipher: createBodyCipher(keys) });
  t.teardown(() => store.close());
  const alice = await store.createAccount({ address: 'alice@example.test', name: 'A', ...SECRETS });
  const inbox = (await store.getMailbox(alice.id, 'INBOX'))!.id;
  const [d] = await store.enqueueDeliveries([{ accountId: alice.id, cid: 'bafy', seq: 3, messageId: null }]);
  keys.locked.add(alice.id);
  await t.throwsAsync(store.deliver(d!.id, inbox, { raw: message('q') }), { code: 'LOCKED' });
  t.is((await store.pendingDeliveries(alice.id, 5)).length, 1);
  keys.locked.delete(alice.id);
  const r = await store.deliver(d!.id, inbox, { raw: message('q', 'queued body') });
  t.true(dec.decode(await store.getBody(inbox, r.uid)).includes('queued body'));
});

test('sqlite: a version-1 database migrates; clear bodies written before sealing still read', async (t) => {
  const { file, remove } = tempDir();
  t.teardown(remove);
  // Build the database as the first release did: migration 1 only, no cipher.
  const old = new DatabaseSync(file);
  old.exec('PRAGMA journal_mode = WAL');
  old.exec(MIGRATIONS[0]!);
  old.exec('PRAGMA user_version = 1');
  old.close();
  const v1 = await openSqliteMailStore({ path: file });
  t.is((v1.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, MIGRATIONS.length);
  t.true(MIGRATIONS.length >= 3);
  const account = await v1.createAccount({ address: 'old@example.test', name: 'Old', ...SECRETS });
  const inbox = (await v1.getMailbox(account.id, 'INBOX'))!.id as MailboxId;
  await v1.append(inbox, { raw: message('old', 'written in clear') });
  await v1.close();

  const keys = keySource();
  const store = await openSqliteMailStore({ path: file, cipher: createBodyCipher(keys) });
  t.teardown(() => store.close());
  await store.append(inbox, { raw: message('new', 'written sealed') });
  t.true(dec.decode(await store.getBody(inbox, 1 as Uid)).includes('written in clear'));
  t.true(dec.decode(await store.getBody(inbox, 2 as Uid)).includes('written sealed'));
  keys.locked.add(account.id);
  t.true(dec.decode(await store.getBody(inbox, 1 as Uid)).includes('written in clear'), 'a clear legacy body needs no key');
  t.is(await store.getCacheKey(account.id), null, 'the new column starts empty');
});
