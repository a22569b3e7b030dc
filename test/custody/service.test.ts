// Expiry custody end to end (custody/service.ts, client.ts, vault.ts, wire.ts)
// on real libp2p nodes on 127.0.0.1: a sender, a recipient, an outsider and
// five more nodes, each with its own data directory, identity and custody.db,
// registered in one shared local registry file, all on one injected clock.
// Custodians are the 5 of the 6 non-party nodes that rendezvous hashing picks;
// the tests pick message hashes that leave the outsider out, so it is never a
// custodian of the message it is refused.
import { readFile } from 'node:fs/promises';
import test, { type ExecutionContext } from 'ava';
import { collectSecret, depositShares, revoke } from '../../src/custody/client.ts';
import { sealTo } from '../../src/custody/ecies.ts';
import { CustodyCollectError, CustodyDepositError } from '../../src/custody/errors.ts';
import { selectCustodians } from '../../src/custody/select.ts';
import { deriveSessionKey, newExpirySecret } from '../../src/custody/session-key.ts';
import { encodeShare, split } from '../../src/custody/shamir.ts';
import { encodeCommitments } from '../../src/custody/pedersen.ts';
import { CUSTODY_PROTOCOL } from '../../src/custody/types.ts';
import {
  decodeReleaseResponse, decodeTicket, depositAad, encodeRequest, encodeTicket, signingBytes, signRequest, type SignedFields,
} from '../../src/custody/wire.ts';
import { NetworkRemoteError } from '../../src/network/errors.ts';
import { verifyDeletionReceipt, formatNodeId } from '../../src/registry/records.ts';
import { hashAvoiding, startCluster, tamperingVault, type Cluster, type ClusterOptions, type CustodyNode } from './cluster.ts';

const NAMES = ['sender', 'recipient', 'outsider', 'c1', 'c2', 'c3', 'c4', 'c5'];
const HOUR = 3600_000;

function cluster(t: ExecutionContext, options: Partial<ClusterOptions> = {}): Promise<Cluster> {
  return startCluster((fn) => t.teardown(fn), { names: NAMES, ...options });
}

/** The sender deposits a fresh secret for the recipient, expiring in an hour. */
async function depositOne(c: Cluster, hash?: Uint8Array) {
  const sender = c.node('sender');
  const recipient = c.node('recipient');
  const messageHash = hash ?? hashAvoiding(c, 5, [sender.nodeId, recipient.nodeId], [c.node('outsider').nodeId]);
  const secret = newExpirySecret();
  const result = await depositShares(sender.ctx, { messageHash, secret, expiresAt: c.clock.now() + HOUR, readers: [recipient.nodeId] });
  return { ...result, secret, messageHash, custodians: result.ticket.custodians.map((id) => c.byId(id)) };
}

/** The remote code of a refused request. */
async function refusal(t: ExecutionContext, promise: Promise<unknown>): Promise<string> {
  const err = await t.throwsAsync(promise, { instanceOf: NetworkRemoteError });
  return err?.remoteCode ?? '(none)';
}

/** A raw custody request from `from` to `to`. */
function ask(from: CustodyNode, to: CustodyNode, body: Uint8Array): Promise<Uint8Array> {
  return from.network.request(to.network.addrs()[0]!, CUSTODY_PROTOCOL, body, { timeoutMs: 10_000 });
}

function releaseFields(c: Cluster, ref: Uint8Array, custodian: CustodyNode, requester: CustodyNode): SignedFields {
  return { ref, sender: c.node('sender').nodeId, custodian: custodian.nodeId, requester: requester.nodeId, time: c.clock.now() };
}

function includes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}

/** custody.db and its -wal as they are on disk now (a missing -wal reads as empty). */
async function dbBytes(node: CustodyNode): Promise<Uint8Array> {
  const parts = await Promise.all([node.dbPath, `${node.dbPath}-wal`].map((f) => readFile(f).catch(() => Buffer.alloc(0))));
  return Buffer.concat(parts);
}

