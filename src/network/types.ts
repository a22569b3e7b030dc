// The node-to-node transport as the rest of Sealpost sees it: request/response
// over named protocols between authenticated nodes (network/libp2p.ts runs it
// on libp2p: TCP on loopback, Noise, yamux; network/rpc.ts frames it). The
// remote node id a handler learns comes from the peer id Noise authenticated,
// never from anything the peer says about itself.
import type { Libp2p } from '@libp2p/interface';

/** Who sent a request (or is at the other end of a connection). */
export interface RemoteNode {
  /** libp2p peer id, as authenticated by the Noise handshake */
  readonly peerId: string;
  /** base64 of the raw Ed25519 public key inside that peer id (network/identity.ts) */
  readonly nodeId: string;
}

/**
 * Answers one request. Throw a SealpostError to refuse: its `code` (and
 * message) reach the caller as NetworkRemoteError.remoteCode; any other error
 * reaches it as remoteCode 'INTERNAL' and is logged here as a bug.
 * `signal` aborts when the request's time is up or the stream is gone.
 */
export type RequestHandler = (request: Uint8Array, from: RemoteNode, context: { signal: AbortSignal }) => Promise<Uint8Array>;

export interface HandleOptions {
  /** largest request body accepted; a larger frame is refused on its header, before its body is read */
  maxRequestBytes: number;
  /** requests of this protocol answered at once across all peers; more are refused with remoteCode 'BUSY' (default 16) */
  maxConcurrent?: number;
  /** time for reading the request and running the handler (default 30 s) */
  timeoutMs?: number;
}

export interface RequestOptions {
  /** the whole exchange: dial (if needed), send, answer (default 10 s) */
  timeoutMs?: number;
  /** largest response body accepted (default 1 MiB) */
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

export interface Network {
  /** this node's identity on the network */
  readonly self: RemoteNode;
  /** listen multiaddrs with the /p2p/ suffix (what peers dial) */
  addrs(): string[];
  /**
   * Serves `protocol` (e.g. '/sealpost/custody/1.0.0').
   * @throws ValidationError (field `protocol`) on a malformed name or one already handled,
   *   (field `maxRequestBytes`) unless an integer from 0 to 2^32 − 1
   * @throws NetworkStoppedError after stop()
   */
  handle(protocol: string, handler: RequestHandler, options: HandleOptions): Promise<void>;
  unhandle(protocol: string): Promise<void>;
  /**
   * Sends `body` and returns the response body. `target` is a loopback
   * multiaddr with /p2p/ (dialled if not connected) or a bare peer id of a
   * node already connected or dialled before.
   * @throws NetworkUnreachableError, NetworkTimeoutError, NetworkFrameTooLargeError,
   *   NetworkRemoteError, NetworkNoProtocolError, NetworkProtocolViolationError, NetworkStoppedError
   * @throws ValidationError (field `target`) on a non-loopback or malformed address
   */
  request(target: string, protocol: string, body: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  /**
   * Connects to a loopback multiaddr with /p2p/ and returns who answered.
   * @throws NetworkUnreachableError, NetworkTimeoutError, NetworkStoppedError, ValidationError (field `target`)
   */
  dial(addr: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<RemoteNode>;
  /** open connections: who and at which remote address */
  connections(): Array<RemoteNode & { remoteAddr: string }>;
  /** the libp2p node itself, for Helia's bitswap (storage/helia-network.ts withSharedLibp2p) */
  readonly libp2p: Libp2p;
  /** stops listening and closes every connection; idempotent */
  stop(): Promise<void>;
}
