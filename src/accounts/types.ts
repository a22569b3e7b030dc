// What the protocol servers need from account management: password login
// with throttling. Implemented by accounts/service.ts.
import type { Account } from '../mailstore/types.ts';

export interface Authenticator {
  /**
   * Checks a client password for the account with this user name (its address,
   * case-insensitive).
   * @throws AuthError code AUTH_FAILED on a wrong user or password,
   *         AUTH_THROTTLED when too many recent failures came for this user or from this remote address.
   */
  authenticate(username: string, password: string, remoteAddress: string): Promise<Account>;
}
