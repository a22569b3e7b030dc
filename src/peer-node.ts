// The node as a member of a Sealpost network, for app.ts: opening its
// identity, libp2p node and registry; joining (registering the node and its
// addresses, retried while the registry is unreachable); and the sender's
// revocation of an expiring message, which the running gateway carries out.
import type { Logger } from 'pino';
import type { SealpostNode } from './app.ts';
import type { SealpostConfig } from './config/config.ts';
import type { DataPaths } from './config/paths.ts';
import { NotFoundError, SealpostError } from './errors/index.ts';
import type { NodeIdentity } from './network/identity.ts';
import type { Network } from './network/types.ts';
import { openPeerState } from './pipeline/peer-state.ts';
import type { Registry } from './registry/types.ts';

/** The node in the peer network (config network.enabled): identity, libp2p node, registry. */
export interface PeerNetwork {
  identity: NodeIdentity;
  network: Network;
  registry: Registry;
}

export async function openPeerNetwork(paths: DataPaths, config: SealpostConfig, logger: Logger): Promise<PeerNetwork> {
  const { loadNodeIdentity, identityFiles } = await import('./network/identity.ts');
  const { startNetwork } = await import('./network/libp2p.ts');
  const identity = await loadNodeIdentity(identityFiles(paths.dir));
  const settings = config.network.registry;
  let registry: Registry;
  if (settings.backend === 'evm') {
    if (settings.evm.contract === '') throw new NotFoundError('registry contract', 'network.registry.evm.contract is empty: run "sealpost registry deploy" (a new network) or "sealpost registry use --contract ADDRESS"');
    if (settings.evm.privateKeyFile === '') throw new NotFoundError('registry key', 'network.registry.evm.privateKeyFile is empty');
    const { readPrivateKeyFile } = await import('./ledger/evm/private-key.ts');
    const { openEvmRegistry } = await import('./registry/evm.ts');
    registry = await openEvmRegistry({ rpcUrl: settings.evm.rpcUrl, contract: settings.evm.contract, privateKey: await readPrivateKeyFile(settings.evm.privateKeyFile) });
  } else {
    const { openLocalRegistry } = await import('./registry/local.ts');
    registry = openLocalRegistry({ path: settings.path === '' ? paths.registryDb : settings.path });
  }
  try {
    const network = await startNetwork({ identity, listen: config.network.listen, logger });
    return { identity, network, registry };
  } catch (error) {
    await registry.close();
    throw error;
  }
}

/** What `sealpost revoke` did. */
export interface RevokeOutcome {
  cid: string;
  /** custodians that deleted their share now */
  deleted: number;
  /** custodians whose share was gone already (expired, revoked) */
  alreadyGone: number;
  /** custodians that could not be reached or refused, with their codes */
  failures: Record<string, string>;
}

/**
 * The sender's early revocation of an expiring message it sent (by its
 * Message-ID): every custodian is asked, with a request signed by this node,
 * to delete its share now. A running gateway does it (asked through
 * network.db); without one, this function starts the node's libp2p identity
 * for the time it takes. The caller opens and closes `node`.
 * @throws NotFoundError when this node sent no expiring message with that Message-ID, or is not in a network
 */
export async function revokeSent(node: Pick<SealpostNode, 'paths' | 'config' | 'logger'>, options: { messageId: string; waitMs?: number }): Promise<RevokeOutcome> {
  const closers: Array<() => Promise<void>> = [];
  try {
    if (!node.config.network.enabled) throw new NotFoundError('network', 'this node is not in a network (network.enabled is false): its expiring mail has no custodians to revoke');
    const state = openPeerState(node.paths.networkDb);
    closers.push(async () => state.close());
    const id = options.messageId.trim().replace(/^<|>$/g, '');
    const sent = state.sentTicket(id);
    if (sent === null) throw new NotFoundError('expiring message', `this node sent no expiring message with Message-ID <${id}>`);
    // A running gateway carries it out (only one libp2p node may speak for this
    // identity at a time); if none picks it up soon, this command does it itself.
    state.requestRevoke(id);
    const deadline = Date.now() + (options.waitMs ?? 5_000);
    while (Date.now() < deadline) {
      const outcome = state.revokeOutcome(id);
      if (outcome !== null) {
        const o = JSON.parse(outcome) as { error?: string } & RevokeOutcome;
        if (o.error !== undefined) throw new SealpostError('REVOKE_FAILED', o.error);
        return { cid: o.cid, deleted: o.deleted, alreadyGone: o.alreadyGone, failures: o.failures };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const peer = await openPeerNetwork(node.paths, { ...node.config, network: { ...node.config.network, listen: ['/ip4/127.0.0.1/tcp/0'] } }, node.logger);
    closers.push(async () => {
      await peer.network.stop();
      await peer.registry.close();
    });
    const { revoke } = await import('./custody/client.ts');
    const { decodeTicket } = await import('./custody/wire.ts');
    const result = await revoke(peer, decodeTicket(sent.ticket));
    const outcome = { cid: sent.cid, deleted: result.deleted.length, alreadyGone: result.alreadyGone.length, failures: result.failures };
    state.finishRevoke(id, JSON.stringify(outcome));
    return outcome;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

/**
 * Registers the node and its accounts' addresses, retrying while the registry
 * is unreachable (a chain node still starting): the gateway serves its own
 * accounts meanwhile.
 */
export function joinNetwork(peers: { join(): Promise<void> }, logger: Logger, attempt = 1): void {
  peers.join().catch((error: unknown) => {
    if (error instanceof SealpostError && error.code === 'REGISTRY_CLOSED') return; // the gateway stopped meanwhile
    const delay = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
    logger.warn({ err: (error as Error).message, retryInMs: delay }, 'could not join the network yet');
    setTimeout(() => joinNetwork(peers, logger, attempt + 1), delay).unref();
  });
}
