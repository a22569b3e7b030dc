// Mail between Sealpost nodes (issue 4): this node in the network.
// - Joining: the node's record (node id = its Ed25519 key, its X25519 key, its
//   libp2p addresses) and a first-come claim per account address (with the
//   CID of the account's public key, stored here and fetched by senders over
//   bitswap) go into the registry.
// - Sending: a recipient whose address another node claims is a remote
//   recipient. After the message is sealed, stored and recorded, one stealth
//   announcement per recipient node (ERC-5564 idea, network/stealth.ts) is
//   queued durably (peer-state.ts) before SMTP answers 250, then posted to the
//   registry (ledger) and pushed to the node directly. The announcement's
//   sealed payload names the recipients' addresses, the CID, the ledger record
//   and where this node listens; nobody else can tell whom it is for.
// - Receiving: announcements are scanned from the registry (resuming at a
//   saved cursor) and accepted from pushes; one recognised as this node's is
//   queued as a delivery with its origin node. The inbound pipeline fetches
//   the ciphertext from that node (bitswap) and the record's proof (protocol
//   /sealpost/proof/1.0.0, given only to nodes the record was announced to),
//   and checks the proof before the message reaches INBOX.
import type { Logger } from 'pino';
import { NotAllowedError, SealpostError, ValidationError } from '../errors/index.ts';
import type { Ledger, Proof, Verification } from '../ledger/types.ts';
import type { AccountId, MailStore } from '../mailstore/types.ts';
import type { NodeIdentity } from '../network/identity.ts';
import { makeScanner, stealthAnnounce } from '../network/stealth.ts';
import type { Network, RemoteNode } from '../network/types.ts';
import { formatNodeId, parseNodeId, signAddressClaim, signNodeRecord } from '../registry/records.ts';
import type { Announcement, NodeRecord, Registry } from '../registry/types.ts';
import type { BlockStorage, Cid } from '../storage/types.ts';
import { readPublicKeys } from '../crypto/pgp.ts';
import type { PeerState } from './peer-state.ts';
import { verifyRemoteProof } from './remote-proof.ts';

export const PUSH_PROTOCOL = '/sealpost/push/1.0.0';
export const PROOF_PROTOCOL = '/sealpost/proof/1.0.0';

/** A recipient served by another node. */
export interface RemoteRecipient {
  address: string;
  /** base64 node id of the node that claimed the address */
  nodeId: string;
  /** that node's X25519 key (registry), which its announcements are sealed to */
  encKey: Uint8Array;
  /** the account's armored OpenPGP public key, fetched by the claim's keyRef (CID) */
  armoredKey: string;
  fingerprint: string;
}

export interface PeersOptions {
  identity: NodeIdentity;
  network: Network;
  registry: Registry;
  storage: BlockStorage;
  ledger: Pick<Ledger, 'prove' | 'verify'>;
  store: Pick<MailStore, 'listAccounts' | 'getAccount' | 'getSecrets' | 'enqueueDeliveries'>;
  state: PeerState;
  logger: Logger;
  /** how often the registry's announcements are scanned, ms */
  scanIntervalMs: number;
  /** called after mail from another node was queued for these accounts */
  onQueued: (accounts: AccountId[]) => void;
  /** called after each scan (the inbound pipeline retries what waited for another node) */
  onScanned?: () => void;
  /** carries out a revocation `sealpost revoke` asked for (the custody client's revoke); returns its outcome as JSON */
  revoke?: (ticket: Uint8Array) => Promise<string>;
}

