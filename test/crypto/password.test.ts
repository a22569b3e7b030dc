// crypto/password.ts: scrypt hashing (RFC 7914) and password generation.
import test from 'ava';
import { generatePassword, hashPassword, verifyPassword } from '../../src/crypto/password.ts';

const FAST = { N: 1024, r: 8, p: 1 };

test('a hash verifies its password and not another', async (t) => {
  const hash = await hashPassword('correct horse battery', FAST);
  t.regex(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  t.true(await verifyPassword('correct horse battery', hash));
  t.false(await verifyPassword('correct horse batterx', hash));
  t.false(await verifyPassword('', hash));
});

test('the default parameters are self-described in the hash', async (t) => {
  const hash = await hashPassword('pw-123456');
  t.true(hash.startsWith('scrypt$32768$8$1$'));
  t.true(await verifyPassword('pw-123456', hash));
});

test('two hashes of the same password differ (random salt)', async (t) => {
  t.not(await hashPassword('same password', FAST), await hashPassword('same password', FAST));
});

test('a malformed hash is a ValidationError, not false', async (t) => {
  await t.throwsAsync(verifyPassword('x', 'md5$abc'), { code: 'INVALID' });
  await t.throwsAsync(verifyPassword('x', 'scrypt$0$8$1$AAAA$AAAA'), { code: 'INVALID' });
});

test('generated passwords are 24 characters from the clear alphabet and differ', (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const p = generatePassword();
    t.is(p.length, 24);
    t.regex(p, /^[a-km-zA-HJ-NP-Z2-9]+$/);
    seen.add(p);
  }
  t.is(seen.size, 100);
});
