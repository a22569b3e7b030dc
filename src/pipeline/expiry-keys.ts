// The key of an expiring message (DESIGN.md "Cryptography"; issue 4 scope 4):
// a fresh secret in the ristretto255 scalar field, the OpenPGP session key
// derived from it (HKDF, context = the message hash), the message sealed with
// that session key ALONE (no key packet for any recipient or the sender: no
// private key ever opens it), and the secret split t-of-n among custodian
// nodes chosen from the registry (custody/client.ts). Reading collects t
// shares, checks them against the Pedersen commitments, and derives the key
// again. Once the custodians delete their shares at the expiry, nobody can.
import { collectSecret, depositShares, type CustodyClientContext } from '../custody/client.ts';
import { CustodyError } from '../custody/errors.ts';
import { deriveSessionKey, newExpirySecret } from '../custody/session-key.ts';
import { decodeTicket, encodeTicket } from '../custody/wire.ts';
import { encryptMessage, type UnlockedKey } from '../crypto/pgp.ts';
import { SealpostError } from '../errors/index.ts';

export interface ExpiryKeys {
  /**
   * Seals an expiring message and deposits its key's shares; resolves once at
   * least t custodians hold theirs.
   * @throws SealpostError CUSTODY_UNAVAILABLE when too few custodian nodes are registered or answer
   */
  seal(input: { raw: Uint8Array; signingKey: UnlockedKey; messageHash: Uint8Array; expires: number; readers: readonly string[]; n?: number }): Promise<{ ciphertext: Uint8Array; ticket: Uint8Array }>;
  /**
   * The session key of a message from its ticket (custodians release the shares to this node).
   * @throws CustodyError CUSTODY_TOO_FEW_SHARES / CUSTODY_EXPIRED when it cannot be had
   */
  sessionKey(ticket: Uint8Array): Promise<Uint8Array>;
}

export interface ExpiryKeysOptions {
  custody: CustodyClientContext;
  /** config network.custody */
  policy: { n: number; t: number };
}

export function createExpiryKeys(options: ExpiryKeysOptions): ExpiryKeys {
  const { custody, policy } = options;
  return {
    async seal(input) {
      // Every other registered node may be a custodian (recipients' nodes
      // included: a reader still needs t shares); the sender cannot hold one.
      const others = (await custody.registry.listNodes()).length - 1;
      // A sender may ask for more custodians than the policy, never fewer.
      const wanted = Math.max(policy.n, input.n ?? 0);
      const n = Math.min(wanted, others);
      if (n < policy.t) {
        throw new SealpostError('CUSTODY_UNAVAILABLE', `an expiring message needs ${policy.t} custodian nodes and the network has ${Math.max(0, others)} besides this one; send it without an expiry, or try again when more nodes have joined`);
      }
      const secret = newExpirySecret();
      const sessionKey = deriveSessionKey(secret, input.messageHash);
      try {
        let deposit;
        try {
          deposit = await depositShares(custody, { messageHash: input.messageHash, secret, expiresAt: input.expires, readers: input.readers, policy: { n, t: policy.t }, exclude: [] });
        } catch (error) {
          if (error instanceof CustodyError) throw new SealpostError('CUSTODY_UNAVAILABLE', `the custodians of this expiring message could not all be reached (${error.message}); try again later`, { cause: error });
          throw error;
        }
        const ciphertext = await encryptMessage({ data: input.raw, encryptionKeys: [], signingKey: input.signingKey, sessionKey });
        return { ciphertext, ticket: encodeTicket(deposit.ticket) };
      } finally {
        sessionKey.fill(0);
      }
    },
    async sessionKey(ticketBytes) {
      const ticket = decodeTicket(ticketBytes);
      const { secret } = await collectSecret(custody, ticket);
      return deriveSessionKey(secret, ticket.ref);
    },
  };
}