export interface Peers {
  readonly nodeId: string;
  /**
   * The remote recipient for `address`, or null when no other node claims it.
   * @throws SealpostError (PEER_KEY_UNAVAILABLE) when a node claims it but its key cannot be fetched
   */
  lookup(address: string): Promise<RemoteRecipient | null>;
  /** Queues the announcements of one message to its remote recipients, durably; posting and pushing follow. */
  announce(input: { cid: string; seq: number; recipients: readonly RemoteRecipient[]; ticket?: Uint8Array }): void;
  /** Keeps an expiring message's custody ticket (for this node's own recipients, and its sender's revoke). */
  saveTicket(cid: string, ticket: Uint8Array, messageId?: string): void;
  /** The custody ticket of an expiring message, or null for one that does not expire. */
  ticket(cid: string): Uint8Array | null;
  /** The armored public key another node publishes for `address`, or null. */
  senderKey(address: string): Promise<string | null>;
  /** Connects to node `origin` (so that bitswap can fetch from it). */
  connect(origin: string): Promise<void>;
  /** The proof of record `seq` from node `origin`; null when it is not anchored yet or the node is unreachable. */
  proof(origin: string, seq: number): Promise<Proof | null>;
  /** Checks another node's proof: record, Merkle path, and an anchor made by that node (or on the chain). */
  verifyProof(proof: Proof, origin: string): Promise<Verification>;
  close(): Promise<void>;
}

/** The sealed payload of an announcement (JSON). */
interface Pointer {
  v: 1;
  /** recipients' addresses at the receiving node */
  to: string[];
  cid: string;
  /** the record in the sender node's ledger */
  seq: number;
  /** the sender node's id */
  from: string;
  /** where the sender node listens */
  addrs: string[];
  /** an expiring message: its custody ticket (custody/wire.ts), base64 */
  k?: string;
}

const MAX_ADDRS = 4;
/** addresses named in an announcement (the payload is at most 1,024 bytes, a ticket takes 450) */
const POINTER_ADDRS = 2;
const POST_BATCH = 256;

/** An announcement as JSON text (outbox rows, pushes). */
function encodeEntry(a: Announcement): string {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return JSON.stringify({ e: b64(a.ephemeralPublic), v: a.viewTag, t: b64(a.tag), p: b64(a.payload) });
}

/** @throws ValidationError (field `announcement`) on anything but encodeEntry's form */
function decodeEntry(text: string): Announcement {
  const bad = () => new ValidationError('announcement', 'is not an announcement');
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw bad();
  }
  if (typeof o !== 'object' || o === null) throw bad();
  const { e, v, t, p } = o as Record<string, unknown>;
  if (typeof e !== 'string' || typeof t !== 'string' || typeof p !== 'string' || typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw bad();
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
  const entry = { ephemeralPublic: bytes(e), viewTag: v, tag: bytes(t), payload: bytes(p) };
  if (entry.ephemeralPublic.length !== 32 || entry.tag.length !== 32 || entry.payload.length > 1024) throw bad();
  return entry;
}

function parsePointer(bytes: Uint8Array): Pointer | null {
  try {
    const o = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<Pointer>;
    if (o.v !== 1 || !Array.isArray(o.to) || !o.to.every((a) => typeof a === 'string' && a.length <= 320)) return null;
    if (typeof o.cid !== 'string' || o.cid.length > 200 || typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 1) return null;
    if (typeof o.from !== 'string' || !Array.isArray(o.addrs) || !o.addrs.every((a) => typeof a === 'string')) return null;
    if (o.k !== undefined && (typeof o.k !== 'string' || o.k.length > 700)) return null;
    parseNodeId(o.from);
    return o as Pointer;
  } catch {
    return null;
  }
}

function rawX25519Private(identity: NodeIdentity): Uint8Array {
  const jwk = identity.x25519.privateKey.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(String(jwk.d), 'base64url'));
}

