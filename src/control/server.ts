// The control socket: how a command (`sealpost import`) hands work to the
// process that owns a data directory (the running gateway, or an offline
// import). HTTP/1.1 over a Unix socket (the doveadm-server idea): only the
// directory's owner can reach it (socket mode 0600 inside the 0700 data dir),
// so there is no login on it; an import still proves the account's password.
//
// The listening socket is also the directory's lock: a second owner finds it
// alive and refuses to start (CONTROL_BUSY); a socket file left by a crashed
// process answers nothing and is replaced.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
import { LimitError, NotFoundError, SealpostError } from '../errors/index.ts';

/** Another live process owns the data directory. */
export class ControlBusyError extends SealpostError {
  constructor(dir: string) {
    super('CONTROL_BUSY', `another Sealpost process (a gateway or an import) is using ${dir}; stop it first, or let the running gateway do the work`);
    this.name = 'ControlBusyError';
  }
}

/** One route: the request body in, a JSON-able answer out. Throw a SealpostError to refuse. */
export type ControlHandler = (body: Uint8Array, query: URLSearchParams) => Promise<unknown>;

export interface ControlServerOptions {
  path: string;
  /** the data directory, for messages */
  dir: string;
  routes: Readonly<Record<string, ControlHandler>>;
  logger: Logger;
  /** largest request body (default 96 MiB: one message at the import limit plus framing) */
  maxBodyBytes?: number;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** HTTP status for a refusal, by the error's code family. */
function statusOf(error: SealpostError): number {
  if (error.code === 'NOT_FOUND') return 404;
  if (error.code === 'AUTH_FAILED' || error.code === 'AUTH_THROTTLED') return 403;
  if (error.code.endsWith('LOCKED')) return 423;
  if (error instanceof LimitError) return 413;
  return 400;
}

function readBody(req: http.IncomingMessage, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > max) {
      reject(new LimitError(`request of ${declared} bytes is over the control socket's limit of ${max}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        reject(new LimitError(`request is over the control socket's limit of ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** True when something answers on the socket. */
function alive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function listen(server: http.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on the control socket.
 * @throws ControlBusyError when a live process already listens there
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const log = options.logger.child({ part: 'control' });
  const max = options.maxBodyBytes ?? 96 * 1024 * 1024;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const reply = (status: number, value: unknown): void => {
      const text = JSON.stringify(value ?? null);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const handler = req.method === 'POST' ? options.routes[url.pathname] : undefined;
    void (async () => {
      try {
        if (handler === undefined) throw new NotFoundError('route', `no such control request: ${req.method ?? '?'} ${url.pathname}`);
        const body = await readBody(req, max);
        reply(200, await handler(body, url.searchParams));
      } catch (error) {
        if (error instanceof SealpostError) {
          reply(statusOf(error), { code: error.code, message: error.message });
        } else {
          log.error({ err: error, route: url.pathname }, 'BUG: control request failed');
          reply(500, { code: 'INTERNAL', message: 'internal error (see the gateway log)' });
        }
      }
    })();
  });
  // Imports of large messages take a while per request: no idle cut-off mid-request.
  server.requestTimeout = 0;
  try {
    await listen(server, options.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (await alive(options.path)) throw new ControlBusyError(options.dir);
    // Left by a process that died: take it over.
    fs.rmSync(options.path, { force: true });
    await listen(server, options.path);
  }
  fs.chmodSync(options.path, 0o600);
  log.debug({ path: options.path }, 'control socket listening');
  let closing: Promise<void> | undefined;
  return {
    path: options.path,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
