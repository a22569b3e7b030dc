// IMAP reader for migrations (RFC 3501), over imapflow (imap-connection.ts):
// the folders of an account named the Sealpost way (imap-folders.ts), and
// their messages with flags and INTERNALDATE, read-only (EXAMINE, BODY.PEEK[]),
// so the source is left exactly as it was. Bytes are made CRLF (RFC 5322 §2.1)
// in case a server hands out bare LF; \Recent is never kept.
//
// Idempotent and resumable: a message's sourceId is its RFC 5092 URL
// (imap-url.ts). messages() first fetches UID and RFC822.SIZE of the folder
// (a few bytes a message), asks the caller's `known` which ids are imported
// already (500 at a time) and never downloads those.
//
// Bounded memory: the rest is downloaded in UID order by UID FETCH commands of
// at most `chunkMessages` messages and `chunkBytes` bytes (by RFC822.SIZE; a
// larger message alone). A chunk is read whole before its messages are
// yielded, so the connection is free while the caller works (it may list or
// read another folder meanwhile); the reader holds at most one chunk:
// max(chunkBytes, largest message) bytes of messages. `stats` counts it.
//
// Connection loss: a command that fails because the connection dropped is
// retried on a new connection (3 times, 0.5/1/2 s apart) from the chunk it
// was in. follow() retries for as long as it runs, backing off up to 60 s.
// A folder whose UIDVALIDITY changed (recreated) is MIGRATE_SOURCE_CHANGED:
// its ids no longer name the same messages, so the caller lists again.
import type { Logger } from 'pino';
import { ValidationError } from '../errors/index.ts';
import type { SpecialUse } from '../mailstore/types.ts';
import { MigrateError } from './errors.ts';
import { maxMessageSize, skipOrThrow, tooLarge, toCrlf } from './files.ts';
import { ImapLink, type ConnectSettings, type FetchedMessage, type FolderRef, type FolderStatus } from './imap-connection.ts';
import { isIncluded, nameMailboxes } from './imap-folders.ts';
import { planChunks, sourceFlags, uidSet, type Wanted } from './imap-messages.ts';
import { imapMailboxUrl, imapServerUrl, type ImapServerRef } from './imap-url.ts';
import type { SourceMessage, SourceOptions } from './types.ts';

export interface ImapSourceOptions extends SourceOptions {
  host: string;
  port: number;
  /** 'tls': TLS from the start (port 993); 'starttls': plain, then STARTTLS, required; 'plain': no TLS */
  security: 'tls' | 'starttls' | 'plain';
  user: string;
  password: string;
  /** PEM of a CA to trust besides the system ones (a test server's self-signed certificate) */
  ca?: string;
  /** imapflow's own entries go here at debug (never wire data); reconnects at warn */
  logger?: Logger;
  /** most messages one UID FETCH downloads; default 100 */
  chunkMessages?: number;
  /** most bytes (by RFC822.SIZE) one UID FETCH downloads; a larger message comes alone; default 8 MiB */
  chunkBytes?: number;
  /** connect and greeting timeout; default 30 s */
  connectTimeoutMs?: number;
}

/** One folder of the source. */
export interface ImapSourceFolder {
  /** the server's mailbox name, decoded to Unicode, with the server's delimiter (imapflow encodes it for SELECT) */
  path: string;
  /** the Sealpost name (imap-folders.ts): Unicode, '/' between levels, INBOX, special-use folders as 'Sent', 'Drafts'... */
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  messages: number;
  /** 0 when the server did not say */
  uidNext: number;
}

/** Counters of what the reader did, for progress and for tests. */
export interface ImapSourceStats {
  /** messages downloaded */
  downloaded: number;
  downloadedBytes: number;
  /** messages `known` reported, not downloaded */
  skippedKnown: number;
  /** UID FETCH commands that downloaded messages */
  fetches: number;
  /** bytes of downloaded messages the reader holds now (the chunk being yielded) */
  bufferedBytes: number;
  /** the most it held at once */
  peakBufferedBytes: number;
}

/** Which sourceIds are imported already. */
export type KnownFn = (sourceIds: string[]) => Promise<Set<string>>;