test.serial('deposit to 5 custodians (t=3): the recipient and the sender collect the same secret and session key', async (t) => {
  const c = await cluster(t);
  const { ticket, acknowledged, failures, secret, messageHash, custodians } = await depositOne(c);
  const parties = [c.node('sender').nodeId, c.node('recipient').nodeId];

  const allIds = [...c.nodes.values()].map((n) => ({ id: n.nodeId }));
  t.deepEqual(ticket.custodians, selectCustodians(messageHash, allIds, 5, parties), 'rendezvous choice over the registry');
  t.false(ticket.custodians.some((id) => parties.includes(id)), 'no party holds a share');
  t.is(ticket.t, 3);
  t.deepEqual([...acknowledged].sort(), [...ticket.custodians].sort());
  t.deepEqual(failures, {});
  t.deepEqual(decodeTicket(encodeTicket(ticket)), ticket);

  custodians.forEach((node, i) => {
    const held = node.vault.get(messageHash, ticket.sender);
    t.is(held?.index, i + 1, `custodian ${i} holds share ${i + 1}`);
    t.deepEqual(held?.readers, [c.node('recipient').nodeId]);
  });
  for (const name of ['sender', 'recipient', 'outsider']) t.is(c.node(name).vault.count(), 0, `${name} holds nothing`);

  const read = await collectSecret(c.node('recipient').ctx, decodeTicket(encodeTicket(ticket)));
  t.is(read.secret, secret);
  t.deepEqual(deriveSessionKey(read.secret, messageHash), deriveSessionKey(secret, messageHash));
  t.true(read.tally.good >= 3);
  t.is((await collectSecret(c.node('sender').ctx, ticket)).secret, secret, 'the sender may read its own message');
});

test.serial('two custodians stopped: still recoverable; three stopped: CUSTODY_TOO_FEW_SHARES', async (t) => {
  const c = await cluster(t);
  const { ticket, secret, custodians } = await depositOne(c);
  const reader = c.node('recipient').ctx;

  await custodians[0]!.stop();
  await custodians[3]!.stop();
  const read = await collectSecret(reader, ticket);
  t.is(read.secret, secret);
  t.is(read.tally.good, 3);
  t.is(read.tally.unreachable, 2);

  await custodians[4]!.stop();
  const err = await t.throwsAsync(collectSecret(reader, ticket), { instanceOf: CustodyCollectError });
  t.is(err?.code, 'CUSTODY_TOO_FEW_SHARES');
  t.deepEqual(err?.tally, { good: 2, unreachable: 3, refused: 0, bad: 0, expired: 0, revoked: 0, missing: 0 });
});

test.serial('a custodian returning a corrupted share is detected and skipped', async (t) => {
  const vaults = new Map<string, ReturnType<typeof tamperingVault>>();
  const c = await cluster(t, {
    wrapVault: (name, vault, identity) => {
      const wrapped = tamperingVault(vault, identity);
      vaults.set(identity.nodeId, wrapped);
      return wrapped;
    },
  });
  const { ticket, secret, custodians } = await depositOne(c);
  const reader = c.node('recipient').ctx;
  vaults.get(custodians[1]!.nodeId)!.on = true;

  // one custodian down: the three honest ones are all needed, the forged share is never combined
  await custodians[4]!.stop();
  const read = await collectSecret(reader, ticket);
  t.is(read.secret, secret);
  t.is(read.tally.good, 3);

  // a second one down: two honest shares and a forged one must not make a (wrong) secret
  await custodians[3]!.stop();
  const err = await t.throwsAsync(collectSecret(reader, ticket), { instanceOf: CustodyCollectError });
  t.is(err?.code, 'CUSTODY_TOO_FEW_SHARES');
  t.is(err?.tally.good, 2);
  t.is(err?.tally.bad, 1, 'the forged share failed the Pedersen check');
  t.is(err?.tally.unreachable, 2);
});

test.serial('a release request by a non-recipient node is refused (CUSTODY_NOT_AUTHORISED)', async (t) => {
  const c = await cluster(t);
  const { ticket, messageHash, custodians } = await depositOne(c);
  const outsider = c.node('outsider');
  t.false(ticket.custodians.includes(outsider.nodeId));

  const request = await signRequest('release', releaseFields(c, messageHash, custodians[0]!, outsider), outsider.identity.ed25519.sign);
  t.is(await refusal(t, ask(outsider, custodians[0]!, encodeRequest(request))), 'CUSTODY_NOT_AUTHORISED');

  const err = await t.throwsAsync(collectSecret(outsider.ctx, ticket), { instanceOf: CustodyCollectError });
  t.is(err?.code, 'CUSTODY_TOO_FEW_SHARES');
  t.is(err?.tally.refused, 5);
  t.is(err?.tally.good, 0);
});

