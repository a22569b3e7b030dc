// The outbound pipeline behind SMTP submission (DESIGN.md "Data flows"):
//   read headers → encrypt as OpenPGP to every recipient's key and the
//   sender's own, signed by the sender → put the ciphertext in storage (CID)
//   → append a ledger record → queue local deliveries → queue announcements
//   to other Sealpost nodes (pipeline/peers.ts) → relay outside mail through
//   the smarthost (PGP/MIME, RFC 3156) → resolve, so SMTP says 250.
//
// Durability: storage.put, ledger.append and store.enqueueDeliveries each
// resolve only when their data is on disk, and they run in that order, so a
// crash at any point leaves either a message the client was told about in
// full, or one it was not told about (it retries; at worst a recipient gets
// a duplicate, never a loss). Relaying happens before 250 too, so an
// outside recipient's failure is reported to the client (451/554).
//
// Where a message's plaintext goes: only into the encryption call. Nothing
// here writes it to disk; the recipients' readable copies are made by
// pipeline/inbound.ts into the mail store's encrypted body cache.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyRing } from '../accounts/keyring.ts';
import { armorMessage, encryptMessage } from '../crypto/pgp.ts';
import { autocryptHeader } from '../keys/autocrypt.ts';
import type { KeyDirectory } from '../keys/directory.ts';
import type { Ledger } from '../ledger/types.ts';
import type { Account, MailStore } from '../mailstore/types.ts';
import { buildPgpMime } from '../mime/pgp-mime.ts';
import { normalizeCrlf } from '../mime/normalize.ts';
import type { Smarthost } from '../relay/types.ts';
import type { BlockStorage } from '../storage/types.ts';
import type { Submission, Submitter } from '../smtp/types.ts';
import { ExpiryOutsideError, NoKeyError, NoRelayError, SenderLockedError } from './errors.ts';
import { ensureMessageId, headerFields, requestedCustodians, requestedExpiry, withoutExpiryTag, withoutSubmitterFields } from './message.ts';
import type { ExpiryKeys } from './expiry-keys.ts';
import type { Peers, RemoteRecipient } from './peers.ts';

export interface OutboundOptions {
  store: MailStore;
  keyring: KeyRing;
  directory: Pick<KeyDirectory, 'lookup'>;
  storage: Pick<BlockStorage, 'put'>;
  ledger: Pick<Ledger, 'append'>;
  /** null: no smarthost, outside recipients are refused */
  relay: Smarthost | null;
  /** outside recipient without a key: refuse (550 5.7.1) or relay in plain text */
  policy: 'refuse' | 'plain';
  logger: Logger;
  /** our host name, for added Message-IDs */
  hostname?: string;
  /** called after local deliveries were queued (the inbound pipeline decrypts them) */
  onQueued?: (accounts: Account[]) => void;
  now?: () => number;
  /** sign+encrypt; default pgp.ts encryptMessage on this thread (the gateway passes its worker pool's) */
  encrypt?: typeof encryptMessage;
  /** the peer network, when this node is in one: recipients other nodes serve */
  peers?: Pick<Peers, 'lookup' | 'announce' | 'saveTicket'>;
  /** expiry by custody (a network with custodian nodes); without it an expiry is kept by this node's expiry clock only */
  expiryKeys?: ExpiryKeys;
}

interface Outside { address: string; armored: string | null }

