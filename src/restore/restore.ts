// `sealpost restore` (DESIGN.md "restore/ (key only) → ledger scan + storage
// fetch + mailbox snapshots → mailstore/"): on a new machine, from the key
// backup alone:
//   read the backup → a data directory with the old node identity
//   (prepare.ts) → the account with its old key, under a new client password
//   → the peer network → the account's replicas (pipeline/replication.ts tag)
//   → the latest snapshot pointer any of them holds (signed by the node key)
//   → the snapshot (signed by the account key) → every message it names that
//   has not expired: fetched from the replicas over bitswap, decrypted (an
//   expiring one with the key its custodians give back), put back in its
//   folder with its flags, date and expiry, and pinned here.
// Each message is appended with a source id (mailstore imports), so a restore
// interrupted and run again finishes without duplicates.
import type { Logger } from 'pino';
import { openLedger, openNode, openStorage } from '../app.ts';
import { readBackup } from '../backup/format.ts';
import { saveConfig } from '../config/config.ts';
import { decryptMessage } from '../crypto/pgp.ts';
import { SealpostError } from '../errors/index.ts';
import type { ImportInput } from '../mailstore/types.ts';
import { openPeerNetwork } from '../peer-node.ts';
import { openPeerState } from '../pipeline/peer-state.ts';
import { findOrCreateFolder } from '../pipeline/import.ts';
import { accountTag } from '../pipeline/replication.ts';
import { openSnapshot, type MailboxSnapshot, type SnapshotMailbox } from '../snapshot/format.ts';
import { openSnapshotState } from '../snapshot/state.ts';
import type { Cid } from '../storage/types.ts';
import { prepareRestoreDir, RestoreError } from './prepare.ts';

export interface RestoreProgress {
  label: string;
  done: number;
  skipped: number;
  bytes: number;
  total: number | null;
  startedAt: number;
}

export interface RestoreResult {
  account: string;
  /** the client password of the restored account */
  password: string;
  /** true when it was generated (print it) */
  generated: boolean;
  snapshot: { seq: number; takenAt: number; cid: string };
  restored: number;
  /** restored by an earlier, interrupted run */
  already: number;
  /** left out: their expiry has passed */
  expired: number;
  /** left out: expiring messages whose custodians did not give their key back */
  expiring: number;
  /** could not be fetched or decrypted (named in the log) */
  failed: number;
  folders: number;
  elapsedMs: number;
}

export interface RestoreOptions {
  dataDir: string;
  backup: string | Uint8Array;
  passphrase: string;
  /** the restored account's client password; generated when not given on a first run */
  password?: string;
  logger: Logger;
  onProgress?: (progress: RestoreProgress) => void;
  now?: () => number;
}

/** messages fetched, decrypted and appended together */
const CHUNK = 128;

/**
 * Restores the account of a key backup into `dataDir`.
 * @throws BackupPassphraseError, BackupCorruptError (backup); RestoreError; AuthError (re-run with a wrong password);
 *   ChainError (EVM ledger: the chain is down)
 */
