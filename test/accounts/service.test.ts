// accounts/service.ts: account creation, password change with key
// re-encryption, and failed-login throttling (fake clock, no real delays).
import test from 'ava';
import { AccountService, normaliseAddress } from '../../src/accounts/service.ts';
import { checkKeyPassphrase } from '../../src/crypto/pgp.ts';
import { silentLogger } from '../../src/log.ts';
import { createFakeStore } from '../helpers/fake-store.ts';

function setup(limits = {}) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const store = createFakeStore();
  const service = new AccountService({
    store,
    logger: silentLogger(),
    limits,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { store, service, sleeps, advance: (ms: number) => (now += ms) };
}

test('createAccount lower-cases the address, generates a password, stores only its hash and an encrypted key', async (t) => {
  const { store, service } = setup();
  const created = await service.createAccount({ address: 'Alice@Example.ORG', name: 'Alice' });
  t.is(created.account.address, 'alice@example.org');
  t.true(created.generated);
  t.is(created.password.length, 24);
  const secrets = await store.getSecrets(created.account.id);
  t.true(secrets.passwordHash.startsWith('scrypt$'));
  t.false(JSON.stringify(secrets).includes(created.password));
  t.true(await checkKeyPassphrase(secrets.privateKey, created.password));
  t.is(secrets.fingerprint, created.fingerprint);
});

test('createAccount validates its input', async (t) => {
  const { service } = setup();
  await t.throwsAsync(service.createAccount({ address: 'not-an-address' }), { code: 'INVALID', message: /address/ });
  await t.throwsAsync(service.createAccount({ address: 'a@b.example', password: 'short' }), { code: 'INVALID', message: /password/ });
  await t.throwsAsync(service.createAccount({ address: 'a@b.example', name: 'x\r\nBcc: y' }), { code: 'INVALID', message: /name/ });
  await service.createAccount({ address: 'a@b.example', password: 'long enough' });
  await t.throwsAsync(service.createAccount({ address: 'A@b.example', password: 'long enough' }), { code: 'ALREADY_EXISTS' });
});

test('normaliseAddress accepts ordinary addresses and refuses broken ones', (t) => {
  t.is(normaliseAddress(' Me@Sealpost.localhost '), 'me@sealpost.localhost');
  t.is(normaliseAddress('first.last+tag@sub.example.org'), 'first.last+tag@sub.example.org');
  for (const bad of ['', '@x.org', 'a@', 'a@@b.org', 'a b@c.org', '.a@b.org', 'a..b@c.org', 'a.@b.org', 'a@-b.org', 'a@b..org', 'ä@b.org']) {
    t.throws(() => normaliseAddress(bad), { code: 'INVALID' }, bad);
  }
});

test('authenticate: right password, any case of the user name', async (t) => {
  const { service } = setup();
  await service.createAccount({ address: 'bob@example.org', password: 'bob-password' });
  const account = await service.authenticate('BOB@example.org', 'bob-password', '127.0.0.1');
  t.is(account.address, 'bob@example.org');
});

test('authenticate: wrong password and unknown user both fail with AUTH_FAILED after the fixed delay', async (t) => {
  const { service, sleeps } = setup();
  await service.createAccount({ address: 'bob@example.org', password: 'bob-password' });
  await t.throwsAsync(service.authenticate('bob@example.org', 'wrong', '127.0.0.1'), { code: 'AUTH_FAILED' });
  await t.throwsAsync(service.authenticate('nobody@example.org', 'bob-password', '127.0.0.1'), { code: 'AUTH_FAILED' });
  t.deepEqual(sleeps, [250, 250]);
});

test('five failures for a user throttle it, even with the right password, until the lockout ends', async (t) => {
  const { service, advance } = setup();
  await service.createAccount({ address: 'bob@example.org', password: 'bob-password' });
  for (let i = 0; i < 5; i++) {
    await t.throwsAsync(service.authenticate('bob@example.org', `wrong${i}`, `10.0.0.${i}`), { code: 'AUTH_FAILED' });
  }
  await t.throwsAsync(service.authenticate('bob@example.org', 'bob-password', '10.0.0.99'), { code: 'AUTH_THROTTLED' });
  advance(15 * 60 * 1000 + 1);
  t.is((await service.authenticate('bob@example.org', 'bob-password', '10.0.0.99')).address, 'bob@example.org');
});

test('failures spread beyond the window do not throttle', async (t) => {
  const { service, advance } = setup();
  await service.createAccount({ address: 'bob@example.org', password: 'bob-password' });
  for (let i = 0; i < 8; i++) {
    await t.throwsAsync(service.authenticate('bob@example.org', 'wrong', `10.0.1.${i}`), { code: 'AUTH_FAILED' });
    advance(4 * 60 * 1000); // 4 failures per 16 minutes stay under 5 per 15 minutes
  }
  t.is((await service.authenticate('bob@example.org', 'bob-password', '10.0.1.200')).address, 'bob@example.org');
});

test('ten failures from one address throttle that address for every user', async (t) => {
  const { service } = setup();
  await service.createAccount({ address: 'carol@example.org', password: 'carol-password' });
  for (let i = 0; i < 10; i++) {
    await t.throwsAsync(service.authenticate(`guess${i}@example.org`, 'x', '192.0.2.7'), { code: 'AUTH_FAILED' });
  }
  await t.throwsAsync(service.authenticate('carol@example.org', 'carol-password', '192.0.2.7'), { code: 'AUTH_THROTTLED' });
  // another address is not affected
  t.is((await service.authenticate('carol@example.org', 'carol-password', '192.0.2.8')).address, 'carol@example.org');
});

test('a success clears the user failures', async (t) => {
  const { service } = setup();
  await service.createAccount({ address: 'dan@example.org', password: 'dan-password' });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 4; i++) await t.throwsAsync(service.authenticate('dan@example.org', 'bad', `10.1.${round}.${i}`), { code: 'AUTH_FAILED' });
    await service.authenticate('dan@example.org', 'dan-password', `10.2.0.${round}`);
  }
  t.pass();
});