export interface ImapSource {
  /**
   * The selectable folders, INBOX first, then by name. `include`: globs (`*`
   * any characters, `%` within one level, INBOX in any case) matched against
   * the Sealpost name or the server path. \All, \Flagged and \Important views
   * are left out unless an include glob without wildcards names them.
   * @throws {MigrateError} MIGRATE_CONNECT_FAILED; MIGRATE_UNREADABLE for a
   *   folder whose STATUS the server refuses, unless `onSkip` takes it
   */
  folders(options?: { include?: readonly string[] }): Promise<ImapSourceFolder[]>;
  /**
   * The folder's messages in UID order, except those `known` reports.
   * @throws {MigrateError} MIGRATE_SOURCE_CHANGED (UIDVALIDITY is not the
   *   listed one), MIGRATE_NOT_FOUND (folder gone), MIGRATE_CONNECT_FAILED,
   *   MIGRATE_UNREADABLE; MIGRATE_TOO_LARGE unless `onSkip` takes it
   */
  messages(folder: ImapSourceFolder, options?: { known?: KnownFn }): AsyncIterable<SourceMessage>;
  /**
   * New mail, until `signal` aborts (or close()): every message with a UID at
   * or above the folder's listed uidNext (so mail that came between folders()
   * and this call is not missed) that `known` does not report. INBOX (or the
   * first folder) is watched with IDLE (RFC 2177); every folder is polled with
   * STATUS every `intervalMs` (default 60 s). A dropped connection is
   * reconnected with backoff (1 s doubling to 60 s), logged at warn.
   * @throws {MigrateError} MIGRATE_AUTH_FAILED on a reconnect,
   *   MIGRATE_SOURCE_CHANGED, and as messages()
   */
  follow(folders: readonly ImapSourceFolder[], options: { signal: AbortSignal; intervalMs?: number; known?: KnownFn }): AsyncIterable<SourceMessage & { folder: ImapSourceFolder }>;
  /** live counters of this source (messages() and follow() alike) */
  readonly stats: Readonly<ImapSourceStats>;
  /** Logs out; running follow() calls end, and further reads throw MIGRATE_CONNECT_FAILED. */
  close(): Promise<void>;
}

const KNOWN_BATCH = 500;
const RETRIES = 3;
/** IDLE is renewed at least this often (RFC 2177 asks for under 29 minutes; NAT boxes forget sooner). */
const MAX_IDLE_MS = 4 * 60_000;

/**
 * Connects and logs in (so a wrong password shows at once), returning the source.
 * @throws {MigrateError} MIGRATE_CONNECT_FAILED, MIGRATE_TLS_FAILED, MIGRATE_AUTH_FAILED
 * @throws {ValidationError} for a bad option (the field is named)
 */
export async function openImapSource(options: ImapSourceOptions): Promise<ImapSource> {
  const source = new Source(checkOptions(options));
  await source.open();
  return source;
}

interface Settings {
  options: ImapSourceOptions;
  connect: ConnectSettings;
  server: ImapServerRef;
  url: string;
  max: number;
  chunkMessages: number;
  chunkBytes: number;
}

function checkOptions(options: ImapSourceOptions): Settings {
  if (typeof options.host !== 'string' || options.host === '') throw new ValidationError('host', 'must be a host name or address');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new ValidationError('port', 'must be 1 to 65535');
  if (!['tls', 'starttls', 'plain'].includes(options.security)) throw new ValidationError('security', "must be 'tls', 'starttls' or 'plain'");
  if (typeof options.user !== 'string' || options.user === '') throw new ValidationError('user', 'must not be empty');
  if (typeof options.password !== 'string') throw new ValidationError('password', 'must be a string');
  const positive = (field: 'chunkMessages' | 'chunkBytes' | 'connectTimeoutMs', fallback: number): number => {
    const value = options[field] ?? fallback;
    if (!Number.isSafeInteger(value) || value < 1) throw new ValidationError(field, 'must be a positive integer');
    return value;
  };
  const server = { user: options.user, host: options.host, port: options.port };
  const url = imapServerUrl(server);
  const max = maxMessageSize(options);
  return {
    options,
    connect: {
      host: options.host, port: options.port, security: options.security, user: options.user, password: options.password,
      ca: options.ca, logger: options.logger, connectTimeoutMs: positive('connectTimeoutMs', 30_000), maxLiteralSize: max + 1024 * 1024, url,
    },
    server,
    url,
    max,
    chunkMessages: positive('chunkMessages', 100),
    chunkBytes: positive('chunkBytes', 8 * 1024 * 1024),
  };
}

/** Where reading stands in a folder: the lowest UID not yet handled. */
interface Cursor {
  next: number;
}