/** Starts the node's part in the network: serves push and proof, scans, posts. Call join() next. */
export async function startPeers(options: PeersOptions): Promise<Peers & { join(): Promise<void> }> {
  const { identity, network, registry, storage, ledger, store, state } = options;
  const log = options.logger.child({ part: 'peers' });
  const self = identity.nodeId;
  const signer = { publicKey: identity.ed25519.publicKey, sign: (m: Uint8Array) => identity.ed25519.sign(m) };
  const scanner = makeScanner(rawX25519Private(identity));
  const keyCache = new Map<string, { armored: string; fingerprint: string }>();
  let closed = false;
  let scanTimer: NodeJS.Timeout | null = null;
  let work: Promise<void> = Promise.resolve();

  const nodeOf = async (nodeId: string): Promise<NodeRecord | null> => registry.getNode(parseNodeId(nodeId));

  /** The peer id to send to, connecting first when needed; null when the node cannot be reached (or is this one). */
  async function connect(nodeId: string, known: { record?: NodeRecord | null; hint?: readonly string[] } = {}): Promise<string | null> {
    if (nodeId === self) return null;
    const open = network.connections().find((c) => c.nodeId === nodeId);
    if (open !== undefined) return open.peerId;
    const record = known.record !== undefined ? known.record : await nodeOf(nodeId).catch(() => null);
    const addrs = [...(record?.addrs ?? []), ...(known.hint ?? [])].slice(0, MAX_ADDRS * 2);
    for (const addr of addrs) {
      try {
        const remote = await network.dial(addr, { timeoutMs: 3000 });
        if (remote.nodeId === nodeId) return remote.peerId;
      } catch (error) {
        log.debug({ node: nodeId, addr, err: (error as Error).message }, 'dial failed');
      }
    }
    return null;
  }

  // --- joining -------------------------------------------------------------

  async function join(): Promise<void> {
    const addrs = network.addrs().slice(0, MAX_ADDRS);
    const current = await registry.getNode(identity.ed25519.publicKey);
    const sameKey = current !== null && Buffer.from(current.encKey).equals(Buffer.from(identity.x25519.publicKey));
    if (current === null || !sameKey || current.addrs.join(' ') !== addrs.join(' ')) {
      const seq = Math.max(Date.now(), (current?.seq ?? 0) + 1);
      await registry.registerNode(await signNodeRecord(signer, registry.domain, { encKey: identity.x25519.publicKey, addrs, seq }));
      log.info({ node: self, addrs }, 'node registered');
    }
    for (const account of await store.listAccounts()) {
      try {
        await claim(account.id, account.address);
      } catch (error) {
        // Another node's claim came first: this account cannot get mail from other nodes.
        log.error({ account: account.address, err: (error as Error).message }, 'cannot claim the address in the registry');
      }
    }
  }

  async function claim(accountId: AccountId, address: string): Promise<void> {
    const secrets = await store.getSecrets(accountId);
    const existing = await registry.lookupAddress(address);
    const keyRef = await storage.put(new TextEncoder().encode(secrets.publicKey));
    await storage.pin(keyRef);
    if (existing !== null && formatNodeId(existing.nodeId) === self && existing.fingerprint === secrets.fingerprint && existing.keyRef === keyRef) return;
    const seq = Math.max(Date.now(), (existing?.seq ?? 0) + 1);
    await registry.claimAddress(await signAddressClaim(signer, registry.domain, { address, fingerprint: secrets.fingerprint, keyRef, seq }));
    log.info({ account: address }, 'address claimed in the registry');
  }

  // --- sending -------------------------------------------------------------

  async function lookup(address: string): Promise<RemoteRecipient | null> {
    let found;
    try {
      found = await registry.lookupAddress(address);
    } catch (error) {
      if (error instanceof ValidationError) return null; // not a mail address the registry can hold
      throw error;
    }
    if (found === null) return null;
    const nodeId = formatNodeId(found.nodeId);
    if (nodeId === self) return null; // ours: a local account (or one removed here)
    const record = await nodeOf(nodeId);
    if (record === null) throw new SealpostError('PEER_UNKNOWN_NODE', `<${address}>: its node is not in the registry`);
    let key = keyCache.get(`${found.fingerprint} ${found.keyRef}`);
    if (key === undefined) {
      await connect(nodeId, { record });
      let armored: string;
      try {
        armored = new TextDecoder().decode(await storage.get(found.keyRef as Cid));
      } catch (cause) {
        throw new SealpostError('PEER_KEY_UNAVAILABLE', `<${address}>: the key of this recipient on another Sealpost node cannot be fetched now; try again later`, { cause });
      }
      const [info] = await readPublicKeys(armored).catch(() => []);
      if (info === undefined || info.fingerprint !== found.fingerprint || !info.canEncrypt) {
        throw new SealpostError('PEER_KEY_UNAVAILABLE', `<${address}>: the key published for this recipient does not match its registry claim`);
      }
      key = { armored, fingerprint: info.fingerprint };
      keyCache.set(`${found.fingerprint} ${found.keyRef}`, key);
    }
    return { address, nodeId, encKey: record.encKey, armoredKey: key.armored, fingerprint: key.fingerprint };
  }

  function announce(input: { cid: string; seq: number; recipients: readonly RemoteRecipient[]; ticket?: Uint8Array }): void {
    const byNode = new Map<string, { encKey: Uint8Array; to: string[] }>();
    for (const r of input.recipients) {
      const node = byNode.get(r.nodeId) ?? { encKey: r.encKey, to: [] };
      node.to.push(r.address);
      byNode.set(r.nodeId, node);
    }
    const items: Array<{ seq: number; nodeId: string; entry: string }> = [];
    for (const [nodeId, { encKey, to }] of byNode) {
      const pointer: Pointer = {
        v: 1, to, cid: input.cid, seq: input.seq, from: self, addrs: network.addrs().slice(0, POINTER_ADDRS),
        ...(input.ticket === undefined ? {} : { k: Buffer.from(input.ticket).toString('base64') }),
      };
      const a = stealthAnnounce(encKey, new TextEncoder().encode(JSON.stringify(pointer)));
      items.push({ seq: input.seq, nodeId, entry: encodeEntry({ ephemeralPublic: a.ephemeralPublic, viewTag: a.viewTag, tag: a.tag, payload: a.sealedPayload }) });
    }
    state.queue(items);
    kick();
  }


  /** Posts queued announcements to the registry and pushes them; runs one at a time. */
  function kick(): void {
    work = work.then(flush).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'posting announcements failed; retrying at the next scan'));
  }

  async function flush(): Promise<void> {
    if (closed) return;
    for (;;) {
      const rows = state.unposted(POST_BATCH);
      if (rows.length === 0) break;
      await registry.announce(rows.map((r) => decodeEntry(r.entry)));
      state.markPosted(rows.map((r) => r.id));
    }
    // A push only makes it sooner: the recipient's scan finds the announcement anyway.
    for (const row of state.unpushed(POST_BATCH)) {
      state.markPushed(row.id);
      void (async () => {
        const peer = await connect(row.nodeId);
        if (peer === null) return;
        await network.request(peer, PUSH_PROTOCOL, new TextEncoder().encode(row.entry), { timeoutMs: 5000 });
      })().catch((error: unknown) => log.debug({ node: row.nodeId, err: (error as Error).message }, 'push failed; the ledger scan will deliver'));
    }
  }

  // --- receiving -----------------------------------------------------------

  async function receive(entry: Announcement): Promise<boolean> {
    const opened = scanner({ ephemeralPublic: entry.ephemeralPublic, viewTag: entry.viewTag, tag: entry.tag, sealedPayload: entry.payload });
    if (opened === null) return false;
    const pointer = parsePointer(opened);
    if (pointer === null || pointer.from === self) {
      log.warn('an announcement for this node holds no valid pointer; ignored');
      return false;
    }
    const items = [];
    for (const address of pointer.to) {
      const account = await store.getAccount(address);
      if (account === null) {
        log.warn({ address }, 'announced mail for an address with no account here; ignored');
        continue;
      }
      items.push({ accountId: account.id, cid: pointer.cid, seq: pointer.seq, messageId: null, origin: pointer.from });
    }
    if (items.length === 0) return false;
    // The ticket first: a delivery queued without it would be read as a message that does not expire.
    if (pointer.k !== undefined) state.saveTicket(pointer.cid, new Uint8Array(Buffer.from(pointer.k, 'base64')));
    const queued = await store.enqueueDeliveries(items);
    log.info({ from: pointer.from, seq: pointer.seq, cid: pointer.cid, accounts: queued.length }, 'mail from another node queued');
    // Fetch the ciphertext now, in the background (and keep it: replication), so
    // that delivery finds it local instead of waiting on bitswap one message at a time.
    void connect(pointer.from, { hint: pointer.addrs.slice(0, MAX_ADDRS) })
      .then(() => storage.pin(pointer.cid as Cid))
      .catch((error: unknown) => log.debug({ cid: pointer.cid, err: (error as Error).message }, 'prefetch failed; delivery fetches it'));
    options.onQueued(queued.map((d) => d.accountId));
    return true;
  }

  async function scan(): Promise<void> {
    for (;;) {
      const page = await registry.scanAnnouncements(state.cursor() as Parameters<Registry['scanAnnouncements']>[0], 500);
      for (const entry of page.entries) await receive(entry);
      state.setCursor(page.next);
      if (page.entries.length < 500) return;
    }
  }

  /** Revocations `sealpost revoke` left for this running gateway (it must not run a second node with our identity). */
  async function revocations(): Promise<void> {
    if (options.revoke === undefined) return;
    for (const messageId of state.pendingRevokes()) {
      const sent = state.sentTicket(messageId);
      let outcome: string;
      try {
        outcome = sent === null ? JSON.stringify({ error: `this node sent no expiring message with Message-ID <${messageId}>` }) : JSON.stringify({ cid: sent.cid, ...JSON.parse(await options.revoke(sent.ticket)) });
      } catch (error) {
        outcome = JSON.stringify({ error: (error as Error).message });
      }
      state.finishRevoke(messageId, outcome);
      log.info({ messageId }, 'revocation carried out');
    }
  }

  function scheduleScan(): void {
    if (closed) return;
    scanTimer = setTimeout(() => {
      work = work
        .then(async () => {
          await scan();
          await flush();
          await revocations();
          options.onScanned?.();
        })
        .catch((error: unknown) => log.warn({ err: (error as Error).message }, 'scanning announcements failed; retrying'))
        .finally(scheduleScan);
    }, options.scanIntervalMs);
    scanTimer.unref();
  }

  await network.handle(PUSH_PROTOCOL, async (body) => {
    const accepted = await receive(decodeEntry(new TextDecoder().decode(body)));
    return new TextEncoder().encode(accepted ? 'ok' : 'ignored');
  }, { maxRequestBytes: 4096, maxConcurrent: 32 });

  await network.handle(PROOF_PROTOCOL, async (body, from: RemoteNode) => {
    let seq: unknown;
    try {
      ({ seq } = JSON.parse(new TextDecoder().decode(body)) as { seq?: unknown });
    } catch {
      throw new ValidationError('request', 'is not JSON');
    }
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new ValidationError('seq', 'must be a positive integer');
    // Records are private to the nodes they were announced to.
    if (!state.wasTold(seq, from.nodeId)) throw new NotAllowedError(`record ${seq} was not sent to node ${from.nodeId}`);
    const proof = await ledger.prove(seq);
    return new TextEncoder().encode(JSON.stringify({ proof }));
  }, { maxRequestBytes: 256, maxConcurrent: 16 });

  kick(); // what a previous run queued and did not post
  work = work.then(scan).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'first scan failed; retrying'));
  scheduleScan();

  return {
    nodeId: self,
    join,
    lookup,
    announce,
    async connect(origin) {
      await connect(origin);
    },
    saveTicket: (cid, ticket, messageId) => state.saveTicket(cid, ticket, messageId),
    ticket: (cid) => state.ticket(cid),
    async senderKey(address) {
      return (await lookup(address))?.armoredKey ?? null;
    },
    async proof(origin, seq) {
      const peer = await connect(origin);
      if (peer === null) return null;
      try {
        const answer = await network.request(peer, PROOF_PROTOCOL, new TextEncoder().encode(JSON.stringify({ seq })), { timeoutMs: 10_000 });
        return (JSON.parse(new TextDecoder().decode(answer)) as { proof: Proof | null }).proof;
      } catch (error) {
        log.debug({ origin, seq, err: (error as Error).message }, 'proof not available yet');
        return null;
      }
    },
    async verifyProof(proof, origin) {
      const result = await verifyRemoteProof(ledger, proof, origin);
      if (result.ok) state.saveProof(proof.record.cid, origin, proof); // for `sealpost verify` later
      return result;
    },
    async close() {
      closed = true;
      if (scanTimer !== null) clearTimeout(scanTimer);
      await network.unhandle(PUSH_PROTOCOL).catch(() => undefined);
      await network.unhandle(PROOF_PROTOCOL).catch(() => undefined);
      await work.catch(() => undefined);
    },
  };
}