test.serial('a request signed by another key than the connection\'s, stale, or for another custodian is refused', async (t) => {
  const c = await cluster(t);
  const { messageHash, custodians } = await depositOne(c);
  const [custodian, other] = custodians as [CustodyNode, CustodyNode];
  const recipient = c.node('recipient');
  const outsider = c.node('outsider');

  // the recipient's own request, sent by the recipient, works: the refusals below are for their stated reasons
  const good = await signRequest('release', releaseFields(c, messageHash, custodian, recipient), recipient.identity.ed25519.sign);
  t.is(decodeReleaseResponse(await ask(recipient, custodian, encodeRequest(good))).index, 1);

  // the recipient's valid request replayed over the outsider's connection
  t.is(await refusal(t, ask(outsider, custodian, encodeRequest(good))), 'CUSTODY_PEER_MISMATCH');
  // the outsider names itself but the signature is the recipient's key
  const mine = releaseFields(c, messageHash, custodian, outsider);
  const forged = { op: 'release' as const, ...mine, sig: recipient.identity.ed25519.sign(signingBytes('release', mine)) };
  t.is(await refusal(t, ask(outsider, custodian, encodeRequest(forged))), 'CUSTODY_BAD_SIGNATURE');
  // the recipient names itself, signs with the outsider's key
  const wrongKey = { ...good, sig: outsider.identity.ed25519.sign(signingBytes('release', good)) };
  t.is(await refusal(t, ask(recipient, custodian, encodeRequest(wrongKey))), 'CUSTODY_BAD_SIGNATURE');
  // a signature for one operation is not good for another
  const asRevoke = { ...good, op: 'revoke' as const };
  t.is(await refusal(t, ask(recipient, custodian, encodeRequest(asRevoke))), 'CUSTODY_BAD_SIGNATURE');
  const recipientRevoke = await signRequest('revoke', releaseFields(c, messageHash, custodian, recipient), recipient.identity.ed25519.sign);
  t.is(await refusal(t, ask(recipient, custodian, encodeRequest(recipientRevoke))), 'CUSTODY_NOT_AUTHORISED', 'recipients may not revoke');
  const senderRelease = await signRequest('release', releaseFields(c, messageHash, custodian, c.node('sender')), c.node('sender').identity.ed25519.sign);
  t.is(await refusal(t, ask(c.node('sender'), custodian, encodeRequest({ ...senderRelease, op: 'revoke' }))), 'CUSTODY_BAD_SIGNATURE');
  t.not(custodian.vault.get(messageHash, c.node('sender').nodeId), null, 'nothing was revoked');
  // six minutes old
  const stale = await signRequest('release', { ...releaseFields(c, messageHash, custodian, recipient), time: c.clock.now() - 6 * 60_000 }, recipient.identity.ed25519.sign);
  t.is(await refusal(t, ask(recipient, custodian, encodeRequest(stale))), 'CUSTODY_STALE_REQUEST');
  // signed for another custodian
  const elsewhere = await signRequest('release', releaseFields(c, messageHash, other, recipient), recipient.identity.ed25519.sign);
  t.is(await refusal(t, ask(recipient, custodian, encodeRequest(elsewhere))), 'CUSTODY_BAD_REQUEST');
  // junk
  t.is(await refusal(t, ask(recipient, custodian, new TextEncoder().encode('{"v":1,"op":"release"}'))), 'CUSTODY_BAD_REQUEST');
});

