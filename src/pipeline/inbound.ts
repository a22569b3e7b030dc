// The inbound pipeline: turns queued deliveries (a CID and a ledger record per
// recipient, written by pipeline/outbound.ts) into readable INBOX messages.
// For each delivery, once the recipient's key is unlocked (they logged in)
// and the record's batch is anchored:
//   fetch the ciphertext (storage verifies every block against its CID)
//   → decrypt with the recipient's key, check the sender's signature against
//     the key directory → check SHA-256 of the plaintext against the ledger
//     record → prepend X-Sealpost-CID/-Signature/-Anchor (pipeline/view.ts)
//   → append to INBOX and mark delivered in one transaction.
// Waiting for the anchor means the header shows where the message is
// anchored, and every message a user sees has a complete proof.
// A ciphertext that is missing, corrupt, undecryptable or does not match its
// record becomes a placeholder message saying so: never wrong content.
// A message whose sender-defined expiry passed while it waited is dropped
// unread; one delivered in time carries its expiry into the mail store,
// whose expiry clock (pipeline/expiry.ts) removes it at that instant.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyRing } from '../accounts/keyring.ts';
import { decryptMessage } from '../crypto/pgp.ts';
import { SealpostError } from '../errors/index.ts';
import type { KeyDirectory } from '../keys/directory.ts';
import type { Ledger, Proof } from '../ledger/types.ts';
import type { Account, AccountId, Delivery, MailStore, SealedRef } from '../mailstore/types.ts';
import type { BlockStorage, Cid } from '../storage/types.ts';
import { headerFields, headerValue } from './message.ts';
import type { ExpiryKeys } from './expiry-keys.ts';
import type { Peers } from './peers.ts';
import { anchorText, placeholderMessage, signatureText, viewHeader } from './view.ts';

export interface InboundOptions {
  store: MailStore;
  keyring: KeyRing;
  directory: Pick<KeyDirectory, 'findByKeyId' | 'learnAutocrypt' | 'importKeys'>;
  storage: Pick<BlockStorage, 'get' | 'pin'>;
  ledger: Pick<Ledger, 'prove' | 'onAnchored' | 'anchor'>;
  /** learn senders' keys from Autocrypt headers (config keys.autocrypt) */
  autocrypt: boolean;
  logger: Logger;
  hostname?: string;
  /** the clock expiries are judged by (tests inject one) */
  now?: () => number;
  /** mail from other nodes (deliveries with an origin): their proofs and their ciphertexts */
  remote?: Pick<Peers, 'proof' | 'verifyProof' | 'connect' | 'senderKey' | 'ticket'>;
  /** expiring messages' keys from their custodians */
  expiryKeys?: Pick<ExpiryKeys, 'sessionKey'>;
}

export interface InboundPipeline {
  /**
   * Delivers what is pending for these accounts (those with an unlocked key).
   * With `flush`, first closes and anchors the open ledger batch, so that mail
   * accepted a moment ago is there when a client logs in. Resolves when done.
   */
  drain(accounts: readonly AccountId[], options?: { flush?: boolean }): Promise<void>;
  /** Delivers pending mail of every unlocked account. */
  drainAll(): Promise<void>;
  close(): Promise<void>;
}

const BATCH = 50;

