import test from 'ava';
import { AuthCache } from '../../src/accounts/auth-cache.ts';

test('a remembered login matches only the same user, password and stored hash, until it expires', (t) => {
  let now = 1000;
  const cache = new AuthCache({ ttlMs: 100, now: () => now });
  t.false(cache.matches('a@x', 'pw', 'hash1'));
  cache.remember('a@x', 'pw', 'hash1');
  t.true(cache.matches('a@x', 'pw', 'hash1'));
  t.false(cache.matches('a@x', 'pw2', 'hash1'));
  t.false(cache.matches('b@x', 'pw', 'hash1'));
  t.false(cache.matches('a@x', 'pw', 'hash2'), 'a password change elsewhere invalidates the entry');
  now += 101;
  t.false(cache.matches('a@x', 'pw', 'hash1'));
  cache.remember('a@x', 'pw', 'hash1');
  cache.forget('a@x');
  t.false(cache.matches('a@x', 'pw', 'hash1'));
});
