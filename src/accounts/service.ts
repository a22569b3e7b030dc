// Account management and password login: creates accounts (address check,
// client password, OpenPGP key pair), changes passwords, and authenticates
// protocol logins with throttling. Implements accounts/types.ts Authenticator.
//
// The account's OpenPGP private key is encrypted with the client password
// (crypto/pgp.ts explains why), so changing the password re-encrypts the key
// and needs the old password. Without it the only way forward is a NEW key
// pair (`forceNewKey`): the old key cannot be recovered from the hash.
// A successful login also unlocks the account in the key ring (keyring.ts).
import type { Logger } from 'pino';
import type { LimitsConfig } from '../config/config.ts';
import { AlreadyExistsError, AuthError, NotFoundError, ValidationError } from '../errors/index.ts';
import type { Account, MailStore } from '../mailstore/types.ts';
import { changeKeyPassphrase, generateAccountKey } from '../crypto/pgp.ts';
import { generatePassword, hashPassword, verifyPassword } from '../crypto/password.ts';
import { AuthCache } from './auth-cache.ts';
import type { KeyRing } from './keyring.ts';
import { LoginThrottle } from './throttle.ts';
import type { Authenticator } from './types.ts';

export type AuthLimits = LimitsConfig['auth'];

export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  maxFailuresPerUser: 5,
  maxFailuresPerRemote: 10,
  windowMs: 15 * 60 * 1000,
  lockoutMs: 15 * 60 * 1000,
  failureDelayMs: 250,
};

export interface AccountServiceOptions {
  store: MailStore;
  logger: Logger;
  limits?: Partial<AuthLimits>;
  /** unlocked at each successful login (when not unlocked yet), so sealed bodies and queued mail can be read */
  keyring?: KeyRing;
  /** clock and sleep, injectable for tests */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface CreatedAccount {
  account: Account;
  /** the client password (the one given, or the generated one) */
  password: string;
  generated: boolean;
  fingerprint: string;
}

export interface PasswordChange {
  password: string;
  generated: boolean;
  /** true when a new key pair replaced the old one (forceNewKey) */
  newKey: boolean;
  fingerprint: string;
}

const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;
/** RFC 5321 §4.5.3.1: local part <= 64, whole path <= 256 with brackets. */
const ADDRESS_RE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Checks and normalises (lower-cases) an account address.
 * @throws ValidationError field `address`
 */
export function normaliseAddress(address: string): string {
  const a = address.trim();
  if (!ADDRESS_RE.test(a) || a.startsWith('.') || a.includes('..') || a.split('@')[0]?.endsWith('.') === true) {
    throw new ValidationError('address', `"${address}" is not a valid mail address (expected local@domain, ASCII)`);
  }
  return a.toLowerCase();
}

/** @throws ValidationError field `password` */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new ValidationError('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new ValidationError('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  if (/[\r\n\0]/.test(password)) throw new ValidationError('password', 'must not contain line breaks or NUL');
}

export class AccountService implements Authenticator {
  readonly #store: MailStore;
  readonly #log: Logger;
  readonly #limits: AuthLimits;
  readonly #throttle: LoginThrottle;
  readonly #sleep: (ms: number) => Promise<void>;
  /** verified against for unknown users so that timing does not reveal which accounts exist */
  #dummyHash: Promise<string> | undefined;
  readonly #cache = new AuthCache();
  readonly #keyring: KeyRing | undefined;

  constructor(options: AccountServiceOptions) {
    this.#store = options.store;
    this.#log = options.logger.child({ part: 'accounts' });
    this.#limits = { ...DEFAULT_AUTH_LIMITS, ...options.limits };
    this.#throttle = new LoginThrottle({ ...this.#limits, ...(options.now ? { now: options.now } : {}) });
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#keyring = options.keyring;
  }