test('changePassword with the old password re-encrypts the same key', async (t) => {
  const { store, service } = setup();
  const created = await service.createAccount({ address: 'erin@example.org', password: 'old-password' });
  await t.throwsAsync(service.changePassword('erin@example.org', 'new-password', { oldPassword: 'not-old' }), { code: 'AUTH_FAILED' });
  await t.throwsAsync(service.changePassword('erin@example.org', 'new-password'), { code: 'INVALID', message: /oldPassword/ });
  const change = await service.changePassword('ERIN@example.org', 'new-password', { oldPassword: 'old-password' });
  t.false(change.newKey);
  t.is(change.fingerprint, created.fingerprint);
  const secrets = await store.getSecrets(created.account.id);
  t.true(await checkKeyPassphrase(secrets.privateKey, 'new-password'));
  await t.throwsAsync(service.authenticate('erin@example.org', 'old-password', '127.0.0.1'), { code: 'AUTH_FAILED' });
  t.truthy(await service.authenticate('erin@example.org', 'new-password', '127.0.0.1'));
});

test('changePassword with forceNewKey generates a password and a new key pair', async (t) => {
  const { store, service } = setup();
  const created = await service.createAccount({ address: 'fay@example.org', password: 'lost-password' });
  const change = await service.changePassword('fay@example.org', undefined, { forceNewKey: true });
  t.true(change.generated);
  t.true(change.newKey);
  t.not(change.fingerprint, created.fingerprint);
  const secrets = await store.getSecrets(created.account.id);
  t.is(secrets.fingerprint, change.fingerprint);
  t.true(await checkKeyPassphrase(secrets.privateKey, change.password));
  await t.throwsAsync(service.changePassword('nobody@example.org', 'whatever-1', { forceNewKey: true }), { code: 'NOT_FOUND' });
});
