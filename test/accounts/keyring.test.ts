// accounts/keyring.ts with real OpenPGP keys (crypto/pgp.ts) and a real SQLite
// store sealing bodies with the ring's cache keys: first unlock makes the
// cache key and stores it wrapped and signed, later unlocks (a restart) read
// it back, concurrent logins unlock once, a planted key is refused, and the
// login hook of accounts/service.ts unlocks without ever failing a login.
import test from 'ava';
import { pino, type Logger } from 'pino';
import { KeyRing } from '../../src/accounts/keyring.ts';
import { AccountService } from '../../src/accounts/service.ts';
import { encryptMessage, generateAccountKey, unlockPrivateKey } from '../../src/crypto/pgp.ts';
import { silentLogger } from '../../src/log.ts';
import { createBodyCipher } from '../../src/mailstore/body-cipher.ts';
import { openSqliteMailStore, type SqliteMailStore } from '../../src/mailstore/sqlite/index.ts';
import type { Account, MailboxId, MailStore, Uid } from '../../src/mailstore/types.ts';

const PASSWORD = 'correct horse battery';
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Lines the code under test logged, parsed. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}

async function setup(t: import('ava').ExecutionContext, logger: Logger = silentLogger()) {
  let keyring: KeyRing | undefined;
  // The cipher asks whichever ring is current, so a test can "restart" the ring.
  const store: SqliteMailStore = await openSqliteMailStore({ path: ':memory:', cipher: createBodyCipher({ cacheKey: (id) => keyring?.cacheKey(id) ?? null }) });
  t.teardown(() => store.close());
  const ring = (): KeyRing => (keyring = new KeyRing({ store, logger }));
  keyring = ring();
  const service = (): AccountService => new AccountService({ store, logger, keyring: keyring!, sleep: async () => undefined });
  const created = await service().createAccount({ address: 'alice@example.test', name: 'Alice', password: PASSWORD });
  const inbox = (await store.getMailbox(created.account.id, 'INBOX'))!.id as MailboxId;
  return { store, service, ring, current: () => keyring!, account: created.account, inbox };
}

test('first unlock makes a 32-byte cache key and stores it wrapped; a restarted ring reads the same key back', async (t) => {
  const { store, ring, current, account, inbox } = await setup(t);
  const keyring = current();
  t.false(keyring.isUnlocked(account.id));
  t.is(keyring.cacheKey(account.id), null);
  t.is(keyring.privateKey(account.id), null);
  await t.throwsAsync(store.append(inbox, { raw: enc.encode('Subject: x\r\n\r\nlocked\r\n') }), { code: 'LOCKED' });
  await keyring.unlock(account, PASSWORD);
  t.true(keyring.isUnlocked(account.id));
  const key = keyring.cacheKey(account.id)!;
  t.is(key.byteLength, 32);
  t.is(keyring.privateKey(account.id)?.fingerprint, (await store.getSecrets(account.id)).fingerprint);
  const wrapped = (await store.getCacheKey(account.id))!;
  t.truthy(wrapped);
  t.false(Buffer.from(wrapped).includes(Buffer.from(key)), 'stored wrapped, never in clear');
  const { uid } = await store.append(inbox, { raw: enc.encode('Subject: x\r\n\r\nsealed with the ring\r\n') });

  const restarted = ring();
  t.false(restarted.isUnlocked(account.id));
  await t.throwsAsync(store.getBody(inbox, uid), { code: 'LOCKED' });
  await restarted.unlock(account, PASSWORD);
  t.deepEqual(Buffer.from(restarted.cacheKey(account.id)!), Buffer.from(key));
  t.deepEqual(await store.getCacheKey(account.id), wrapped, 'later unlocks do not replace it');
  t.true(dec.decode(await store.getBody(inbox, uid)).includes('sealed with the ring'));
});

test('a wrong password does not unlock and stores nothing', async (t) => {
  const { store, current, account } = await setup(t);
  await t.throwsAsync(current().unlock(account, 'not the password'), { code: 'AUTH_FAILED' });
  t.false(current().isUnlocked(account.id));
  t.is(await store.getCacheKey(account.id), null);
});

test('concurrent unlocks of one account unlock once; listeners hear each unlock once', async (t) => {
  const { store, account } = await setup(t);
  let reads = 0;
  const counting: Pick<MailStore, 'getSecrets' | 'getCacheKey' | 'initCacheKey'> = {
    getSecrets: async (id) => {
      reads++;
      return store.getSecrets(id);
    },
    getCacheKey: (id) => store.getCacheKey(id),
    initCacheKey: (id, w) => store.initCacheKey(id, w),
  };
  const keyring = new KeyRing({ store: counting });
  const heard: Account[] = [];
  const off = keyring.onUnlock((a) => heard.push(a));
  keyring.onUnlock(() => {
    throw new Error('a broken listener does not break unlocking');
  });
  await Promise.all([keyring.unlock(account, PASSWORD), keyring.unlock(account, PASSWORD), keyring.unlock(account, PASSWORD)]);
  t.is(reads, 1);
  t.deepEqual(heard.map((a) => a.id), [account.id]);
  await keyring.unlock(account, PASSWORD);
  t.is(reads, 1, 'already unlocked: nothing to do');
  t.is(heard.length, 1);
  keyring.forget(account.id);
  t.false(keyring.isUnlocked(account.id));
  await keyring.unlock(account, PASSWORD);
  t.is(heard.length, 2, 'an unlock after forget is heard again');
  off();
  keyring.forget(account.id);
  await keyring.unlock(account, PASSWORD);
  t.is(heard.length, 2, 'unsubscribed');
});

