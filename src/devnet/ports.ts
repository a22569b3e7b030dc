// Loopback ports for the devnet, chosen once at the first run and kept in
// devnet.json: either ports the OS reports free (all held open together so
// that none is handed out twice), or a fixed block from --base-port.
import net from 'node:net';

/**
 * `count` distinct ports that are free on 127.0.0.1 right now.
 * @throws the listen error when the OS has none to give
 */
export async function pickFreePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      ports.push(await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          if (address === null || typeof address === 'string') reject(new Error('no port assigned'));
          else resolve(address.port);
        });
      }));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
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
