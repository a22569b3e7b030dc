// Validation of the IPFS peer and listen multiaddrs in the storage config.
// Nothing may leave this machine, so only loopback TCP addresses pass:
// /ip4/127.x.y.z/tcp/PORT or /ip6/::1/tcp/PORT. A peer must name its id
// (/p2p/…) so the Noise handshake authenticates who answers.
import { ValidationError } from '../errors/index.ts';

export interface PeerAddress {
  /** the whole multiaddr, /p2p/ part included */
  addr: string;
  /** the peer id from the /p2p/ part */
  peerId: string;
}

const HOST = String.raw`/(?:ip4/(127\.\d{1,3}\.\d{1,3}\.\d{1,3})|ip6/::1)`;
const PORT = String.raw`/tcp/(\d{1,5})`;
// base58btc multihash (12D3Koo…, Qm…) or a base32 CIDv1 (bafz…)
const PEER_ID = String.raw`/p2p/([1-9A-HJ-NP-Za-km-z]{40,60}|b[a-z2-7]{50,70})`;
const PEER_RE = new RegExp(`^${HOST}${PORT}${PEER_ID}$`);
const LISTEN_RE = new RegExp(`^${HOST}${PORT}$`);

/**
 * Checks the configured peers.
 * @throws ValidationError (field `storage.peers`) on an address that is not loopback TCP with a peer id
 */
export function validatePeers(peers: readonly string[]): PeerAddress[] {
  return peers.map((addr) => {
    const m = PEER_RE.exec(addr);
    if (m === null || !validHost(m[1]) || !validPort(m[2], false)) {
      throw new ValidationError('storage.peers', `${JSON.stringify(addr)} is not /ip4/127.x.x.x/tcp/PORT/p2p/ID or /ip6/::1/tcp/PORT/p2p/ID`);
    }
    return { addr, peerId: m[3] ?? '' };
  });
}

/**
 * Checks the addresses to listen on (port 0 picks a free port).
 * @throws ValidationError (field `storage.listen`) on an address that is not loopback TCP
 */
export function validateListen(addrs: readonly string[]): string[] {
  return addrs.map((addr) => {
    const m = LISTEN_RE.exec(addr);
    if (m === null || !validHost(m[1]) || !validPort(m[2], true)) {
      throw new ValidationError('storage.listen', `${JSON.stringify(addr)} is not /ip4/127.x.x.x/tcp/PORT or /ip6/::1/tcp/PORT`);
    }
    return addr;
  });
}

/** True for a multiaddr whose host is loopback: the connection gater's test. */
export function isLoopbackMultiaddr(addr: string): boolean {
  const m = /^\/(?:ip4\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3})|ip6\/::1)(?:\/|$)/.exec(addr);
  return m !== null && validHost(m[1]);
}

function validHost(ip4: string | undefined): boolean {
  // undefined: the /ip6/::1 branch matched
  return ip4 === undefined || ip4.split('.').every((octet) => Number(octet) <= 255);
}

function validPort(port: string | undefined, zeroAllowed: boolean): boolean {
  const n = Number(port);
  return n <= 65535 && (zeroAllowed || n > 0);
}
