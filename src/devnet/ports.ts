// Loopback ports for the devnet, chosen once at the first run and kept in
// devnet.json: either ports the OS reports free (all held open together so
// that none is handed out twice), or a fixed block from --base-port.
import net from 'node:net';

/** Ports below Linux's ephemeral range (32768-60999): the OS never hands them
 *  to another program's listen(0) or outgoing connection, so a port chosen
 *  now is still free when a node binds it seconds later. */
const RANGE = { low: 20_000, high: 32_000 };

/**
 * `count` distinct ports that are free on 127.0.0.1 right now, outside the
 * ephemeral range (all held open together so that none is chosen twice).
 * @throws Error when none of the range is free
 */
export async function pickFreePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const listen = (port: number): Promise<boolean> => new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => {
      servers.push(server);
      resolve(true);
    });
  });
  try {
    const ports: number[] = [];
    const span = RANGE.high - RANGE.low;
    let port = RANGE.low + Math.floor(Math.random() * span);
    for (let tried = 0; ports.length < count; tried++) {
      if (tried >= span) throw new Error(`no ${count} free loopback ports between ${RANGE.low} and ${RANGE.high}`);
      if (await listen(port)) ports.push(port);
      port = port + 1 >= RANGE.high ? RANGE.low : port + 1;
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Ports a node uses, in this order from its base: SMTP, SMTPS, IMAP, IMAPS, libp2p. */
export const PORTS_PER_NODE = 5;

/** With --base-port B: anvil on B, node i on B + 10·i … B + 10·i + 4. */
export function basePortLayout(base: number, nodes: number): { chain: number; node: (i: number) => number[] } {
  return {
    chain: base,
    node: (i) => Array.from({ length: PORTS_PER_NODE }, (_, k) => base + 10 * i + k),
  };
}

/** The highest port a --base-port layout for `nodes` nodes uses. */
export function basePortTop(base: number, nodes: number): number {
  return base + 10 * nodes + PORTS_PER_NODE - 1;
}

/** true when nothing listens on 127.0.0.1:`port` (we could bind it). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
