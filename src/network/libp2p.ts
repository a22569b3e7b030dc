// The node-to-node transport on libp2p (the one file that imports libp2p and
// its modules for it): TCP on loopback, Noise (libp2p noise spec, XX
// handshake), yamux, identify; no bootstrap, mDNS, DHT, relay, WebRTC or
// UPnP. The libp2p private key is the node's Ed25519 key (network/identity.ts),
// so the peer id Noise authenticates is the node id of the registry. Nothing
// is dialled but addresses the caller gives, and the connection gater refuses
// any address that is not loopback, whoever asks (bitswap included). One
// libp2p per gateway carries the Sealpost protocols (network/rpc.ts) and
// Helia's bitswap (storage/helia-network.ts withSharedLibp2p).
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import { SealpostError, ValidationError } from '../errors/index.ts';
import { silentLogger } from '../log.ts';
import { isLoopbackMultiaddr } from '../storage/peers.ts';
import {
  NetworkListenError, NetworkNoProtocolError, NetworkStoppedError, NetworkTimeoutError, NetworkUnreachableError,
} from './errors.ts';
import { identitySeed, nodeIdFromPeerId, type NodeIdentity } from './identity.ts';
import { DEFAULT_MAX_CONCURRENT, exchange, MAX_FRAME_LIMIT, rpcServer } from './rpc.ts';
import type { HandleOptions, Network, RemoteNode, RequestHandler, RequestOptions } from './types.ts';

export interface NetworkLimits {
  /** open connections in all (libp2p refuses inbound ones beyond it); default 64 */
  maxConnections?: number;
  /** inbound connections still in their Noise/yamux upgrade at once; default 16 */
  maxPendingInbound?: number;
  /**
   * new inbound connections per second per remote host; default 32. Every
   * peer here is 127.0.0.1, so this is in effect a global rate (libp2p's own
   * default of 5 would refuse a burst of local nodes starting together)
   */
  inboundPerSecond?: number;
  /** a dial, Noise handshake included; default 5 s */
  dialTimeoutMs?: number;
  /** default for RequestOptions.timeoutMs; 10 s */
  requestTimeoutMs?: number;
  /** default for RequestOptions.maxResponseBytes; 1 MiB */
  maxResponseBytes?: number;
}

export interface NetworkOptions {
  identity: NodeIdentity;
  /** loopback TCP multiaddrs to listen on; default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[];
  limits?: NetworkLimits;
  /**
   * Who may connect at all, decided on the authenticated identity after the
   * Noise handshake, both ways (e.g. only nodes in the registry); default:
   * any Ed25519 node. Peers whose id embeds no Ed25519 key are always refused.
   */
  allowNode?: (remote: RemoteNode) => boolean;
  logger?: Logger;
}

const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'];
const PROTOCOL_RE = /^\/[\x21-\x7e]{1,200}$/;
const HOST = String.raw`/(?:ip4/(127\.\d{1,3}\.\d{1,3}\.\d{1,3})|ip6/::1)`;
const LISTEN_RE = new RegExp(String.raw`^${HOST}/tcp/(\d{1,5})$`);
const DIAL_RE = new RegExp(String.raw`^${HOST}/tcp/(\d{1,5})/p2p/([1-9A-HJ-NP-Za-km-z]{40,60})$`);

/**
 * Starts the libp2p node and listens.
 * @throws ValidationError (field `network.listen`) on an address that is not loopback TCP
 * @throws NetworkListenError when an address cannot be listened on
 */