export function createOutboundPipeline(options: OutboundOptions): Submitter {
  const { store, keyring, directory, storage, ledger, relay, policy } = options;
  const log = options.logger.child({ part: 'outbound' });
  const hostname = options.hostname ?? 'sealpost.localhost';
  const now = options.now ?? Date.now;
  const encrypt = options.encrypt ?? encryptMessage;

  async function checkRecipient(_user: string, address: string): Promise<void> {
    if ((await store.getAccount(address)) !== null) return;
    if (options.peers !== undefined && (await options.peers.lookup(address)) !== null) return;
    if (relay === null) throw new NoRelayError(address);
    if (policy === 'plain') return;
    if ((await directory.lookup(address)) === null) throw new NoKeyError(address);
  }

  async function submit(submission: Submission): Promise<{ id: string }> {
    const sender = await store.getAccount(submission.user);
    if (sender === null) throw new SenderLockedError(submission.user);
    const signingKey = keyring.privateKey(sender.id);
    if (signingKey === null) throw new SenderLockedError(sender.address);
    const senderSecrets = await store.getSecrets(sender.id);

    // Bcc: and forged X-Sealpost-* fields go nowhere (see withoutSubmitterFields).
    const normalized = normalizeCrlf(submission.raw);
    // The one X-Sealpost-* field a sender may set: more custodians for an expiring message than the node's policy.
    const custodians = requestedCustodians(headerFields(normalized));
    const submitted = withoutSubmitterFields(normalized);
    const time = now();
    // Read before the subject tag goes: a past or unreadable expiry is refused
    // here, before anything is stored (the sender is there to be told).
    const expires = requestedExpiry(headerFields(submitted), time, { strict: true });
    const { raw, messageId } = ensureMessageId(expires === null ? submitted : withoutExpiryTag(submitted), hostname);

    // Who gets what: local accounts, outside recipients with a key, outside without.
    const locals: Account[] = [];
    const remote: RemoteRecipient[] = [];
    const outside: Outside[] = [];
    const keys = new Map<string, string>([[senderSecrets.fingerprint, senderSecrets.publicKey]]);
    for (const address of submission.recipients) {
      const account = await store.getAccount(address);
      if (account !== null) {
        locals.push(account);
        const secrets = await store.getSecrets(account.id);
        keys.set(secrets.fingerprint, secrets.publicKey);
        continue;
      }
      const peer = options.peers === undefined ? null : await options.peers.lookup(address);
      if (peer !== null) {
        remote.push(peer);
        keys.set(peer.fingerprint, peer.armoredKey);
        continue;
      }
      // Re-checked here: the key directory may have changed since RCPT TO.
      if (relay === null) throw new NoRelayError(address);
      const key = await directory.lookup(address);
      if (key === null && policy !== 'plain') throw new NoKeyError(address);
      if (key !== null) keys.set(key.fingerprint, key.armored);
      outside.push({ address, armored: key?.armored ?? null });
    }

    const messageHash = createHash('sha256').update(raw).digest('hex');
    // An expiring message in a network: sealed with a session key only custodians
    // can give back (pipeline/expiry-keys.ts). Mail to outside recipients would
    // leave the network's reach, so the two do not mix.
    const custody = expires !== null ? (options.expiryKeys ?? null) : null;
    if (custody !== null && outside.length > 0) throw new ExpiryOutsideError(outside.map((o) => o.address));
    let sealed: { ciphertext: Uint8Array; ticket: Uint8Array | null };
    if (custody !== null && expires !== null) {
      const readers = [...new Set(remote.map((r) => r.nodeId))];
      sealed = await custody.seal({ raw, signingKey, messageHash: Buffer.from(messageHash, 'hex'), expires, readers, ...(custodians === null ? {} : { n: custodians }) });
    } else {
      // `raw` is not handed over (a pool copies it): it is hashed and relayed below, and the SMTP layer logs its size.
      sealed = { ciphertext: await encrypt({ data: raw, encryptionKeys: [...keys.values()], signingKey }), ticket: null };
    }
    const { ciphertext, ticket } = sealed;
    const cid = await storage.put(ciphertext);
    const { seq } = await ledger.append({ cid, messageHash, sender: senderSecrets.fingerprint, time, expires });
    // Relaying comes before queueing local copies: when the provider defers,
    // the client is told 451 and retries, and local recipients must not have
    // received the first attempt already.
    if (outside.length > 0 && relay !== null) {
      await relayOutside({ from: submission.from, raw, ciphertext, outside, autocrypt: autocryptHeader(sender.address, senderSecrets.publicKey) });
    }
    // The ticket before the deliveries: one read without it would look like a message that does not expire.
    if (ticket !== null) options.peers?.saveTicket(cid, ticket, messageId);
    if (locals.length > 0) {
      await store.enqueueDeliveries(locals.map((a) => ({ accountId: a.id, cid, seq, messageId })));
    }
    // Durable before 250 like the local queue: posted and pushed right after.
    if (remote.length > 0) options.peers?.announce({ cid, seq, recipients: remote, ...(ticket === null ? {} : { ticket }) });
    // The copy the sender's client APPENDs to Sent expires with the message (pipeline/expiry.ts).
    if (expires !== null) await store.rememberSentExpiry(sender.id, messageId, expires);
    log.info({ session: submission.sessionId, cid, seq, local: locals.length, remote: remote.length, outside: outside.length, bytes: raw.byteLength, expires }, 'sealed');
    if (locals.length > 0) options.onQueued?.(locals);
    return { id: cid };
  }

  async function relayOutside(input: { from: string; raw: Uint8Array; ciphertext: Uint8Array; outside: Outside[]; autocrypt: string }): Promise<void> {
    if (relay === null) return;
    const encrypted = input.outside.filter((o) => o.armored !== null).map((o) => o.address);
    const plain = input.outside.filter((o) => o.armored === null).map((o) => o.address);
    if (encrypted.length > 0) {
      const mime = buildPgpMime({ original: input.raw, armoredCiphertext: await armorMessage(input.ciphertext), autocrypt: input.autocrypt });
      await relay.send({ from: input.from, to: encrypted, raw: mime });
    }
    if (plain.length > 0) {
      log.warn({ recipients: plain.length }, 'relaying without encryption (relay.policy = plain)');
      await relay.send({ from: input.from, to: plain, raw: input.raw });
    }
  }

  return { checkRecipient, submit };
}
