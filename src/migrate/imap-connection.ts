// One IMAP connection of the migration reader (imap-source.ts): the one file
// that uses imapflow (DESIGN.md, "one adapter per outside library"). It opens
// on demand and is replaced when it drops; every operation selects its folder
// read-only (EXAMINE, RFC 3501 §6.3.2), checks UIDVALIDITY (§2.3.1.1) and
// fetches with BODY.PEEK[] (§6.4.5), so the source is left as it was; imapflow
// errors come out as MigrateErrors with a stable code.
//
// imapflow's own log entries go to the logger at debug, reduced to message and
// error code; its debug and trace entries (the wire, message data) are dropped.
import tls from 'node:tls';
import { ImapFlow, type FetchMessageObject, type Logger as ImapFlowLogger, type StatusObject } from 'imapflow';
import type { Logger } from 'pino';
import { MigrateError } from './errors.ts';
import type { ListedMailbox } from './imap-folders.ts';

export interface ConnectSettings {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'plain';
  user: string;
  password: string;
  ca?: string | undefined;
  logger?: Logger | undefined;
  connectTimeoutMs: number;
  /** a literal larger than this fails the connection (a server whose RFC822.SIZE lied) */
  maxLiteralSize: number;
  /** imap://USER@HOST:PORT, for errors and logs */
  url: string;
}

export interface FolderStatus {
  messages?: number | undefined;
  uidNext?: number | undefined;
  uidValidity?: number | undefined;
}

/** A LIST answer with the STATUS that came with it (LIST-STATUS, RFC 5819), or null. */
export interface ListedFolder extends ListedMailbox {
  status: FolderStatus | null;
}

/** One message as FETCH gave it. */
export interface FetchedMessage {
  uid: number;
  source: Uint8Array;
  /** FLAGS as the server sent them */
  flags: string[];
  internalDate: Date | null;
}

/** Which folder an operation is for: its decoded path, the UIDVALIDITY it must have, and its URL for errors. */
export interface FolderRef {
  path: string;
  uidValidity: number;
  url: string;
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_)|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ClosedAfterConnectTLS/;
const GONE_CODE = /^(NoConnection|EConnectionClosed|StateLogout|ETIMEOUT|ECONNRESET|EPIPE|ETIMEDOUT|ECONNABORTED|ClosedAfterConnect)/;

export class ImapLink {
  readonly #s: ConnectSettings;
  readonly #stop: AbortSignal;
  #client: ImapFlow | null = null;
  #connecting: Promise<ImapFlow> | null = null;
  #closed = false;
  /** EXISTS of each folder when sizes() last read it: an EXISTS that came during
   *  another command (no listener then) still shows as a difference before IDLE. */
  readonly #seenExists = new Map<string, number>();

  /** `stop`: when it aborts, the link refuses further work (its user is done). */
  constructor(settings: ConnectSettings, stop: AbortSignal) {
    this.#s = settings;
    this.#stop = stop;
  }

  get signal(): AbortSignal {
    return this.#stop;
  }

  get stopped(): boolean {
    return this.#closed || this.#stop.aborted;
  }

  /**
   * Connects and logs in unless connected.
   * @throws {MigrateError} MIGRATE_CONNECT_FAILED (also once stopped), MIGRATE_TLS_FAILED, MIGRATE_AUTH_FAILED
   */
  async connect(): Promise<void> {
    await this.#client_();
  }