export async function startNetwork(options: NetworkOptions): Promise<Network> {
  const { identity } = options;
  const listen = (options.listen ?? DEFAULT_LISTEN).map((addr) => {
    const m = LISTEN_RE.exec(addr);
    if (m === null || !validOctets(m[1]) || Number(m[2]) > 65535) throw new ValidationError('network.listen', `${JSON.stringify(addr)} is not /ip4/127.x.x.x/tcp/PORT or /ip6/::1/tcp/PORT`);
    return addr;
  });
  const limits = options.limits ?? {};
  const dialTimeoutMs = limits.dialTimeoutMs ?? 5_000;
  const requestTimeoutMs = limits.requestTimeoutMs ?? 10_000;
  const defaultMaxResponse = limits.maxResponseBytes ?? 1024 * 1024;
  const log = (options.logger ?? silentLogger()).child({ component: 'network' });
  const allowNode = options.allowNode ?? (() => true);

  /** The gater's verdict on an authenticated peer: Sealpost nodes (Ed25519 ids) that allowNode accepts. */
  const refusePeer = (peerId: PeerId, direction: string): boolean => {
    const remote = remoteOf(peerId);
    const refused = remote === null || !allowNode(remote);
    if (refused) log.warn({ peer: peerId.toString(), direction }, 'refused a peer that is not an allowed Sealpost node');
    return refused;
  };

  const privateKey = await generateKeyPairFromSeed('Ed25519', identitySeed(identity));
  let libp2p: Libp2p;
  try {
    libp2p = await createLibp2p({
      privateKey,
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
      peerDiscovery: [],
      connectionManager: {
        maxConnections: limits.maxConnections ?? 64,
        maxIncomingPendingConnections: limits.maxPendingInbound ?? 16,
        inboundConnectionThreshold: limits.inboundPerSecond ?? 32,
        dialTimeout: dialTimeoutMs,
      },
      connectionGater: {
        denyDialMultiaddr: (ma) => {
          const denied = !isLoopbackMultiaddr(ma.toString());
          if (denied) log.warn({ addr: ma.toString() }, 'refused to dial a non-loopback address');
          return denied;
        },
        denyInboundConnection: (conn) => !isLoopbackMultiaddr(conn.remoteAddr.toString()),
        denyInboundEncryptedConnection: (peerId) => refusePeer(peerId, 'inbound'),
        denyOutboundEncryptedConnection: (peerId) => refusePeer(peerId, 'outbound'),
      },
    });
  } catch (err) {
    throw new NetworkListenError(`cannot listen on ${listen.join(', ')}: ${(err as Error).message}`, { cause: err });
  }
  if (libp2p.peerId.toString() !== identity.peerId) {
    await libp2p.stop();
    throw new SealpostError('BUG', `libp2p derived peer id ${libp2p.peerId.toString()}, the node key says ${identity.peerId}`);
  }
  log.info({ peerId: identity.peerId, addrs: libp2p.getMultiaddrs().map(String) }, 'network started');

  let stopped = false;
  let stopping: Promise<void> | undefined;
  const assertRunning = (): void => {
    if (stopped) throw new NetworkStoppedError();
  };

  /** Runs `fn` under the caller's signal and a time limit; a timeout becomes NetworkTimeoutError. */
  const timed = async <T>(what: string, timeoutMs: number, outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    // A timer cleared when done: AbortSignal.timeout would keep the request's
    // stream reachable until it fired, long after a fast answer.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException(`${what} timed out`, 'TimeoutError')), timeoutMs);
    const signal = outer === undefined ? timeout.signal : AbortSignal.any([timeout.signal, outer]);
    try {
      return await fn(signal);
    } catch (err) {
      if (timeout.signal.aborted && !(outer?.aborted ?? false)) throw new NetworkTimeoutError(what, timeoutMs);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };

  const network: Network = {
    self: { peerId: identity.peerId, nodeId: identity.nodeId },
    libp2p,

    addrs: () => libp2p.getMultiaddrs().map(String),

    async handle(protocol: string, handler: RequestHandler, handleOptions: HandleOptions) {
      assertRunning();
      if (!PROTOCOL_RE.test(protocol)) throw new ValidationError('protocol', `${JSON.stringify(protocol)} is not a protocol name`);
      if (libp2p.getProtocols().includes(protocol)) throw new ValidationError('protocol', `${protocol} is already handled`);
      if (!Number.isSafeInteger(handleOptions.maxRequestBytes) || handleOptions.maxRequestBytes < 0 || handleOptions.maxRequestBytes > MAX_FRAME_LIMIT) {
        throw new ValidationError('maxRequestBytes', `must be an integer from 0 to ${MAX_FRAME_LIMIT}`);
      }
      const serve = rpcServer(protocol, handler, handleOptions, log);
      const maxConcurrent = handleOptions.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
      await libp2p.handle(protocol, async (stream: Stream, connection: Connection) => {
        const from = remoteOf(connection.remotePeer);
        if (from === null) {
          // the gater refuses such peers; this is a second lock on the same door
          stream.abort(new Error('not a Sealpost node'));
          return;
        }
        await serve(stream, from);
      }, {
        // Per connection; beyond it libp2p resets the stream. The rpc layer's
        // own cap (BUSY) is across all connections.
        maxInboundStreams: Math.max(32, maxConcurrent + 1),
      });
    },

    async unhandle(protocol) {
      if (!stopped) await libp2p.unhandle(protocol);
    },

    async dial(addr, dialOptions = {}) {
      assertRunning();
      const ma = parseDialTarget(addr);
      const connection = await timed(`dialling ${addr}`, dialOptions.timeoutMs ?? dialTimeoutMs, dialOptions.signal, async (signal) => {
        try {
          return await libp2p.dial(ma, { signal });
        } catch (err) {
          throw dialError(err, addr, signal);
        }
      });
      const remote = remoteOf(connection.remotePeer);
      if (remote === null) throw new NetworkUnreachableError(addr, 'dial', 'the peer is not a Sealpost node');
      return remote;
    },

    async request(target, protocol, body, requestOptions: RequestOptions = {}) {
      assertRunning();
      const ma = parseDialTarget(target);
      if (!PROTOCOL_RE.test(protocol)) throw new ValidationError('protocol', `${JSON.stringify(protocol)} is not a protocol name`);
      const maxResponseBytes = requestOptions.maxResponseBytes ?? defaultMaxResponse;
      return timed(`request ${protocol} to ${target}`, requestOptions.timeoutMs ?? requestTimeoutMs, requestOptions.signal, async (signal) => {
        let stream: Stream;
        try {
          stream = await libp2p.dialProtocol(ma, protocol, { signal });
        } catch (err) {
          if (isNamed(err, 'UnsupportedProtocolError')) throw new NetworkNoProtocolError(protocol, { cause: err });
          throw dialError(err, target, signal);
        }
        return exchange(stream, target, body, maxResponseBytes, signal);
      });
    },

    connections: () => libp2p.getConnections().flatMap((c) => {
      const remote = remoteOf(c.remotePeer);
      return remote === null ? [] : [{ ...remote, remoteAddr: c.remoteAddr.toString() }];
    }),

    stop() {
      stopped = true;
      stopping ??= (async () => {
        await libp2p.stop();
        log.info('network stopped');
      })();
      return stopping;
    },
  };
  return network;
}

function remoteOf(peerId: PeerId): RemoteNode | null {
  const id = peerId.toString();
  const nodeId = nodeIdFromPeerId(id);
  return nodeId === null ? null : { peerId: id, nodeId };
}

/**
 * A loopback multiaddr with /p2p/, or a bare peer id (dialled through the
 * addresses libp2p already knows for it: an open connection, or identify).
 * @throws ValidationError (field `target`)
 */
function parseDialTarget(target: string): Multiaddr {
  if (nodeIdFromPeerId(target) !== null) return multiaddr(`/p2p/${target}`);
  const m = DIAL_RE.exec(target);
  if (m === null || !validOctets(m[1]) || Number(m[2]) === 0 || Number(m[2]) > 65535 || nodeIdFromPeerId(m[3] ?? '') === null) {
    throw new ValidationError('target', `${JSON.stringify(target)} is not a loopback /ip4/127.x.x.x/tcp/PORT/p2p/ID (or /ip6/::1) of a Sealpost node, nor a node's peer id`);
  }
  return multiaddr(target);
}

/** A failed dial as our error: a caller's abort passes through; everything else is unreachable. */
function dialError(err: unknown, target: string, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof SealpostError) return err;
  return new NetworkUnreachableError(target, 'dial', `cannot reach ${target}: ${describe(err)}`, { cause: err });
}

/** libp2p rejects with Errors, and sometimes with the stream or connection 'close' Event itself. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message !== '' ? err.message : err.name;
  if (err instanceof Event) {
    const inner = (err as Event & { error?: unknown }).error;
    return inner === undefined ? `${err.type} event` : `${err.type} event: ${describe(inner)}`;
  }
  return String(err);
}

function isNamed(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name;
}

function validOctets(ip4: string | undefined): boolean {
  // undefined: the /ip6/::1 branch matched
  return ip4 === undefined || ip4.split('.').every((octet) => Number(octet) <= 255);
}

// The one loopback test, shared with storage's own libp2p (storage/peers.ts).
export { isLoopbackMultiaddr };