export function createInboundPipeline(options: InboundOptions): InboundPipeline {
  const { store, keyring, directory, storage, ledger } = options;
  const log = options.logger.child({ part: 'inbound' });
  const hostname = options.hostname ?? 'sealpost.localhost';
  const now = options.now ?? Date.now;
  /** one drain at a time per account: deliveries keep their order */
  const running = new Map<AccountId, Promise<void>>();
  const again = new Set<AccountId>();
  let closed = false;

  /** The view to deliver and its INTERNALDATE (the acceptance time), or null when it must wait. */
  async function readable(delivery: Delivery, account: Account): Promise<{ raw: Uint8Array; time: number; expires: number | null; sealed?: SealedRef } | 'expired' | null> {
    let proof: Proof | null;
    let invalid: string | null = null;
    if (delivery.origin === null) {
      proof = await ledger.prove(delivery.seq);
    } else {
      const remote = await remoteProof(delivery);
      proof = remote?.proof ?? null;
      invalid = remote?.invalid ?? null;
    }
    if (proof === null) return null; // not anchored yet: onAnchored (or, from another node, the next scan) brings us back
    // Expired while it waited (recipient not logged in): never decrypted, never shown.
    const { expires } = proof.record;
    if (expires !== null && expires <= now()) return 'expired';
    if (invalid !== null) return { raw: placeholder(delivery, account, proof, invalid), time: proof.record.time, expires };
    const opened = await view(delivery, account, proof);
    if (opened === null) return null;
    return opened instanceof Uint8Array ? { raw: opened, time: proof.record.time, expires } : { ...opened, time: proof.record.time, expires };
  }

  /**
   * Another node's proof of its record, checked here: null while it cannot be
   * had (retried later); `invalid` says why a proof the node gave does not hold.
   */
  async function remoteProof(delivery: Delivery): Promise<{ proof: Proof; invalid: string | null } | null> {
    const { remote } = options;
    if (remote === undefined || delivery.origin === null) return null;
    const proof = await remote.proof(delivery.origin, delivery.seq);
    if (proof === null || proof.seq !== delivery.seq) return null;
    const checked = await remote.verifyProof(proof, delivery.origin);
    if (checked.ok) return { proof, invalid: null };
    const reason = checked.steps.find((s) => !s.ok)?.detail ?? 'the proof does not verify';
    return { proof, invalid: `the sending node's proof of this message does not hold: ${reason}` };
  }

  function placeholder(delivery: Delivery, account: Account, proof: Proof, reason: string): Uint8Array {
    log.warn({ account: account.address, cid: delivery.cid, seq: delivery.seq, origin: delivery.origin, reason }, 'delivering a placeholder');
    return placeholderMessage({ cid: delivery.cid, reason, seq: delivery.seq, time: proof.record.time, hostname });
  }

  /** The message as the recipient sees it, with where it is sealed (its plaintext follows our header); a placeholder on failure. */
  async function view(delivery: Delivery, account: Account, proof: Proof): Promise<{ raw: Uint8Array; sealed: SealedRef } | Uint8Array | null> {
    const key = keyring.privateKey(account.id);
    if (key === null) return null;
    const fail = (reason: string): Uint8Array => placeholder(delivery, account, proof, reason);
    if (proof.record.cid !== delivery.cid) return fail(`ledger record ${delivery.seq} names ${proof.record.cid}, not this CID`);
    let ciphertext: Uint8Array;
    try {
      if (delivery.origin !== null) await options.remote?.connect(delivery.origin);
      ciphertext = await storage.get(delivery.cid as Cid);
    } catch (error) {
      // From another node, a block not found may only mean that node is offline now: try again later.
      if (delivery.origin !== null && error instanceof SealpostError && error.code === 'BLOCK_NOT_FOUND') return null;
      if (error instanceof SealpostError) return fail(error.message);
      throw error;
    }
    // The recipient's node keeps its own copy of the ciphertext (replication).
    if (delivery.origin !== null) await storage.pin(delivery.cid as Cid).catch(() => undefined);
    // An expiring message opens only with the session key its custodians give back (pipeline/expiry-keys.ts).
    const ticket = options.remote?.ticket(delivery.cid) ?? null;
    let sessionKey: Uint8Array | null = null;
    if (ticket !== null) {
      if (options.expiryKeys === undefined) return fail('this message expires under custody, and this node is not in a network with custodians');
      try {
        sessionKey = await options.expiryKeys.sessionKey(ticket);
      } catch (error) {
        if (error instanceof SealpostError) return fail(`the key of this expiring message could not be recovered: ${error.message}`);
        throw error;
      }
    }
    let plain: Awaited<ReturnType<typeof decryptMessage>>;
    const findVerificationKey = async (keyId: string) => (await directory.findByKeyId(keyId))?.armored ?? null;
    const open = () => decryptMessage(sessionKey === null ? { data: ciphertext, decryptionKey: key, findVerificationKey } : { data: ciphertext, sessionKey, findVerificationKey });
    try {
      plain = await open();
      // A sender on another node: its key is the one its node published with its
      // address claim (the registry), fetched once and kept in the directory.
      if (plain.signature.status === 'unknown-key' && delivery.origin !== null && options.remote !== undefined && (await learnSender(plain.data))) {
        plain = await open();
      }
    } catch (error) {
      if (error instanceof SealpostError) return fail(`the ciphertext could not be decrypted (${error.message})`);
      throw error;
    } finally {
      sessionKey?.fill(0);
    }
    const hash = createHash('sha256').update(plain.data).digest('hex');
    if (hash !== proof.record.messageHash) return fail(`the decrypted message does not match the hash in ledger record ${delivery.seq}`);
    let signer: string | null = null;
    if (plain.signature.status === 'valid' && plain.signature.keyId !== undefined) {
      signer = (await directory.findByKeyId(plain.signature.keyId))?.address ?? null;
    }
    if (options.autocrypt) await learn(plain.data);
    const header = Buffer.from(viewHeader({ cid: delivery.cid, signature: signatureText(plain.signature, signer), anchor: anchorText(proof) }), 'utf8');
    return { raw: Buffer.concat([header, plain.data]), sealed: { cid: delivery.cid, offset: header.byteLength } };
  }

  /** Imports the key the registry names for the message's From address; true when one was imported. */
  async function learnSender(message: Uint8Array): Promise<boolean> {
    const from = headerValue(headerFields(message), 'from');
    const address = from === null ? null : (/<([^<>\s]+@[^<>\s]+)>/.exec(from)?.[1] ?? from.trim());
    if (address === null || options.remote === undefined) return false;
    try {
      const armored = await options.remote.senderKey(address);
      if (armored === null) return false;
      return (await directory.importKeys(armored)).length > 0;
    } catch (error) {
      log.info({ from: address, err: (error as Error).message }, "the sender's key could not be had from the registry");
      return false;
    }
  }

  async function learn(message: Uint8Array): Promise<void> {
    const fields = headerFields(message);
    const header = headerValue(fields, 'autocrypt');
    const from = headerValue(fields, 'from');
    const address = from === null ? null : (/<([^<>\s]+@[^<>\s]+)>/.exec(from)?.[1] ?? from.trim());
    const date = Date.parse(headerValue(fields, 'date') ?? '');
    if (header === null || address === null) return;
    try {
      await directory.learnAutocrypt({ from: address, header, date: Number.isNaN(date) ? new Date() : new Date(date) });
    } catch (error) {
      log.info({ err: (error as Error).message }, 'Autocrypt header ignored');
    }
  }

  async function drainOne(accountId: AccountId): Promise<void> {
    const account = await store.getAccountById(accountId);
    if (account === null || !keyring.isUnlocked(accountId)) return;
    const inbox = await store.getMailbox(accountId, 'INBOX');
    if (inbox === null) return;
    for (;;) {
      const pending = await store.pendingDeliveries(accountId, BATCH);
      let progressed = 0;
      for (const delivery of pending) {
        if (closed) return;
        const ready = await readable(delivery, account);
        if (ready === null) continue;
        if (ready === 'expired') {
          await store.failDelivery(delivery.id, 'expired before the recipient logged in');
          log.info({ account: account.address, cid: delivery.cid, seq: delivery.seq }, 'expired before delivery');
        } else {
          await store.deliver(delivery.id, inbox.id, {
            raw: ready.raw, flags: [], internalDate: new Date(ready.time), expires: ready.expires, ...(ready.sealed === undefined ? {} : { sealed: ready.sealed }),
          });
        }
        progressed++;
      }
      if (pending.length < BATCH || progressed === 0) return;
    }
  }

  function drainAccount(accountId: AccountId): Promise<void> {
    const current = running.get(accountId);
    if (current !== undefined) {
      again.add(accountId);
      return current;
    }
    const run = (async () => {
      try {
        do {
          again.delete(accountId);
          await drainOne(accountId);
        } while (again.has(accountId) && !closed);
      } catch (error) {
        log.error({ err: error, account: accountId }, 'BUG: inbound delivery failed; it stays queued');
      } finally {
        running.delete(accountId);
      }
    })();
    running.set(accountId, run);
    return run;
  }

  async function drainAll(): Promise<void> {
    const ids = await store.accountsWithPending();
    await Promise.all(ids.filter((id) => keyring.isUnlocked(id)).map(drainAccount));
  }

  const unsubscribeUnlock = keyring.onUnlock((account) => void drainAccount(account.id));
  const unsubscribeAnchor = ledger.onAnchored(() => void drainAll());

  return {
    drain: async (accounts, drainOptions) => {
      const unlocked = accounts.filter((id) => keyring.isUnlocked(id));
      if (unlocked.length === 0) return;
      if (drainOptions?.flush === true) {
        let waiting = false;
        for (const id of unlocked) if ((await store.pendingDeliveries(id, 1)).length > 0) waiting = true;
        if (waiting) {
          try {
            await ledger.anchor();
          } catch (error) {
            // A chain that is down must not block logins: the mail comes once anchored.
            log.warn({ err: (error as Error).message }, 'could not anchor the open batch at login');
          }
        }
      }
      await Promise.all(unlocked.map(drainAccount));
    },
    drainAll,
    close: async () => {
      closed = true;
      unsubscribeUnlock();
      unsubscribeAnchor();
      await Promise.all(running.values());
    },
  };
}