  /**
   * Creates an account with its default mailboxes and OpenPGP key pair.
   * @throws ValidationError (address, name, password), AlreadyExistsError
   */
  async createAccount(input: { address: string; name?: string; password?: string }): Promise<CreatedAccount> {
    const address = normaliseAddress(input.address);
    const name = (input.name ?? '').trim();
    if (/[\r\n\0<>]/.test(name) || name.length > 200) throw new ValidationError('name', 'must be one line of at most 200 characters without < >');
    if (input.password !== undefined) checkPassword(input.password);
    if ((await this.#store.getAccount(address)) !== null) throw new AlreadyExistsError('account', `account ${address} already exists`);
    const generated = input.password === undefined;
    const password = input.password ?? generatePassword();
    const [passwordHash, key] = await Promise.all([
      hashPassword(password),
      generateAccountKey({ name, address, passphrase: password }),
    ]);
    const account = await this.#store.createAccount({ address, name, passwordHash, ...key });
    this.#log.info({ account: address, fingerprint: key.fingerprint }, 'account created');
    return { account, password, generated, fingerprint: key.fingerprint };
  }

  /**
   * Creates an account around an existing OpenPGP key (`sealpost restore`):
   * the key, protected with `keyPassphrase` in the backup, is re-protected
   * with the client password (generated when not given).
   * @throws ValidationError (address, name, password), AlreadyExistsError,
   *   AuthError AUTH_FAILED (keyPassphrase does not open the key)
   */
  async restoreAccount(input: { address: string; name: string; publicKey: string; privateKey: string; fingerprint: string; keyPassphrase: string; password?: string }): Promise<CreatedAccount> {
    const address = normaliseAddress(input.address);
    const name = input.name.trim();
    if (/[\r\n\0<>]/.test(name) || name.length > 200) throw new ValidationError('name', 'must be one line of at most 200 characters without < >');
    if (input.password !== undefined) checkPassword(input.password);
    if ((await this.#store.getAccount(address)) !== null) throw new AlreadyExistsError('account', `account ${address} already exists`);
    const generated = input.password === undefined;
    const password = input.password ?? generatePassword();
    let privateKey: string;
    try {
      privateKey = await changeKeyPassphrase(input.privateKey, input.keyPassphrase, password);
    } catch {
      throw new AuthError('AUTH_FAILED', 'the backup passphrase does not unlock the key in the backup');
    }
    const passwordHash = await hashPassword(password);
    const account = await this.#store.createAccount({ address, name, passwordHash, publicKey: input.publicKey, privateKey, fingerprint: input.fingerprint });
    this.#log.info({ account: address, fingerprint: input.fingerprint }, 'account restored');
    return { account, password, generated, fingerprint: input.fingerprint };
  }

  listAccounts(): Promise<Account[]> {
    return this.#store.listAccounts();
  }

  /**
   * Sets a new client password (generated when `newPassword` is undefined).
   * With `oldPassword` the private key is re-encrypted; with `forceNewKey`
   * instead a new key pair replaces the old one, and the body cache key is
   * cleared: bodies sealed before the reset can no longer be read.
   * @throws NotFoundError, ValidationError (oldPassword missing, password), AuthError AUTH_FAILED (old password wrong)
   */
  async changePassword(address: string, newPassword: string | undefined, options: { oldPassword?: string; forceNewKey?: boolean } = {}): Promise<PasswordChange> {
    const normalised = normaliseAddress(address);
    const account = await this.#store.getAccount(normalised);
    if (account === null) throw new NotFoundError('account', `no account ${normalised} on this node`);
    if (newPassword !== undefined) checkPassword(newPassword);
    const generated = newPassword === undefined;
    const password = newPassword ?? generatePassword();
    const secrets = await this.#store.getSecrets(account.id);
    const passwordHash = await hashPassword(password);
    if (options.oldPassword !== undefined) {
      if (!(await verifyPassword(options.oldPassword, secrets.passwordHash))) {
        throw new AuthError('AUTH_FAILED', 'the old password is wrong');
      }
      const privateKey = await changeKeyPassphrase(secrets.privateKey, options.oldPassword, password);
      await this.#store.updateSecrets(account.id, { passwordHash, privateKey });
      this.#log.info({ account: normalised }, 'password changed, key re-encrypted');
      return { password, generated, newKey: false, fingerprint: secrets.fingerprint };
    }
    if (options.forceNewKey !== true) {
      throw new ValidationError('oldPassword', 'the old password is needed to re-encrypt the account key (or replace the key with --force-new-key)');
    }
    const key = await generateAccountKey({ name: account.name, address: normalised, passphrase: password });
    // The body cache key is wrapped to the old key pair, which is gone: clear it
    // and the next login makes a new one; bodies sealed under the old one stay
    // unreadable. Cleared before (a crash in between never leaves a key that no
    // unlock can open) and again after the swap (a login racing with it may
    // have made one under the old pair meanwhile).
    const clearCacheKey = async (): Promise<void> => {
      await this.#store.setCacheKey(account.id, null);
      this.#keyring?.forget(account.id);
    };
    await clearCacheKey();
    await this.#store.updateSecrets(account.id, { passwordHash, ...key });
    await clearCacheKey();
    this.#log.warn({ account: normalised, fingerprint: key.fingerprint, oldFingerprint: secrets.fingerprint }, 'password reset with a NEW key pair');
    return { password, generated, newKey: true, fingerprint: key.fingerprint };
  }

  /**
   * Password login for SMTP AUTH and IMAP. User name is the address, any case.
   * @throws AuthError AUTH_THROTTLED / AUTH_FAILED
   */
  async authenticate(username: string, password: string, remoteAddress: string): Promise<Account> {
    const user = username.trim().toLowerCase();
    if (this.#throttle.isThrottled(user, remoteAddress)) {
      this.#log.warn({ user, remote: remoteAddress }, 'login refused: throttled');
      throw new AuthError('AUTH_THROTTLED', 'too many failed logins, try again later');
    }
    const account = user.length <= 320 ? await this.#store.getAccount(user) : null;
    let ok = false;
    if (account === null) {
      // Spend the same time as a real check so timing does not reveal which users exist.
      this.#dummyHash ??= hashPassword(generatePassword());
      await verifyPassword(password, await this.#dummyHash);
    } else {
      const { passwordHash } = await this.#store.getSecrets(account.id);
      ok = this.#cache.matches(user, password, passwordHash) || (await verifyPassword(password, passwordHash));
      if (ok) this.#cache.remember(user, password, passwordHash);
    }
    if (!ok || account === null) {
      this.#cache.forget(user);
      this.#throttle.recordFailure(user, remoteAddress);
      this.#log.info({ user, remote: remoteAddress }, 'login failed');
      await this.#sleep(this.#limits.failureDelayMs);
      throw new AuthError('AUTH_FAILED', 'invalid user name or password');
    }
    this.#throttle.recordSuccess(user);
    if (this.#keyring !== undefined && !this.#keyring.isUnlocked(account.id)) {
      // The password was right, so the login stands even if the key cannot be
      // unlocked (damaged key, cache key unreadable): bodies then answer LOCKED.
      try {
        await this.#keyring.unlock(account, password);
      } catch (err) {
        this.#log.error({ err, account: user }, 'login succeeded but the account key could not be unlocked');
      }
    }
    return account;
  }
}
