// One client connection: socket I/O around a Session. Frames commands
// (literals per RFC 3501 §4.3 / RFC 7888), runs them one at a time, writes
// responses with back-pressure, upgrades to TLS on STARTTLS (RFC 3501 §6.2.1:
// anything the client pipelined after STARTTLS is discarded) and enforces
// the idle timeout (RFC 3501 §5.4).
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { CommandFramer } from './protocol/framer.ts';
import { compileResponsePieces } from './protocol/compiler.ts';
import type { ResponseValue } from './protocol/types.ts';
import { Session, type SessionIO, type SessionShared } from './session.ts';

export interface ConnectionOptions {
  shared: SessionShared;
  tls: { key: string; cert: string };
  log: Logger;
  onClose(): void;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
/** Untagged output is written in blocks of this size (see send). */
const OUTPUT_BLOCK = 64 * 1024;

export class ImapConnection implements SessionIO {
  private socket: Socket;
  private framer!: CommandFramer;
  private readonly queue: Uint8Array[] = [];
  private lineWaiter: { resolve: (line: Uint8Array) => void; reject: (err: Error) => void } | null = null;
  private running = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;
  private readonly session: Session;
  private readonly opts: ConnectionOptions;
  readonly remoteAddress: string;
  readonly loopback: boolean;

  constructor(socket: Socket, opts: ConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.loopback = LOOPBACK.test(this.remoteAddress);
    this.session = new Session(opts.shared, this, opts.log);
    this.attach(socket);
  }

  get secure(): boolean {
    return this.socket instanceof TLSSocket && this.socket.encrypted === true;
  }

  /** Sends the greeting with capabilities (RFC 3501 §7.1.1, RFC 5530 CAPABILITY code). */
  async greet(): Promise<void> {
    await this.send('*', [{ type: 'atom', value: 'OK' }, { type: 'raw', value: `[CAPABILITY ${this.session.capabilities().join(' ')}] Sealpost ready` }]);
    await this.flush();
  }

  /** Sends BYE and closes, e.g. when the server is over its connection limit or shutting down. */
  async bye(text: string): Promise<void> {
    if (this.closed) return;
    await this.send('*', [{ type: 'atom', value: 'BYE' }, { type: 'raw', value: text }]);
    await this.flush();
    this.socket.end();
  }

  private attach(socket: Socket): void {
    const limits = this.opts.shared.limits;
    this.framer = new CommandFramer(
      {
        maxLineLength: limits.maxLineLength,
        maxLiteralSize: limits.maxLiteralSize,
        onLiteral: (info) => this.checkLiteral(info.size, info.commandSoFar),
      },
      {
        frame: (bytes) => this.onFrame(bytes),
        continuation: () => void this.send('+', [{ type: 'raw', value: 'Ready for literal data' }]),
        error: (e) => {
          const tag = e.tag ?? '*';
          const status = e.kind === 'line-too-long' ? 'BAD' : 'NO';
          const code = e.kind === 'literal-refused' ? '' : '[TOOBIG] ';
          void this.send(tag, [{ type: 'atom', value: status }, { type: 'raw', value: `${code}${e.reason}` }]).then(() => this.flush());
        },
      },
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch (err) {
        this.opts.log.error({ err }, 'IMAP framer failed');
        this.destroy();
      }
    });
    socket.setTimeout(limits.idleTimeoutMs, () => void this.bye('Autologout; idle for too long'));
    socket.on('error', (err) => this.opts.log.debug({ err: err.message }, 'IMAP socket error'));
    socket.on('close', () => this.onSocketClose());
  }

  /** Literal size policy: APPEND may carry a message up to the limit; other
   *  commands (and anything before login) only short literals. */
  private checkLiteral(size: number, soFar: Uint8Array): string | null {
    const limits = this.opts.shared.limits;
    const head = Buffer.from(soFar.subarray(0, 64)).toString('latin1').split(' ', 3);
    const name = (head[1] ?? '').toUpperCase();
    if (name === 'APPEND' && this.session.state !== 'notauth') {
      return size > limits.maxLiteralSize ? `Message too large (APPENDLIMIT ${limits.maxLiteralSize})` : null;
    }
    return size > limits.maxLineLength ? `Literal too large for ${name || 'this command'} (max ${limits.maxLineLength})` : null;
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.lineWaiter && this.queue.length === 0) {
      const waiter = this.lineWaiter;
      this.lineWaiter = null;
      waiter.resolve(bytes);
      return;
    }
    this.queue.push(bytes);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const frame = this.queue.shift()!;
        await this.session.run(frame);
        if (this.session.closing) {
          this.socket.end();
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  readLine(): Promise<Uint8Array> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      this.lineWaiter = { resolve, reject };
    });
  }

  /**
   * Queues a response. Untagged responses are gathered and written in blocks
   * of OUTPUT_BLOCK bytes (10,000 FETCH lines would otherwise be 10,000 TCP
   * writes); a tagged reply or a continuation request flushes at once, since
   * the client waits for it. IDLE updates call flush() themselves.
   */
  send(tag: string, values: ResponseValue[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    for (const p of compileResponsePieces({ tag, values })) {
      this.pending.push(p);
      this.pendingBytes += p.length;
    }
    if (tag !== '*' || this.pendingBytes >= OUTPUT_BLOCK) return this.flush();
    return Promise.resolve();
  }

  /** Writes what send() gathered; resolves when the socket can take more (back-pressure). */
  flush(): Promise<void> {
    if (this.closed || this.pending.length === 0) return Promise.resolve();
    let ok = true;
    this.socket.cork();
    for (const p of this.pending) ok = this.socket.write(p);
    this.socket.uncork();
    this.pending = [];
    this.pendingBytes = 0;
    if (ok) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Upgrades the socket in place; called by STARTTLS after its tagged OK was written. */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.setTimeout(0);
    // Discard anything pipelined after STARTTLS (RFC 3501 §6.2.1, the STARTTLS command injection class of bugs).
    this.queue.length = 0;
    const secure = new TLSSocket(plain, { isServer: true, key: this.opts.tls.key, cert: this.opts.tls.cert });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((resolve) => {
      secure.once('secure', () => resolve());
      secure.once('close', () => resolve());
    });
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.end();
    this.lineWaiter?.reject(new Error('connection closed'));
    this.lineWaiter = null;
    this.opts.onClose();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
