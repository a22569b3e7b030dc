// Shared by the network tests: real libp2p nodes on 127.0.0.1, each from its
// own data directory, stopped and removed at teardown; and a record of every
// outgoing TCP connection attempt this process makes (Node's
// 'net.client.socket' diagnostics channel + the socket's 'connectionAttempt'
// event, which carries the resolved address), so a test can prove nothing was
// dialled beyond loopback, whatever libp2p or bitswap decided to do.
import dc from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { identityFiles, loadNodeIdentity, type NodeIdentity } from '../../src/network/identity.ts';
import { startNetwork, type NetworkOptions } from '../../src/network/libp2p.ts';
import type { Network } from '../../src/network/types.ts';

export interface TestNode {
  dir: string;
  identity: NodeIdentity;
  network: Network;
  /** first listen address, /p2p/ included */
  addr: string;
}

export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-net-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A started node on 127.0.0.1:0 from a fresh (or the given) data directory. */
export async function startNode(t: ExecutionContext, options: Partial<Omit<NetworkOptions, 'identity'>> & { dir?: string } = {}): Promise<TestNode> {
  const dir = options.dir ?? (await tempDir(t));
  const identity = await loadNodeIdentity(identityFiles(dir));
  const { dir: _dir, ...rest } = options;
  const network = await startNetwork({ identity, ...rest });
  t.teardown(() => network.stop());
  const addr = network.addrs()[0];
  if (addr === undefined) throw new Error('node has no listen address');
  return { dir, identity, network, addr };
}

/** Every TCP connection attempt of this process since the module loaded: "ip:port". */
export const connectionAttempts: string[] = [];
dc.subscribe('net.client.socket', (message) => {
  const socket = (message as { socket: net.Socket }).socket;
  socket.on('connectionAttempt', (ip: string, port: number) => connectionAttempts.push(`${ip}:${port}`));
});

/** True for an IPv4 or IPv6 loopback address as Node reports it. */
export function isLoopbackIp(ip: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(ip) || ip === '::1' || /^::ffff:127\./.test(ip);
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** Whether `promise` settles within `ms` (a test waits, but never hangs). */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
