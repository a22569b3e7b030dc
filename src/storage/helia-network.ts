// The networked half of the Helia adapter, loaded only when storage peers or
// listen addresses are configured (libp2p and its transports cost memory an
// offline node should not pay): a hand-composed libp2p (TCP, Noise, Yamux,
// identify) with bitswap, that dials only the configured loopback peers and
// accepts only loopback connections. Or, with withSharedLibp2p, bitswap on
// the gateway's one libp2p node (network/libp2p.ts).
import { withBitswap } from '@helia/bitswap';
import { withLibp2pLight, type HeliaWithLibp2p } from '@helia/libp2p';
import { identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import type { Helia } from 'helia';
import type { Logger } from 'pino';
import { isLoopbackMultiaddr, type PeerAddress } from './peers.ts';

const RECONNECT_INTERVAL_MS = 5_000;
const DIAL_TIMEOUT_MS = 5_000;

/** Adds libp2p (listening on `listen`) and bitswap to an offline Helia node. */
export function withLoopbackNetwork(helia: Helia, listen: string[], peers: PeerAddress[]): Helia {
  return withBitswap(withLibp2pLight(helia, libp2pOptions(listen, peers)));
}

/**
 * Adds bitswap to an offline Helia node over a libp2p node that someone else
 * owns and has started (network/libp2p.ts: one libp2p per gateway carries
 * bitswap and the Sealpost protocols). Helia's stop then stops bitswap (its
 * handlers and topologies) but leaves the libp2p node running; its owner
 * stops it. That libp2p's gater, not this file's, decides what is dialled.
 */
export function withSharedLibp2p(helia: Helia, libp2p: Libp2p): Helia {
  // What withLibp2pLight's mixin would set, minus creating and stopping libp2p:
  // bitswap reads `libp2p` from the node it is given. No libp2p router is
  // added: with no DHT and no content routers it could only throw, and
  // bitswap already ignores failures to find providers.
  Object.defineProperty(helia, 'libp2p', { value: libp2p, enumerable: true, configurable: true });
  return withBitswap(helia as Helia & { libp2p: Libp2p });
}

function libp2pOptions(listen: string[], peers: PeerAddress[]): Parameters<typeof withLibp2pLight>[1] {
  const allowed = new Set(peers.map((p) => p.peerId));
  return {
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    // No discovery, no DHT, no bootstrap list: the only outgoing dials are the
    // configured peers, and the gater refuses anything else even if asked.
    connectionGater: {
      denyDialMultiaddr: (ma) => !isLoopbackMultiaddr(ma.toString()),
      denyDialPeer: (peerId) => !allowed.has(peerId.toString()),
      denyInboundConnection: (conn) => !isLoopbackMultiaddr(conn.remoteAddr.toString()),
    },
  };
}

/** Dials the configured peers now and redials any that dropped, until the returned stop is called. */
export function keepPeersConnected(libp2p: HeliaWithLibp2p['libp2p'], peers: PeerAddress[], log: Logger): () => void {
  if (peers.length === 0) return () => undefined;
  const controller = new AbortController();
  const dialMissing = (): void => {
    const connected = new Set(libp2p.getConnections().map((c) => c.remotePeer.toString()));
    for (const peer of peers) {
      if (connected.has(peer.peerId)) continue;
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]);
      libp2p.dial(multiaddr(peer.addr), { signal }).then(
        () => log.info({ peer: peer.addr }, 'connected to storage peer'),
        (err: unknown) => {
          if (!controller.signal.aborted) log.warn({ peer: peer.addr, err: (err as Error).message }, 'could not reach storage peer');
        },
      );
    }
  };
  dialMissing();
  const timer = setInterval(dialMissing, RECONNECT_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    controller.abort();
  };
}

