// The networked half of the Helia adapter, loaded only when storage peers or
// listen addresses are configured (libp2p and its transports cost memory an
// offline node should not pay): a hand-composed libp2p (TCP, Noise, Yamux,
// identify) with bitswap, that dials only the configured loopback peers and
// accepts only loopback connections.
import { withBitswap } from '@helia/bitswap';
import { withLibp2pLight, type HeliaWithLibp2p } from '@helia/libp2p';
import { identify } from '@libp2p/identify';
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