test.serial('a custodian refuses a deposit under another sender\'s name, or a share that does not match its commitments', async (t) => {
  const c = await cluster(t);
  const sender = c.node('sender');
  const outsider = c.node('outsider');
  const custodian = c.node('c1');
  const ref = new Uint8Array(32).fill(7);
  const { shares, commitments } = split(newExpirySecret(), { t: 2, n: 3 });
  const { commitments: otherCommitments } = split(newExpirySecret(), { t: 2, n: 3 });
  const depositOf = (from: CustodyNode, commitmentBytes: Uint8Array) => encodeRequest({
    op: 'deposit', ref, sender: from.nodeId, custodian: custodian.nodeId, index: 1, expiresAt: c.clock.now() + HOUR, readers: [],
    commitments: commitmentBytes, sealed: sealTo(custodian.identity.x25519.publicKey, encodeShare(shares[0]!), depositAad(ref, from.nodeId, custodian.nodeId, 1)),
  });
  const asSender = depositOf(sender, encodeCommitments(commitments));
  t.is(await refusal(t, ask(outsider, custodian, asSender)), 'CUSTODY_PEER_MISMATCH');
  t.is(await refusal(t, ask(sender, custodian, depositOf(sender, encodeCommitments(otherCommitments)))), 'CUSTODY_BAD_SHARE');
  t.is(custodian.vault.count(), 0);
  await ask(sender, custodian, asSender);
  t.is(custodian.vault.count(), 1, 'the same deposit from its sender is stored');
});

test.serial('at expiry every custodian deletes its share (gone from custody.db and its WAL), records a receipt, and collect fails with CUSTODY_EXPIRED', async (t) => {
  const c = await cluster(t);
  const { ticket, messageHash, custodians } = await depositOne(c);
  const stored = custodians.map((node) => node.vault.get(messageHash, ticket.sender)!.sealed);
  for (const [i, node] of custodians.entries()) t.true(includes(await dbBytes(node), stored[i]!), `the search finds ${node.name}'s share before expiry`);

  // an hour less a minute: nothing is due yet
  c.clock.advance(HOUR - 60_000);
  for (const node of custodians) t.is((await node.service.runExpiryPass()).deleted, 0);
  t.is((await collectSecret(c.node('recipient').ctx, ticket)).tally.good >= 3, true);

  c.clock.advance(60_000);
  const deletedAt = c.clock.now();
  for (const node of custodians) {
    t.like(await node.service.runExpiryPass(), { deleted: 1, receiptsRecorded: 1, receiptsOwed: 0 });
  }
  for (const [i, node] of custodians.entries()) {
    t.is(node.vault.get(messageHash, ticket.sender), null);
    t.like(node.vault.tombstone(messageHash, ticket.sender), { reason: 'expired', deletedAt });
    t.false(includes(await dbBytes(node), stored[i]!), `${node.name}'s sealed share is no longer on disk`);
  }

  const receipts = await c.node('recipient').registry.deletionReceipts(messageHash);
  t.is(receipts.length, 5);
  t.deepEqual(receipts.map((r) => formatNodeId(r.custodian)).sort(), [...ticket.custodians].sort());
  const domain = c.node('recipient').registry.domain;
  for (const r of receipts) {
    t.true(verifyDeletionReceipt(domain, r));
    t.is(r.time, deletedAt);
  }
  t.false(verifyDeletionReceipt(domain, { ...receipts[0]!, time: deletedAt - 1 }), 'the check can fail');

  const err = await t.throwsAsync(collectSecret(c.node('recipient').ctx, ticket), { instanceOf: CustodyCollectError });
  t.is(err?.code, 'CUSTODY_EXPIRED');
  t.is(err?.tally.expired, 5);
  // a second pass owes nothing and deletes nothing
  t.like(await custodians[0]!.service.runExpiryPass(), { deleted: 0, receiptsRecorded: 0, receiptsOwed: 0 });
});

test.serial('a due share is deleted by the request that finds it, before any expiry pass', async (t) => {
  const c = await cluster(t);
  const { ticket, messageHash, custodians } = await depositOne(c);
  c.clock.advance(HOUR);
  const err = await t.throwsAsync(collectSecret(c.node('recipient').ctx, ticket), { instanceOf: CustodyCollectError });
  t.is(err?.code, 'CUSTODY_EXPIRED');
  for (const node of custodians) t.is(node.vault.get(messageHash, ticket.sender), null);
});