test('forget zeroes the cache key and discards an unlock still running', async (t) => {
  const { current, account } = await setup(t);
  const keyring = current();
  await keyring.unlock(account, PASSWORD);
  const key = keyring.cacheKey(account.id)!;
  keyring.forget(account.id);
  t.true(key.every((b) => b === 0));
  t.is(keyring.cacheKey(account.id), null);
  const running = keyring.unlock(account, PASSWORD);
  keyring.forget(account.id);
  await running;
  t.false(keyring.isUnlocked(account.id), 'the account was locked after the unlock began');
  await keyring.unlock(account, PASSWORD);
  t.true(keyring.isUnlocked(account.id));
});

test('a cache key planted by someone who can write the database is refused (UNREADABLE)', async (t) => {
  const { store, current, account } = await setup(t);
  const secrets = await store.getSecrets(account.id);
  const planted = new Uint8Array(32).fill(7);
  // encrypted to the (public) account key, but unsigned
  await store.setCacheKey(account.id, await encryptMessage({ data: planted, encryptionKeys: [secrets.publicKey] }));
  await t.throwsAsync(current().unlock(account, PASSWORD), { code: 'UNREADABLE' });
  t.false(current().isUnlocked(account.id));
  // signed by some other key
  const other = await generateAccountKey({ name: 'Mallory', address: 'mallory@example.test', passphrase: 'mallory-pass' });
  const mallory = await unlockPrivateKey(other.privateKey, 'mallory-pass');
  await store.setCacheKey(account.id, await encryptMessage({ data: planted, encryptionKeys: [secrets.publicKey], signingKey: mallory }));
  await t.throwsAsync(current().unlock(account, PASSWORD), { code: 'UNREADABLE' });
  // not even an OpenPGP message
  await store.setCacheKey(account.id, enc.encode('garbage'));
  await t.throwsAsync(current().unlock(account, PASSWORD), { code: 'UNREADABLE' });
  t.false(current().isUnlocked(account.id));
});

test('login unlocks the ring (scrypt and auth-cache paths); an unreadable key is logged, the login stands', async (t) => {
  const { lines, logger } = capturingLogger();
  const { store, service, current, account } = await setup(t, logger);
  const accounts = service();
  t.is((await accounts.authenticate('ALICE@example.test', PASSWORD, '127.0.0.1')).id, account.id);
  t.true(current().isUnlocked(account.id));
  const key = Buffer.from(current().cacheKey(account.id)!);
  current().forget(account.id);
  await accounts.authenticate('alice@example.test', PASSWORD, '127.0.0.1'); // auth cache hit this time
  t.true(current().isUnlocked(account.id));
  t.deepEqual(Buffer.from(current().cacheKey(account.id)!), key);
  await t.throwsAsync(accounts.authenticate('alice@example.test', 'wrong password', '127.0.0.1'), { code: 'AUTH_FAILED' });

  current().forget(account.id);
  await store.setCacheKey(account.id, enc.encode('damaged'));
  t.is((await accounts.authenticate('alice@example.test', PASSWORD, '127.0.0.1')).id, account.id, 'the password was right: login succeeds');
  t.false(current().isUnlocked(account.id));
  t.true(lines.some((l) => l.level === 50 && (l.err as { code?: string } | undefined)?.code === 'UNREADABLE'), 'logged as an error');
  t.false(JSON.stringify(lines).includes(PASSWORD), 'the password is never logged');
});

test('password change with the old password keeps the cache key; forceNewKey clears it and old bodies become UNREADABLE', async (t) => {
  const { store, service, ring, current, account, inbox } = await setup(t);
  await service().authenticate('alice@example.test', PASSWORD, '127.0.0.1');
  const key = Buffer.from(current().cacheKey(account.id)!);
  const { uid } = await store.append(inbox, { raw: enc.encode('Subject: before\r\n\r\nbefore the change\r\n') });

  await service().changePassword('alice@example.test', 'second password', { oldPassword: PASSWORD });
  ring();
  await service().authenticate('alice@example.test', 'second password', '127.0.0.1');
  t.deepEqual(Buffer.from(current().cacheKey(account.id)!), key, 'same key pair, same cache key');
  t.true(dec.decode(await store.getBody(inbox, uid)).includes('before the change'));

  const accounts = service();
  const reset = await accounts.changePassword('alice@example.test', 'third password', { forceNewKey: true });
  t.true(reset.newKey);
  t.is(await store.getCacheKey(account.id), null, 'the wrapped key of the old key pair is cleared');
  t.false(current().isUnlocked(account.id), 'and the ring forgot the old keys');
  await t.throwsAsync(store.getBody(inbox, uid), { code: 'LOCKED' });
  await accounts.authenticate('alice@example.test', 'third password', '127.0.0.1');
  t.true(current().isUnlocked(account.id));
  t.notDeepEqual(Buffer.from(current().cacheKey(account.id)!), key);
  t.is(current().privateKey(account.id)?.fingerprint, reset.fingerprint);
  await t.throwsAsync(store.getBody(inbox, uid as Uid), { code: 'UNREADABLE' });
  const fresh = await store.append(inbox, { raw: enc.encode('Subject: after\r\n\r\nafter the reset\r\n') });
  t.true(dec.decode(await store.getBody(inbox, fresh.uid)).includes('after the reset'));
});
