// Test helper: pick a free TCP port on loopback and wait for a port to accept
// connections. Used to hand a port number to an outside server (Dovecot) that
// cannot be told to listen on port 0 and report back.
import net from 'node:net';

/** A port that was free a moment ago on 127.0.0.1 (the OS picked it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port assigned'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves with the first bytes the server sends once a connection to
 * host:port succeeds; retries until `timeoutMs` has passed.
 * @throws Error when the port never answers
 */
export async function waitForGreeting(port: number, options: { host?: string; timeoutMs?: number; isDead?: () => boolean } = {}): Promise<string> {
  const host = options.host ?? '127.0.0.1';
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (options.isDead?.() === true) throw new Error(`server on port ${port} exited before answering`);
    try {
      return await readGreeting(host, port);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`port ${port} did not answer within the timeout`, { cause: lastError });
}

function readGreeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no greeting'));
    }, 2000);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data);
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before greeting'));
    });
  });
}
