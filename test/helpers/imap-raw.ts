// Test helper: a minimal raw IMAP4rev1 client (RFC 3501 §2.2, §7.5, §9 literals;
// RFC 7888 LITERAL+; RFC 2177 IDLE; §6.2.1 STARTTLS) for byte-exact tests and
// the benchmark. It frames responses correctly, literals included, and hands
// back the bytes untouched: it interprets nothing beyond tags and "+".
import net from 'node:net';
import tls from 'node:tls';

export interface ImapResponse {
  tag: string;
  status: 'OK' | 'NO' | 'BAD';
  /** the tagged status line without CRLF */
  tagged: string;
  /** every untagged response received while the command ran, bytes as sent */
  untagged: Buffer;
  /** the same, one Buffer per response (a response includes its literals) */
  responses: Buffer[];
}

export interface ImapLiteral {
  literal: Uint8Array;
  /** send as {n+} without waiting for "+" (RFC 7888) */
  nonSync?: boolean;
}

export interface ConnectOptions {
  host?: string;
  port: number;
  /** implicit TLS (imaps); certificates are not verified */
  tls?: boolean;
  /** per-command timeout, default 30 s */
  timeoutMs?: number;
}

interface Pending {
  tag: string;
  responses: Buffer[];
  resolve: (response: ImapResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A literal argument for `command`. */
export function literal(bytes: Uint8Array | string, nonSync = false): ImapLiteral {
  return { literal: typeof bytes === 'string' ? Buffer.from(bytes) : bytes, nonSync };
}

/** An IMAP quoted string (RFC 3501 §4.3) for ASCII text without CR/LF. */
export function quote(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error('quote: value contains CR, LF or NUL; use a literal');
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

const LITERAL_AT_END = /\{(\d+)\+?\}\r?\n$/;

export class RawImapClient {
  greeting = '';
  #socket: net.Socket;
  #timeoutMs: number;
  #tagCounter = 0;
  #pending: Pending[] = [];
  #continuations: Array<(line: string) => void> = [];
  // response framing state
  #parts: Buffer[] = [];
  #linePart: Buffer[] = [];
  #literalRemaining = 0;
  // unsolicited / IDLE untagged responses, for waitFor
  #events: string[] = [];
  #eventWaiters: Array<() => void> = [];
  #idleTag: string | null = null;
  #closed: Error | null = null;
  #greetingWaiter: ((line: string) => void) | null = null;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#attach(socket);
  }

  /** Connects and reads the greeting. @throws Error on connection failure or a timeout */
  static async connect(options: ConnectOptions): Promise<RawImapClient> {
    const host = options.host ?? '127.0.0.1';
    const socket = options.tls === true
      ? tls.connect({ host, port: options.port, rejectUnauthorized: false })
      : net.connect({ host, port: options.port });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls === true ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawImapClient(socket, options.timeoutMs ?? 30_000);
    client.greeting = await client.#withTimeout(new Promise<string>((resolve) => {
      client.#greetingWaiter = resolve;
    }), 'greeting');
    return client;
  }

  get socket(): net.Socket {
    return this.#socket;
  }

  #attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  #fail(error: Error): void {
    if (this.#closed !== null) return;
    this.#closed = error;
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    for (const wake of this.#eventWaiters.splice(0)) wake();
  }

  /** Splits the byte stream into whole responses: a line, plus a literal and more line whenever the line ends in {n}. */
  #onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#literalRemaining > 0) {
        const take = Math.min(this.#literalRemaining, chunk.length - offset);
        this.#parts.push(chunk.subarray(offset, offset + take));
        this.#literalRemaining -= take;
        offset += take;
        continue;
      }
      const newline = chunk.indexOf(0x0a, offset);
      if (newline < 0) {
        this.#linePart.push(chunk.subarray(offset));
        break;
      }
      this.#linePart.push(chunk.subarray(offset, newline + 1));
      offset = newline + 1;
      const line = this.#linePart.length === 1 ? (this.#linePart[0] as Buffer) : Buffer.concat(this.#linePart);
      this.#linePart = [];
      this.#parts.push(line);
      const match = LITERAL_AT_END.exec(line.subarray(Math.max(0, line.length - 24)).toString('latin1'));
      if (match?.[1] !== undefined) {
        this.#literalRemaining = Number(match[1]);
        if (this.#literalRemaining > 0) continue;
        continue; // {0}: the line goes on at once
      }
      const response = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
      this.#parts = [];
      this.#dispatch(response);
    }
  }

  #dispatch(response: Buffer): void {
    const first = response[0];
    if (this.#greetingWaiter !== null) {
      const waiter = this.#greetingWaiter;
      this.#greetingWaiter = null;
      waiter(response.toString('utf8').replace(/\r?\n$/, ''));
      return;
    }
    if (first === 0x2b /* + */) {
      const line = response.toString('utf8').replace(/\r?\n$/, '');
      const waiter = this.#continuations.shift();
      if (waiter !== undefined) waiter(line);
      else this.#pushEvent(line);
      return;
    }
    if (first === 0x2a /* * */) {
      const oldest = this.#pending[0];
      if (oldest !== undefined) oldest.responses.push(response);
      if (oldest === undefined || oldest.tag === this.#idleTag) this.#pushEvent(response.toString('utf8').replace(/\r?\n$/, ''));
      return;
    }
    const line = response.toString('utf8').replace(/\r?\n$/, '');
    const space = line.indexOf(' ');
    const tag = line.slice(0, space);
    const index = this.#pending.findIndex((p) => p.tag === tag);
    const pending = this.#pending[index];
    if (pending === undefined) {
      this.#pushEvent(line);
      return;
    }
    this.#pending.splice(index, 1);
    clearTimeout(pending.timer);
    const status = line.slice(space + 1).split(' ', 1)[0]?.toUpperCase();
    if (status !== 'OK' && status !== 'NO' && status !== 'BAD') {
      pending.reject(new Error(`bad tagged response: ${line}`));
      return;
    }
    pending.resolve({ tag, status, tagged: line, untagged: Buffer.concat(pending.responses), responses: pending.responses });
  }

  #pushEvent(line: string): void {
    this.#events.push(line);
    for (const wake of this.#eventWaiters.splice(0)) wake();
  }

  async #withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = this.#timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  nextTag(): string {
    return `A${++this.#tagCounter}`;
  }

  /** Writes bytes exactly as given (for malformed-input and pipelining tests). */
  send(raw: string | Uint8Array): void {
    if (this.#closed !== null) throw this.#closed;
    this.#socket.write(raw);
  }

  /** Registers a tag sent by hand with `send` and resolves with its tagged response. */
  waitForTagged(tag: string, timeoutMs = this.#timeoutMs): Promise<ImapResponse> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#pending.findIndex((p) => p.tag === tag);
        if (index >= 0) this.#pending.splice(index, 1);
        reject(new Error(`timeout waiting for tagged response ${tag}`));
      }, timeoutMs);
      this.#pending.push({ tag, responses: [], resolve, reject, timer });
    });
  }

  /** Waits for the next "+" continuation request; resolves with its line. */
  waitForContinuation(timeoutMs = this.#timeoutMs): Promise<string> {
    return this.#withTimeout(new Promise<string>((resolve) => this.#continuations.push(resolve)), 'continuation', timeoutMs);
  }

  /**
   * Sends a tagged command. Parts are joined; a literal part is sent as {n}
   * (waiting for "+" first) or {n+}. Resolves with the tagged response even if
   * it is NO or BAD; if the server answers a literal with a tagged NO/BAD
   * instead of "+", that is what you get.
   */
  async command(command: string | ReadonlyArray<string | ImapLiteral>, options: { timeoutMs?: number } = {}): Promise<ImapResponse> {
    const tag = this.nextTag();
    const parts = typeof command === 'string' ? [command] : command;
    const done = this.waitForTagged(tag, options.timeoutMs);
    let text = `${tag} `;
    for (const part of parts) {
      if (typeof part === 'string') {
        text += part;
        continue;
      }
      this.send(`${text}{${part.literal.byteLength}${part.nonSync === true ? '+' : ''}}\r\n`);
      text = '';
      if (part.nonSync !== true) {
        const next = await Promise.race([this.waitForContinuation(options.timeoutMs).then(() => 'continue' as const), done.then(() => 'tagged' as const)]);
        if (next === 'tagged') {
          this.#continuations.shift(); // nobody waits for it any more
          return done;
        }
      }
      this.send(part.literal);
    }
    this.send(`${text}\r\n`);
    return done;
  }

  /** Like `command` but throws unless the status is OK. */
  async ok(command: string | ReadonlyArray<string | ImapLiteral>, options: { timeoutMs?: number } = {}): Promise<ImapResponse> {
    const response = await this.command(command, options);
    if (response.status !== 'OK') throw new Error(`${typeof command === 'string' ? command.split(' ')[0] : 'command'} failed: ${response.tagged}`);
    return response;
  }

  login(user: string, password: string): Promise<ImapResponse> {
    return this.command(`LOGIN ${quote(user)} ${quote(password)}`);
  }

  append(mailbox: string, message: Uint8Array, options: { flags?: readonly string[]; internalDate?: string; nonSync?: boolean } = {}): Promise<ImapResponse> {
    const flags = options.flags !== undefined ? ` (${options.flags.join(' ')})` : '';
    const date = options.internalDate !== undefined ? ` ${quote(options.internalDate)}` : '';
    return this.command([`APPEND ${quote(mailbox)}${flags}${date} `, literal(message, options.nonSync === true)]);
  }

  /** STARTTLS, then a TLS handshake over the same socket (certificate not verified). */
  async starttls(): Promise<ImapResponse> {
    const response = await this.command('STARTTLS');
    if (response.status !== 'OK') return response;
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await this.#withTimeout(new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    }), 'TLS handshake');
    this.#socket = secure;
    this.#attach(secure);
    return response;
  }

  /** Starts IDLE (RFC 2177) and waits for the "+"; untagged responses then go to waitFor. */
  async idle(): Promise<void> {
    if (this.#idleTag !== null) throw new Error('already idling');
    const tag = this.nextTag();
    this.#idleTag = tag;
    this.#idleDone = this.waitForTagged(tag, 24 * 3_600_000);
    this.#idleDone.catch(() => undefined);
    const continued = this.waitForContinuation();
    this.send(`${tag} IDLE\r\n`);
    await Promise.race([continued, this.#idleDone.then((r) => Promise.reject(new Error(`IDLE refused: ${r.tagged}`)))]);
  }

  #idleDone: Promise<ImapResponse> | null = null;

  /** Ends IDLE with DONE and resolves with the IDLE command's tagged response. */
  async done(): Promise<ImapResponse> {
    const finished = this.#idleDone;
    if (finished === null) throw new Error('not idling');
    this.send('DONE\r\n');
    try {
      return await this.#withTimeout(finished, 'IDLE completion');
    } finally {
      this.#idleTag = null;
      this.#idleDone = null;
    }
  }

  /**
   * Resolves with the first unsolicited (or IDLE-time) response line matching
   * `pattern` that has not been returned by an earlier waitFor.
   */
  async waitFor(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#events.findIndex((line) => pattern.test(line));
      if (index >= 0) return this.#events.splice(0, index + 1).pop() as string;
      if (this.#closed !== null) throw this.#closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${pattern}; seen: ${JSON.stringify(this.#events.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#eventWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** LOGOUT, then close. Never throws. */
  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT', { timeoutMs: 2000 });
    } catch {
      // the server may close first
    }
    this.close();
  }

  close(): void {
    this.#socket.destroy();
  }
}
