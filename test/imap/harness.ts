// Test harness for the IMAP server: a real listener on 127.0.0.1 over a mail
// store (the memory double by default), a fixed-password authenticator, and a
// raw line client that returns byte-exact responses.
import net from 'node:net';
import pino from 'pino';
import { AuthError } from '../../src/errors/index.ts';
import type { Authenticator } from '../../src/accounts/types.ts';
import { createImapServer, type ImapServer } from '../../src/imap/server.ts';
import type { ImapLimits } from '../../src/imap/types.ts';
import { createMemoryMailStore } from '../../src/mailstore/memory.ts';
import type { Account, MailStore } from '../../src/mailstore/types.ts';
import { testTls } from './tls-fixture.ts';

export const PASSWORD = 'correct horse';

export interface Harness {
  store: MailStore;
  account: Account;
  other: Account;
  port: number;
  server: ImapServer;
  connect(): Promise<RawClient>;
  /** connects and logs in as account */
  login(): Promise<RawClient>;
  close(): Promise<void>;
}

const SECRETS = { passwordHash: 'x', publicKey: 'x', privateKey: 'x', fingerprint: 'X' };

export async function startHarness(opts: { store?: MailStore; limits?: Partial<ImapLimits>; implicitTls?: boolean } = {}): Promise<Harness> {
  const store = opts.store ?? createMemoryMailStore();
  const account = await store.createAccount({ address: 'alice@example.test', name: 'Alice', ...SECRETS });
  const other = await store.createAccount({ address: 'bob@example.test', name: 'Bob', ...SECRETS });
  const auth: Authenticator = {
    async authenticate(user, pass) {
      const a = await store.getAccount(user);
      if (!a || pass !== PASSWORD) throw new AuthError('AUTH_FAILED', 'bad');
      return a;
    },
  };
  const server = createImapServer({ store, auth, logger: pino({ level: 'silent' }), tls: await testTls(), implicitTls: opts.implicitTls ?? false, limits: opts.limits ?? {} });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const connect = async (): Promise<RawClient> => {
    const c = new RawClient(port);
    await c.ready;
    return c;
  };
  return {
    store, account, other, port, server, connect,
    async login() {
      const c = await connect();
      const r = await c.cmd(`LOGIN alice@example.test "${PASSWORD}"`);
      if (!r.tagged.includes('OK')) throw new Error(`login failed: ${r.tagged}`);
      return c;
    },
    async close() {
      await server.shutdown();
      await store.close();
    },
  };
}

/** A minimal line client: sends commands with auto tags, collects everything up to the tagged reply. */
export class RawClient {
  readonly socket: net.Socket;
  readonly ready: Promise<string>;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private n = 0;
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    this.ready = this.readUntil((text) => (/\r\n/.test(text) ? text.indexOf('\r\n') + 2 : -1));
  }

  /** Waits until `end(text)` returns an index >= 0, then consumes up to it. */
  async readUntil(end: (text: string) => number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.buf.toString('latin1');
      const i = end(text);
      if (i >= 0) {
        this.buf = this.buf.subarray(i);
        return text.slice(0, i);
      }
      if (this.closed) throw new Error(`connection closed; got: ${JSON.stringify(text)}`);
      if (Date.now() > deadline) throw new Error(`timeout; got: ${JSON.stringify(text.slice(-500))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends "TAG command" and returns all lines up to and including the tagged reply. */
  async cmd(command: string, timeoutMs = 5000): Promise<{ all: string; untagged: string; tagged: string }> {
    const tag = `T${++this.n}`;
    this.write(`${tag} ${command}\r\n`);
    return this.waitTagged(tag, timeoutMs);
  }

  nextTag(): string {
    return `T${++this.n}`;
  }

  async waitTagged(tag: string, timeoutMs = 5000): Promise<{ all: string; untagged: string; tagged: string }> {
    const re = new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`);
    const all = await this.readUntil((text) => {
      const m = re.exec(text);
      return m ? m.index + m[0].length : -1;
    }, timeoutMs);
    const i = all.lastIndexOf(`${tag} `);
    return { all, untagged: all.slice(0, i), tagged: all.slice(i).trim() };
  }

  /** Reads one line (e.g. a continuation or an IDLE update). */
  async line(timeoutMs = 5000): Promise<string> {
    return (await this.readUntil((t) => { const i = t.indexOf('\r\n'); return i >= 0 ? i + 2 : -1; }, timeoutMs)).trimEnd();
  }

  end(): void {
    this.socket.end();
  }
}
