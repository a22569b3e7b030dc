// The other end of the control socket (control/server.ts): a command asks the
// process that owns the data directory to do something. A refusal comes back
// as a SealpostError with the server's code and message, so the CLI prints it
// like any local error.
import fs from 'node:fs';
import http from 'node:http';
import { SealpostError } from '../errors/index.ts';

/** The owner of the data directory refused or failed a request; `code` is its code. */
export class ControlError extends SealpostError {
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(code, message);
    this.name = 'ControlError';
    this.status = status;
  }
}

export interface ControlClient {
  /** POSTs `body` (bytes, or a value sent as JSON) and returns the JSON answer. @throws ControlError */
  call<T>(route: string, body: Uint8Array | unknown, query?: Record<string, string>): Promise<T>;
  close(): void;
}

/**
 * Connects to the control socket when a live process listens on it; null when
 * nobody does (no socket file, or one left by a process that died).
 */
export async function connectControl(path: string, options: { maxSockets?: number } = {}): Promise<ControlClient | null> {
  if (!fs.existsSync(path)) return null;
  // More than one socket lets a caller keep several requests in flight (import batches).
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 1 });
  const client: ControlClient = {
    call<T>(route: string, body: unknown, query?: Record<string, string>): Promise<T> {
      const bytes = body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body));
      const search = query === undefined ? '' : `?${new URLSearchParams(query).toString()}`;
      return new Promise<T>((resolve, reject) => {
        const req = http.request({ socketPath: path, path: `${route}${search}`, method: 'POST', agent, headers: { 'content-length': bytes.byteLength } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            let value: unknown;
            try {
              value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              reject(new ControlError('CONTROL_PROTOCOL', 'the control socket answered something that is not JSON', res.statusCode ?? 0));
              return;
            }
            if (res.statusCode === 200) resolve(value as T);
            else {
              const { code, message } = (value ?? {}) as { code?: string; message?: string };
              reject(new ControlError(code ?? 'CONTROL_FAILED', message ?? `control request failed (${res.statusCode ?? '?'})`, res.statusCode ?? 0));
            }
          });
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          reject(new ControlError('CONTROL_UNREACHABLE', `the Sealpost process owning the data directory stopped answering (${error.code ?? error.message})`, 0));
        });
        req.end(bytes);
      });
    },
    close: () => agent.destroy(),
  };
  try {
    await client.call('/v1/ping', {});
    return client;
  } catch (error) {
    client.close();
    if (error instanceof ControlError && error.code === 'CONTROL_UNREACHABLE') return null;
    throw error;
  }
}