  /** Every mailbox LIST gives, with its STATUS, and the personal namespace prefix (RFC 2342). */
  async list(): Promise<{ folders: ListedFolder[]; prefix: string }> {
    const client = await this.#client_();
    try {
      const listed = await client.list({ statusQuery: { messages: true, uidNext: true, uidValidity: true } });
      return {
        prefix: client.namespace?.prefix ?? '',
        folders: listed.map((l) => ({
          path: l.path,
          delimiter: l.delimiter || null,
          attributes: [...l.flags],
          subscribed: l.subscribed === true,
          status: l.status === undefined ? null : folderStatus(l.status),
        })),
      };
    } catch (err) {
      throw operationError(err, client, this.#s.url);
    }
  }

  /** STATUS of one mailbox (RFC 3501 §6.3.10), or null when the server refuses it. */
  async status(path: string, where: string): Promise<FolderStatus | null> {
    const client = await this.#client_();
    try {
      const status = await client.status(path, { messages: true, uidNext: true, uidValidity: true });
      return status === false ? null : folderStatus(status);
    } catch (err) {
      const error = operationError(err, client, where);
      if (error.code === 'MIGRATE_UNREADABLE') return null;
      throw error;
    }
  }

  /** UID and RFC822.SIZE of every message with a UID of `from` or more, in UID order. */
  async sizes(folder: FolderRef, from: number): Promise<{ uids: number[]; sizes: number[] }> {
    return this.#inFolder(folder, async (client) => {
      const uids: number[] = [];
      const sizes: number[] = [];
      // The folder may have been selected for a while: NOOP makes the server look
      // for new mail (Dovecot does not before a FETCH), so "n:*" sees it.
      await client.noop();
      const exists = client.mailbox === false ? 0 : client.mailbox.exists;
      this.#seenExists.set(folder.path, exists);
      if (exists === 0) return { uids, sizes };
      // "n:*" also answers with the last message when every UID is below n (RFC 3501 §6.4.8).
      for await (const m of client.fetch(`${from}:*`, { uid: true, size: true }, { uid: true })) {
        if (m.uid >= from) {
          uids.push(m.uid);
          sizes.push(m.size ?? 0);
        }
      }
      if (client.mailbox !== false) this.#seenExists.set(folder.path, client.mailbox.exists);
      return sortedByUid(uids, sizes);
    });
  }

  /** One UID FETCH of `set` (a sequence set of `uids`): source, flags, INTERNALDATE, in UID order.
   *  A message expunged meanwhile is absent. */
  async download(folder: FolderRef, uids: readonly number[], set: string): Promise<FetchedMessage[]> {
    return this.#inFolder(folder, async (client) => {
      const want = new Set(uids);
      const out: FetchedMessage[] = [];
      for await (const m of client.fetch(set, { uid: true, flags: true, internalDate: true, source: true }, { uid: true })) {
        if (m.source === undefined || !want.has(m.uid)) continue; // a flag update of another message
        want.delete(m.uid);
        out.push({ uid: m.uid, source: m.source, flags: [...(m.flags ?? [])], internalDate: internalDate(m) });
      }
      return out.sort((a, b) => a.uid - b.uid);
    });
  }

  /**
   * Waits with IDLE (RFC 2177) on the folder until it reports new mail, `ms`
   * pass, the connection drops or `stop` aborts; at once when its UIDNEXT is
   * above `after` or its EXISTS moved since sizes() last looked.
   */
  async idle(folder: FolderRef, after: number, ms: number, stop: AbortSignal): Promise<void> {
    await this.#inFolder(folder, async (client, exists, uidNext) => {
      if (uidNext > after || exists !== this.#seenExists.get(folder.path)) return;
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          client.off('exists', finish);
          client.off('close', finish);
          stop.removeEventListener('abort', finish);
          resolve();
        };
        const timer = setTimeout(finish, ms);
        client.on('exists', finish);
        client.on('close', finish);
        stop.addEventListener('abort', finish, { once: true });
        // IDLE lasts until the next command breaks it (imapflow sends DONE) or the connection goes.
        client.idle().catch(finish);
      });
    });
  }

  /** Forgets the connection (closing it), so the next operation connects anew. */
  drop(): void {
    const client = this.#client;
    this.#client = null;
    client?.close();
  }

  /** Logs out (without waiting long on a dead server); the link does no more work. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = null;
    if (client === null) return;
    const timer = setTimeout(() => client.close(), 2000);
    try {
      await client.logout();
    } catch {
      client.close();
    } finally {
      clearTimeout(timer);
    }
  }

  async #inFolder<T>(folder: FolderRef, op: (client: ImapFlow, exists: number, uidNext: number) => Promise<T>): Promise<T> {
    const client = await this.#client_();
    try {
      const lock = await client.getMailboxLock(folder.path, { readOnly: true });
      try {
        const mailbox = client.mailbox;
        if (mailbox === false) throw new MigrateError('MIGRATE_UNREADABLE', folder.url, null, `${folder.url}: not selected`);
        if (Number(mailbox.uidValidity) !== folder.uidValidity) {
          throw new MigrateError('MIGRATE_SOURCE_CHANGED', folder.url, null, `${folder.url}: UIDVALIDITY is ${mailbox.uidValidity} now; list the folders again`);
        }
        return await op(client, mailbox.exists, mailbox.uidNext);
      } finally {
        lock.release();
      }
    } catch (err) {
      throw operationError(err, client, folder.url);
    }
  }

  async #client_(): Promise<ImapFlow> {
    const closed = (): MigrateError => new MigrateError('MIGRATE_CONNECT_FAILED', this.#s.url, null, `${this.#s.url}: the source is closed`);
    if (this.stopped) throw closed();
    if (this.#client?.usable === true) return this.#client;
    this.drop();
    this.#connecting ??= open(this.#s).finally(() => {
      this.#connecting = null;
    });
    const client = await this.#connecting;
    if (this.stopped) {
      client.close();
      throw closed();
    }
    this.#client = client;
    return client;
  }
}

async function open(s: ConnectSettings): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: s.host,
    port: s.port,
    secure: s.security === 'tls',
    doSTARTTLS: s.security === 'starttls',
    auth: { user: s.user, pass: s.password },
    // Node's `ca` replaces the system roots; keep them.
    ...(s.ca === undefined ? {} : { tls: { ca: [...tls.rootCertificates, s.ca] } }),
    logger: imapflowLogger(s.logger),
    disableAutoIdle: true,
    connectionTimeout: s.connectTimeoutMs,
    greetingTimeout: s.connectTimeoutMs,
    maxLiteralSize: s.maxLiteralSize,
  });
  // imapflow also reports a broken connection as an 'error' event, which would crash the process unheard.
  client.on('error', (err: unknown) => s.logger?.debug({ server: s.url, code: (err as { code?: unknown }).code }, 'IMAP connection error'));
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw connectError(err, s.url);
  }
  return client;
}

function folderStatus(status: StatusObject): FolderStatus {
  return { messages: status.messages, uidNext: status.uidNext, uidValidity: status.uidValidity === undefined ? undefined : Number(status.uidValidity) };
}

function internalDate(m: FetchMessageObject): Date | null {
  const date = m.internalDate instanceof Date ? m.internalDate : typeof m.internalDate === 'string' ? new Date(m.internalDate) : null;
  return date !== null && !Number.isNaN(date.getTime()) ? date : null;
}

function sortedByUid(uids: number[], sizes: number[]): { uids: number[]; sizes: number[] } {
  // Servers answer in sequence order, which is UID order (RFC 3501 §2.3.1.1); sort only if one does not.
  if (uids.every((uid, i) => i === 0 || uids[i - 1]! < uid)) return { uids, sizes };
  const order = uids.map((_, i) => i).sort((a, b) => uids[a]! - uids[b]!);
  return { uids: order.map((i) => uids[i]!), sizes: order.map((i) => sizes[i]!) };
}

/** An error of a command as a MigrateError: a lost connection, a missing folder, or a refusal. */
function operationError(err: unknown, client: ImapFlow, where: string): MigrateError {
  if (err instanceof MigrateError) return err;
  const e = err as { code?: unknown; serverResponseCode?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (!client.usable || GONE_CODE.test(code)) {
    return new MigrateError('MIGRATE_CONNECT_FAILED', where, null, `${where}: connection lost (${code || String(e.message)})`, { cause: err });
  }
  if (e.serverResponseCode === 'NONEXISTENT') return new MigrateError('MIGRATE_NOT_FOUND', where, null, `${where}: no such folder`, { cause: err });
  return new MigrateError('MIGRATE_UNREADABLE', where, null, `${where}: the server refused (${String(e.message)})`, { cause: err });
}

/** A failed connect or login as a MigrateError. */
function connectError(err: unknown, where: string): MigrateError {
  const e = err as { code?: unknown; authenticationFailed?: unknown; tlsFailed?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.authenticationFailed === true) return new MigrateError('MIGRATE_AUTH_FAILED', where, null, `${where}: the server refused the user name or password`, { cause: err });
  if (e.tlsFailed === true || TLS_CODE.test(code)) return new MigrateError('MIGRATE_TLS_FAILED', where, null, `${where}: TLS failed (${code || String(e.message)})`, { cause: err });
  return new MigrateError('MIGRATE_CONNECT_FAILED', where, null, `${where}: cannot connect (${code || String(e.message)})`, { cause: err });
}

function imapflowLogger(logger: Logger | undefined): false | ImapFlowLogger {
  if (logger === undefined) return false;
  const child = logger.child({ component: 'imapflow' });
  const forward = (entry: unknown): void => {
    const e = (entry ?? {}) as { msg?: unknown; err?: { code?: unknown; message?: unknown } };
    child.debug({ code: e.err?.code, error: e.err?.message }, typeof e.msg === 'string' ? e.msg : 'imapflow');
  };
  const quiet = (): void => undefined;
  // isLevelEnabled, which imapflow asks before building an entry, is not in its Logger type.
  const adapter = { trace: quiet, debug: quiet, info: forward, warn: forward, error: forward, fatal: forward, isLevelEnabled: (level: string) => level !== 'trace' && level !== 'debug' && child.isLevelEnabled('debug') };
  return adapter;
}