class Source implements ImapSource {
  readonly stats: ImapSourceStats = { downloaded: 0, downloadedBytes: 0, skippedKnown: 0, fetches: 0, bufferedBytes: 0, peakBufferedBytes: 0 };
  readonly #s: Settings;
  readonly #closed = new AbortController();
  readonly #link: ImapLink;

  constructor(settings: Settings) {
    this.#s = settings;
    this.#link = new ImapLink(settings.connect, this.#closed.signal);
  }

  async open(): Promise<void> {
    await this.#link.connect();
  }

  async folders(options: { include?: readonly string[] } = {}): Promise<ImapSourceFolder[]> {
    const { folders: listed, prefix } = await this.#run(this.#link, () => this.#link.list());
    const statusOf = new Map<string, FolderStatus | null>(listed.map((l) => [l.path, l.status]));
    const out: ImapSourceFolder[] = [];
    for (const m of nameMailboxes(listed, prefix)) {
      if (!isIncluded(m, options.include)) continue;
      let status = statusOf.get(m.path) ?? null;
      if (status?.uidValidity === undefined) {
        // No LIST-STATUS, or it failed for this folder: ask STATUS alone.
        const where = `${this.#s.url}/${m.path}`;
        status = await this.#run(this.#link, () => this.#link.status(m.path, where));
        if (status?.uidValidity === undefined) {
          skipOrThrow(new MigrateError('MIGRATE_UNREADABLE', where, null, `${where}: the server gives no STATUS for this folder`), this.#s.options);
          continue;
        }
      }
      out.push({
        path: m.path, name: m.name, specialUse: m.specialUse, subscribed: m.subscribed,
        uidValidity: status.uidValidity, messages: status.messages ?? 0, uidNext: status.uidNext ?? 0,
      });
    }
    return out;
  }

  messages(folder: ImapSourceFolder, options: { known?: KnownFn } = {}): AsyncIterable<SourceMessage> {
    return this.#read(this.#link, folder, { next: 1 }, options.known, false);
  }

  async *follow(folders: readonly ImapSourceFolder[], options: { signal: AbortSignal; intervalMs?: number; known?: KnownFn }): AsyncGenerator<SourceMessage & { folder: ImapSourceFolder }, void, undefined> {
    const interval = options.intervalMs ?? 60_000;
    if (!Number.isSafeInteger(interval) || interval < 1) throw new ValidationError('intervalMs', 'must be a positive integer');
    const stop = AbortSignal.any([options.signal, this.#closed.signal]);
    const link = new ImapLink(this.#s.connect, stop);
    const cursors = new Map(folders.map((f) => [f, { next: Math.max(1, f.uidNext) }]));
    const watched = folders.find((f) => f.path.toUpperCase() === 'INBOX') ?? folders[0];
    let nextPoll = 0;
    let failures = 0;
    try {
      while (!stop.aborted) {
        try {
          const poll = Date.now() >= nextPoll;
          if (poll) nextPoll = Date.now() + interval;
          for (const folder of poll ? folders : watched === undefined ? [] : [watched]) {
            for await (const m of this.#read(link, folder, cursors.get(folder)!, options.known, folder !== watched)) {
              yield { ...m, folder };
              if (stop.aborted) return;
            }
          }
          failures = 0;
          const wait = Math.min(Math.max(0, nextPoll - Date.now()), MAX_IDLE_MS);
          if (watched === undefined) await sleep(wait, stop);
          else await link.idle(this.#ref(watched), cursors.get(watched)!.next, wait, stop);
        } catch (err) {
          if (stop.aborted) return;
          if (!(err instanceof MigrateError) || (err.code !== 'MIGRATE_CONNECT_FAILED' && err.code !== 'MIGRATE_TLS_FAILED')) throw err;
          const delay = Math.min(1000 * 2 ** failures++, 60_000);
          this.#s.options.logger?.warn({ server: this.#s.url, code: err.code, retryInMs: delay }, 'IMAP follow: connection lost, reconnecting');
          link.drop();
          await sleep(delay, stop);
        }
      }
    } finally {
      await link.close();
    }
  }

  async close(): Promise<void> {
    this.#closed.abort();
    await this.#link.close();
  }

  #ref(folder: ImapSourceFolder): FolderRef {
    return { path: folder.path, uidValidity: folder.uidValidity, url: imapMailboxUrl(this.#s.server, folder.path, folder.uidValidity) };
  }

  /** Messages of `folder` from `cursor.next` on, moving the cursor past each one handled. */
  async *#read(link: ImapLink, folder: ImapSourceFolder, cursor: Cursor, known: KnownFn | undefined, statusFirst: boolean): AsyncGenerator<SourceMessage, void, undefined> {
    const s = this.#s;
    const ref = this.#ref(folder);
    if (statusFirst) {
      // A poll asks STATUS first: cheaper than EXAMINE when nothing came.
      const status = await this.#run(link, () => link.status(folder.path, ref.url));
      if (status?.uidValidity !== undefined && status.uidValidity !== folder.uidValidity) {
        throw new MigrateError('MIGRATE_SOURCE_CHANGED', ref.url, null, `${ref.url}: UIDVALIDITY is ${status.uidValidity} now; list the folders again`);
      }
      if (status?.uidNext !== undefined && status.uidNext <= cursor.next) return;
    }
    // UID and RFC822.SIZE of every message from the cursor on: cheap, and all the planning needs.
    const from = cursor.next;
    const meta = await this.#run(link, () => link.sizes(ref, from));
    for (let start = 0; start < meta.uids.length; start += KNOWN_BATCH) {
      const uids = meta.uids.slice(start, start + KNOWN_BATCH);
      const ids = uids.map((uid) => `${ref.url}/;UID=${uid}`);
      const done = known === undefined ? new Set<string>() : await known(ids);
      const wanted: Wanted[] = [];
      uids.forEach((uid, i) => {
        const size = meta.sizes[start + i]!;
        if (done.has(ids[i]!)) this.stats.skippedKnown++;
        else if (size > s.max) skipOrThrow(tooLarge(ids[i]!, null, size, s.max), s.options);
        else wanted.push({ uid, size });
      });
      for (const chunk of planChunks(wanted, s.chunkMessages, s.chunkBytes)) {
        const chunkUids = chunk.map((w) => w.uid);
        this.stats.fetches++;
        const fetched = await this.#run(link, () => link.download(ref, chunkUids, uidSet(chunkUids)));
        const got: Array<{ uid: number; message: SourceMessage } | undefined> = [];
        for (const f of fetched.splice(0)) {
          const message = this.#message(f, `${ref.url}/;UID=${f.uid}`);
          if (message !== null) got.push({ uid: f.uid, message });
        }
        this.stats.bufferedBytes += got.reduce((sum, g) => sum + g!.message.size, 0);
        this.stats.peakBufferedBytes = Math.max(this.stats.peakBufferedBytes, this.stats.bufferedBytes);
        try {
          for (let i = 0; i < got.length; i++) {
            const { uid, message } = got[i]!;
            got[i] = undefined; // the caller's reference is then the only one
            this.stats.bufferedBytes -= message.size;
            yield message;
            cursor.next = uid + 1;
          }
        } finally {
          for (const rest of got) if (rest !== undefined) this.stats.bufferedBytes -= rest.message.size;
        }
      }
      // Known and skipped messages after the last one yielded are handled too.
      cursor.next = uids.at(-1)! + 1;
    }
  }

  /** A fetched message as a SourceMessage, or null when it is too large and `onSkip` took it. */
  #message(f: FetchedMessage, sourceId: string): SourceMessage | null {
    this.stats.downloaded++;
    this.stats.downloadedBytes += f.source.byteLength;
    const crlf = toCrlf(f.source);
    const raw = new Uint8Array(crlf.buffer, crlf.byteOffset, crlf.byteLength);
    if (raw.byteLength > this.#s.max) {
      skipOrThrow(tooLarge(sourceId, null, raw.byteLength, this.#s.max), this.#s.options);
      return null;
    }
    return { raw, flags: sourceFlags(f.flags), internalDate: f.internalDate, sourceId, size: raw.byteLength };
  }

  /** Runs `op`, reconnecting and retrying (RETRIES times) when the connection drops. */
  async #run<T>(link: ImapLink, op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!(err instanceof MigrateError) || err.code !== 'MIGRATE_CONNECT_FAILED' || attempt >= RETRIES || link.stopped) throw err;
        this.#s.options.logger?.warn({ server: this.#s.url, attempt: attempt + 1 }, 'IMAP connection lost, reconnecting');
        link.drop();
        await sleep(500 * 2 ** attempt, link.signal);
      }
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