test.serial('the share is deleted at expiry while the registry is down; the receipt follows when it is back', async (t) => {
  let down = true;
  const c = await cluster(t, {
    wrapRegistry: (_name, registry) => ({
      domain: registry.domain,
      getNode: (id) => registry.getNode(id),
      recordDeletion: (receipt) => (down ? Promise.reject(new Error('registry unavailable')) : registry.recordDeletion(receipt)),
    }),
  });
  const { ticket, messageHash, custodians } = await depositOne(c);
  const stored = custodians[0]!.vault.get(messageHash, ticket.sender)!.sealed;
  c.clock.advance(HOUR);
  t.like(await custodians[0]!.service.runExpiryPass(), { deleted: 1, receiptsRecorded: 0, receiptsOwed: 1 });
  t.is(custodians[0]!.vault.get(messageHash, ticket.sender), null);
  t.false(includes(await dbBytes(custodians[0]!), stored));
  t.is((await c.node('recipient').registry.deletionReceipts(messageHash)).length, 0);

  down = false;
  t.like(await custodians[0]!.service.runExpiryPass(), { deleted: 0, receiptsRecorded: 1, receiptsOwed: 0 });
  const receipts = await c.node('recipient').registry.deletionReceipts(messageHash);
  t.deepEqual(receipts.map((r) => formatNodeId(r.custodian)), [custodians[0]!.nodeId]);
});

test.serial('the sender revokes early and custodians delete; a recipient\'s revoke is refused', async (t) => {
  const c = await cluster(t);
  const { ticket, secret, messageHash, custodians } = await depositOne(c);

  const byRecipient = await revoke(c.node('recipient').ctx, ticket);
  t.deepEqual(byRecipient.deleted, []);
  t.deepEqual(Object.values(byRecipient.failures), Array(5).fill('CUSTODY_NOT_AUTHORISED'));
  t.is((await collectSecret(c.node('recipient').ctx, ticket)).secret, secret, 'still readable');

  const bySender = await revoke(c.node('sender').ctx, ticket);
  t.deepEqual([...bySender.deleted].sort(), [...ticket.custodians].sort());
  t.deepEqual(bySender.failures, {});
  for (const node of custodians) {
    t.is(node.vault.get(messageHash, ticket.sender), null);
    t.is(node.vault.tombstone(messageHash, ticket.sender)?.reason, 'revoked');
    await node.service.runExpiryPass(); // waits for the receipt the revoke started
  }
  t.is((await c.node('recipient').registry.deletionReceipts(messageHash)).length, 5);
  const err = await t.throwsAsync(collectSecret(c.node('recipient').ctx, ticket), { instanceOf: CustodyCollectError });
  t.is(err?.code, 'CUSTODY_EXPIRED');
  t.is(err?.tally.revoked, 5);
  t.deepEqual((await revoke(c.node('sender').ctx, ticket)).alreadyGone.length, 5, 'revoking twice is harmless');
});

test.serial('deposit fails cleanly (CUSTODY_DEPOSIT_FAILED) when fewer than t custodians are up, and succeeds with t', async (t) => {
  const c = await cluster(t);
  const sender = c.node('sender');
  const recipient = c.node('recipient');
  const parties = [sender.nodeId, recipient.nodeId];
  const messageHash = hashAvoiding(c, 5, parties, [c.node('outsider').nodeId]);
  const chosen = selectCustodians(messageHash, [...c.nodes.values()].map((n) => ({ id: n.nodeId })), 5, parties).map((id) => c.byId(id));
  const params = { messageHash, secret: newExpirySecret(), expiresAt: c.clock.now() + HOUR, readers: [recipient.nodeId] };

  await chosen[0]!.stop();
  await chosen[1]!.stop();
  await chosen[2]!.stop();
  const err = await t.throwsAsync(depositShares(sender.ctx, params), { instanceOf: CustodyDepositError });
  t.is(err?.code, 'CUSTODY_DEPOSIT_FAILED');
  t.is(err?.acknowledged, 2);
  t.is(Object.keys(err?.failures ?? {}).length, 3);
  t.true(Object.values(err?.failures ?? {}).every((code) => code.startsWith('NETWORK_')));
  for (const node of chosen.slice(3)) {
    t.is(node.vault.get(messageHash, sender.nodeId), null, 'the stored shares of a failed deposit were revoked');
    t.is(node.vault.tombstone(messageHash, sender.nodeId)?.reason, 'revoked');
  }

  // with exactly t up a new message goes through: custodians that leave out one stopped node include the two others
  const other = hashAvoiding(c, 5, parties, [chosen[2]!.nodeId]);
  const result = await depositShares(sender.ctx, { ...params, messageHash: other });
  t.true(result.acknowledged.length >= 3);
  t.is((await collectSecret(recipient.ctx, result.ticket)).secret, params.secret);
});