export async function restoreFromBackup(options: RestoreOptions): Promise<RestoreResult> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const contents = await readBackup(options.backup, options.passphrase);
  if (!contents.network.enabled || contents.node === null) {
    throw new RestoreError('RESTORE_NO_REPLICAS', `${contents.account.address} lived on a node outside a Sealpost network: no other node kept its mail. ` +
      'Copy the old data directory (or its ipfs/ folder) back instead; see README "Backup and restore"');
  }
  const prepared = await prepareRestoreDir(options.dataDir, contents);
  const { paths } = prepared;
  let config = prepared.config;
  const log = options.logger.child({ part: 'restore' });

  // An EVM ledger continues in a contract of its own (the old one's numbering belongs to the lost log).
  if (config.ledger.backend === 'evm' && config.ledger.evm.contract === '' && contents.ledger.evm?.privateKeyHex !== undefined) {
    const { deployAnchorContract } = await import('../ledger/evm/anchorer.ts');
    const deployed = await deployAnchorContract({ rpcUrl: config.ledger.evm.rpcUrl, privateKey: contents.ledger.evm.privateKeyHex });
    config = { ...config, ledger: { ...config.ledger, evm: { ...config.ledger.evm, contract: deployed.address } } };
    await saveConfig(paths.config, config);
    log.info({ contract: deployed.address }, 'anchor contract deployed for the restored ledger');
  }

  const node = await openNode({ dataDir: paths.dir, logger: options.logger });
  const closers: Array<() => Promise<void>> = [() => node.close()];
  try {
    const { address, fingerprint } = contents.account;
    let password = options.password;
    let generated = false;
    const existing = await node.store.getAccount(address);
    if (existing === null) {
      const created = await node.accounts.restoreAccount({ ...contents.account, keyPassphrase: options.passphrase, ...(password === undefined ? {} : { password }) });
      password = created.password;
      generated = created.generated;
    } else if (password === undefined) {
      throw new RestoreError('RESTORE_PASSWORD_NEEDED', `${address} was restored here before: give the password that run printed (--password), to finish it`);
    }
    const account = await node.accounts.authenticate(address, password, 'restore');
    const key = node.keyring.privateKey(account.id);
    if (key === null) throw new SealpostError('RESTORE_LOCKED', `the key of ${address} could not be unlocked`);

    const peer = await openPeerNetwork(paths, config, options.logger);
    closers.push(async () => {
      await peer.network.stop();
      await peer.registry.close();
    });
    const storage = await openStorage(paths, config, options.logger, peer.network.libp2p);
    closers.push(() => storage.close());
    const { createReplicaClient } = await import('../replica/client.ts');
    const replicas = createReplicaClient({ network: peer.network, registry: peer.registry, self: peer.identity, storage, logger: options.logger });
    const tag = accountTag(fingerprint);
    const latest = await replicas.latestPointer(tag);
    if (latest.pointer === null) {
      throw new RestoreError('RESTORE_NO_SNAPSHOT', `no replica holds a snapshot of ${address} (asked ${latest.from.length + latest.stale.length + latest.missing.length + latest.failures.length} nodes): ` +
        'the old node may never have taken one (it takes them while the account is logged in)');
    }
    const snapshot: MailboxSnapshot = await openSnapshot(await replicas.fetch(tag, latest.pointer.cid), key, fingerprint);
    await storage.pin(latest.pointer.cid).catch(() => undefined);
    log.info({ account: address, seq: snapshot.seq, takenAt: snapshot.takenAt, replicas: latest.from.length }, 'snapshot found');

    const total = snapshot.mailboxes.reduce((n, b) => n + b.messages.length, 0);
    const result: RestoreResult = {
      account: address, password, generated, snapshot: { seq: snapshot.seq, takenAt: snapshot.takenAt, cid: latest.pointer.cid },
      restored: 0, already: 0, expired: 0, expiring: 0, failed: 0, folders: snapshot.mailboxes.length, elapsedMs: 0,
    };
    const progress = (label: string): void => options.onProgress?.({
      label, done: result.restored, skipped: result.already + result.expired + result.expiring + result.failed, bytes: 0, total, startedAt,
    });

    // An expiring message that has not expired opens only with the key its
    // custodians give back; they release shares to this node (the same node
    // id as before, named a reader when the message was sent).
    const { createExpiryKeys } = await import('../pipeline/expiry-keys.ts');
    const expiryKeys = createExpiryKeys({ custody: { network: peer.network, registry: peer.registry, identity: peer.identity }, policy: config.network.custody });

    /** The decrypted ciphertext, null when no replica has it or it does not open (logged). */
    const fetchOne = async (cid: string, ticket?: string): Promise<Uint8Array | null> => {
      let sessionKey: Uint8Array | null = null;
      try {
        let ciphertext: Uint8Array;
        try {
          ciphertext = await storage.get(cid as Cid);
        } catch {
          ciphertext = await replicas.fetch(tag, cid as Cid);
        }
        if (ticket !== undefined) sessionKey = await expiryKeys.sessionKey(Buffer.from(ticket, 'base64'));
        const findVerificationKey = async (): Promise<string | null> => null;
        return (await decryptMessage(sessionKey === null ? { data: ciphertext, decryptionKey: key, findVerificationKey } : { data: ciphertext, sessionKey, findVerificationKey })).data;
      } catch (error) {
        log.warn({ cid, err: (error as Error).message }, 'a message of the snapshot could not be restored');
        return null;
      } finally {
        sessionKey?.fill(0);
      }
    };

    type Item = { message: SnapshotMailbox['messages'][number]; source: string };
    /** A chunk fetched and decrypted: what to append (null: left out, counted). */
    const fetchChunk = async (chunk: readonly Item[]): Promise<Array<ImportInput | null>> => {
      const done = await node.store.importedSources(account.id, chunk.map((c) => c.source));
      return Promise.all(chunk.map(async ({ message, source }): Promise<ImportInput | null> => {
        if (done.has(source)) {
          result.already++;
          return null;
        }
        if (message.expires !== null && message.expires <= now()) {
          result.expired++;
          return null;
        }
        const plain = await fetchOne(message.cid, message.ticket);
        if (plain === null) {
          // An expiring one: its custodians did not give its key back (too few reachable).
          if (message.ticket !== undefined) result.expiring++;
          else result.failed++;
          return null;
        }
        const prefix = Buffer.from(message.prefix, 'base64');
        return {
          raw: prefix.byteLength === 0 ? plain : Buffer.concat([prefix, plain]), flags: message.flags, internalDate: new Date(message.internalDate),
          expires: message.expires, source, sealed: { cid: message.cid, offset: prefix.byteLength },
        };
      }));
    };

    for (const mailbox of snapshot.mailboxes) {
      // Subscriptions come from the snapshot, below.
      const { box } = await findOrCreateFolder(node.store, account.id, { name: mailbox.name, specialUse: mailbox.specialUse, subscribed: false });
      progress(box.name);
      const occurrences = new Map<string, number>();
      const items: Item[] = mailbox.messages.map((m) => {
        const n = occurrences.get(m.cid) ?? 0;
        occurrences.set(m.cid, n + 1);
        return { message: m, source: `restore:${mailbox.name}#${m.cid}#${n}` };
      });
      // The next chunk is fetched and decrypted while this one is pinned and appended.
      let next = items.length > 0 ? fetchChunk(items.slice(0, CHUNK)) : null;
      for (let i = 0; next !== null; i += CHUNK) {
        const inputs = await next;
        next = i + CHUNK < items.length ? fetchChunk(items.slice(i + CHUNK, i + 2 * CHUNK)) : null;
        next?.catch(() => undefined);
        const fresh = inputs.filter((x): x is ImportInput => x !== null);
        if (fresh.length > 0) {
          // This node keeps its own copy of every ciphertext (pins in one transaction).
          await storage.pinMany([...new Set(fresh.map((f) => (f.sealed as { cid: string }).cid))] as Cid[]);
          const appended = await node.store.importMessages(box.id, fresh);
          result.restored += appended.filter((a) => a !== null).length;
          result.already += appended.filter((a) => a === null).length;
        }
        progress(box.name);
      }
    }
    for (const name of snapshot.subscriptions) await node.store.setSubscribed(account.id, name, true);

    // The next snapshot follows this one; the scan of announcements goes on
    // from where it stood, so mail announced after the snapshot comes in.
    const state = openSnapshotState(paths.snapshotsDb);
    state.save({ account: address, seq: snapshot.seq, cid: latest.pointer.cid, ledgerSeq: 0, takenAt: snapshot.takenAt, digest: '', messages: total });
    state.close();
    if (snapshot.scanCursor !== undefined && snapshot.scanCursor !== null) {
      const peerState = openPeerState(paths.networkDb);
      if (peerState.cursor() === null) peerState.setCursor(snapshot.scanCursor);
      peerState.close();
    }
    // The restored node's ledger is opened once so that a fresh log exists (and, for EVM, its contract is checked).
    const ledger = await openLedger(paths, config, options.logger);
    await ledger.close();
    result.elapsedMs = now() - startedAt;
    log.info({ ...result, password: undefined }, 'restore finished');
    return result;
  } finally {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        options.logger.error({ err: error }, 'error while closing the restore');
      }
    }
  }
}
