// Test helper: an IMAP account to migrate from. A private Dovecot (dovecot.ts)
// filled by IMAP APPEND (RFC 3501 §6.3.11) through imapflow, so INTERNALDATE,
// flags and keywords are what a real server keeps: folders with RFC 6154
// special-use attributes and without, non-ASCII names (modified UTF-7 on the
// wire), nesting under a \Noselect parent, a few hundred seeded messages of
// varied size and shape (some multipart, some 8-bit), \Deleted ones not
// expunged, keywords, dates from 2005 to 2020, and one ~12 MB message.
//
// readImapState() reads any IMAP server's account back in a client-neutral
// form (plain imapflow), so the importer's tests can compare Dovecot's state
// with Sealpost's.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import { startDovecot, type DovecotServer } from './dovecot.ts';
import { prng } from './corpus.ts';

/** One message as readImapState() reports it. */
export interface StateMessage {
  /** sorted, without \Recent */
  flags: string[];
  /** INTERNALDATE, ms since the epoch */
  internalDate: number;
  /** hex SHA-256 of the full message bytes (RFC822 / BODY[]) */
  sha256: string;
  size: number;
}

/** How to reach an IMAP account. Plain unless `secure` (TLS from the start) or `starttls`. */
export interface ImapConn {
  host: string;
  port: number;
  secure?: boolean;
  starttls?: boolean;
  user: string;
  password: string;
  /** PEM of a CA to trust (a self-signed test certificate) */
  ca?: string;
}

export interface FixtureFolder {
  /** the name on Dovecot ("/" is its delimiter) */
  path: string;
  /** the Sealpost name an IMAP reader should give it */
  sealpostName: string;
  /** the special use Sealpost should give it */
  specialUse: '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | null;
  /** the attribute Dovecot's LIST shows, if any */
  attribute?: string;
  subscribed: boolean;
  /** share of the generated messages */
  weight: number;
}

/**
 * The folders. "Sent Messages" is a second \Sent folder, as Dovecot's stock
 * config has; "Junk E-mail" has no attribute (Sealpost knows it by name);
 * "Archive" and "Projekte" exist only as parents (\Noselect).
 */
export const FIXTURE_FOLDERS: readonly FixtureFolder[] = [
  { path: 'INBOX', sealpostName: 'INBOX', specialUse: null, subscribed: true, weight: 30 },
  { path: 'Sent', sealpostName: 'Sent', specialUse: '\\Sent', attribute: '\\Sent', subscribed: true, weight: 12 },
  { path: 'Sent Messages', sealpostName: 'Sent Messages', specialUse: null, attribute: '\\Sent', subscribed: true, weight: 3 },
  { path: 'Drafts', sealpostName: 'Drafts', specialUse: '\\Drafts', attribute: '\\Drafts', subscribed: true, weight: 4 },
  { path: 'Trash', sealpostName: 'Trash', specialUse: '\\Trash', attribute: '\\Trash', subscribed: true, weight: 6 },
  { path: 'Junk E-mail', sealpostName: 'Junk', specialUse: '\\Junk', subscribed: true, weight: 5 },
  { path: 'Archive/2019', sealpostName: 'Archive/2019', specialUse: null, subscribed: true, weight: 10 },
  { path: 'Café & Co', sealpostName: 'Café & Co', specialUse: null, subscribed: false, weight: 8 },
  { path: 'Входящие архив', sealpostName: 'Входящие архив', specialUse: null, subscribed: true, weight: 8 },
  { path: 'Projekte/Überblick', sealpostName: 'Projekte/Überblick', specialUse: null, subscribed: true, weight: 8 },
  { path: 'Empty', sealpostName: 'Empty', specialUse: null, subscribed: true, weight: 0 },
];

/** The folder that gets the big message. */
export const BIG_MESSAGE_FOLDER = 'Archive/2019';

export interface MigrationFixture {
  dovecot: DovecotServer;
  user: string;
  password: string;
  /** plain IMAP to the account; with `tls`, `ca` is set and STARTTLS works on the same port */
  conn: ImapConn;
  /** Dovecot folder name -> messages appended (\Deleted ones included) */
  expected: Record<string, number>;
  /** Dovecot folder name -> the appended messages as readImapState() should report them */
  state: Map<string, StateMessage[]>;
  /** Dovecot folder name -> the Sealpost name */
  sealpostNames: Record<string, string>;
  /** the ~12 MB message, or null when not asked for */
  big: { folder: string; sha256: string; size: number } | null;
  /** appends one more message (for follow tests); returns it as the state reports it */
  append(folder: string, raw: Uint8Array, flags?: readonly string[], internalDate?: Date): Promise<StateMessage>;
  stop(): Promise<void>;
}

export interface MigrationFixtureOptions {
  /** STARTTLS with a self-signed certificate (plain login keeps working) */
  tls?: boolean;
  /** seeded small messages spread over the folders; default 300 */
  messages?: number;
  /** add the ~12 MB message; default true */
  big?: boolean;
  /** seed of the generator; default 20240601 */
  seed?: number;
}

const USER = 'migrant';
const PASSWORD = 'old-server-secret';
const APPEND_CONNECTIONS = 4;

interface Generated {
  folder: string;
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

/**
 * Starts Dovecot on 127.0.0.1 and fills the account (a few seconds).
 * @throws Error when Dovecot is missing or an APPEND fails
 */
export async function startMigrationFixture(options: MigrationFixtureOptions = {}): Promise<MigrationFixture> {
  const specialUse = Object.fromEntries(FIXTURE_FOLDERS.flatMap((f) => (f.attribute === undefined ? [] : [[f.path, f.attribute]])));
  const dovecot = await startDovecot({ users: [{ user: USER, password: PASSWORD }], tls: options.tls === true, specialUse, idleCheckSeconds: 1, noFsync: true });
  try {
    const conn: ImapConn = { host: dovecot.host, port: dovecot.port, user: USER, password: PASSWORD };
    if (dovecot.caFile !== undefined) conn.ca = fs.readFileSync(dovecot.caFile, 'utf8');
    const generated = generateMessages(options.messages ?? 300, options.seed ?? 20240601);
    let big: MigrationFixture['big'] = null;
    if (options.big !== false) {
      const message = bigMessage(options.seed ?? 20240601);
      generated.push(message);
      big = { folder: message.folder, sha256: sha256(message.raw), size: message.raw.byteLength };
    }

    // Create the folders (imapflow subscribes what it creates), then append in parallel, one connection per group of folders.
    await withClient(conn, async (client) => {
      for (const f of FIXTURE_FOLDERS) {
        if (f.path === 'INBOX') continue;
        await client.mailboxCreate(f.path);
        if (!f.subscribed) await client.mailboxUnsubscribe(f.path);
      }
    });
    // Whole folders per connection (so UID order follows generation order), the biggest first onto the least loaded.
    const byFolder = new Map<string, Generated[]>();
    for (const g of generated) {
      const list = byFolder.get(g.folder) ?? [];
      list.push(g);
      byFolder.set(g.folder, list);
    }
    const bytes = (list: readonly Generated[]): number => list.reduce((sum, g) => sum + g.raw.byteLength + 4096, 0);
    const groups: Generated[][] = Array.from({ length: APPEND_CONNECTIONS }, () => []);
    for (const list of [...byFolder.values()].sort((a, b) => bytes(b) - bytes(a))) {
      groups.reduce((least, group) => (bytes(group) < bytes(least) ? group : least)).push(...list);
    }
    await Promise.all(groups.map((group) => withClient(conn, async (client) => {
      for (const g of group) await client.append(g.folder, g.raw, g.flags, g.internalDate);
    })));

    const state = new Map<string, StateMessage[]>(FIXTURE_FOLDERS.map((f) => [f.path, []]));
    for (const g of generated) state.get(g.folder)!.push(stateOf(g.raw, g.flags, g.internalDate));
    for (const list of state.values()) list.sort(stateOrder);
    return {
      dovecot,
      user: USER,
      password: PASSWORD,
      conn,
      expected: Object.fromEntries([...state].map(([folder, list]) => [folder, list.length])),
      state,
      sealpostNames: Object.fromEntries(FIXTURE_FOLDERS.map((f) => [f.path, f.sealpostName])),
      big,
      async append(folder, raw, flags = [], internalDate = new Date(Math.floor(Date.now() / 1000) * 1000)) {
        await withClient(conn, (client) => client.append(folder, Buffer.from(raw), [...flags], internalDate));
        return stateOf(raw, [...flags], internalDate);
      },
      stop: () => dovecot.stop(),
    };
  } catch (error) {
    await dovecot.stop();
    throw error;
  }
}

/**
 * Every selectable folder of the account (\Noselect ones left out) with its
 * messages: flags, INTERNALDATE, SHA-256 and size, sorted by INTERNALDATE then
 * SHA-256. Folder names use "/" between levels whatever the server's delimiter.
 * Messages are hashed as they stream in, so a big account does not fill memory.
 */
export async function readImapState(conn: ImapConn): Promise<Map<string, StateMessage[]>> {
  return withClient(conn, async (client) => {
    const out = new Map<string, StateMessage[]>();
    const boxes = await client.list();
    for (const box of boxes) {
      if (box.flags.has('\\Noselect') || box.flags.has('\\NonExistent')) continue;
      const name = box.delimiter && box.delimiter !== '/' ? box.path.split(box.delimiter).join('/') : box.path;
      const list: StateMessage[] = [];
      const lock = await client.getMailboxLock(box.path, { readOnly: true });
      try {
        if (client.mailbox !== false && client.mailbox.exists > 0) {
          for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true, source: true })) {
            if (m.source === undefined) continue;
            const date = m.internalDate instanceof Date ? m.internalDate : new Date(String(m.internalDate));
            list.push(stateOf(m.source, [...(m.flags ?? [])], date));
          }
        }
      } finally {
        lock.release();
      }
      out.set(name, list.sort(stateOrder));
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

function stateOf(raw: Uint8Array, flags: readonly string[], internalDate: Date): StateMessage {
  return {
    flags: flags.filter((f) => f.toLowerCase() !== '\\recent').sort(),
    internalDate: internalDate.getTime(),
    sha256: sha256(raw),
    size: raw.byteLength,
  };
}

function stateOrder(a: StateMessage, b: StateMessage): number {
  return a.internalDate - b.internalDate || (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function withClient<T>(conn: ImapConn, run: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({
    host: conn.host,
    port: conn.port,
    secure: conn.secure === true,
    doSTARTTLS: conn.starttls === true,
    auth: { user: conn.user, pass: conn.password },
    ...(conn.ca === undefined ? {} : { tls: { ca: [conn.ca] } }),
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => undefined); // a failure surfaces from the command that hit it
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

// ---- deterministic messages -------------------------------------------------

/** A small seeded generator, so every run appends the same mail. */
const random = prng;

const WORDS = ['mail', 'server', 'migration', 'archive', 'meeting', 'invoice', 'report', 'project', 'draft', 'holiday', 'budget', 'review', 'Zürich', 'naïve', 'Grüße', 'привет', 'mañana', '東京'];
const FROM_2005 = Date.UTC(2005, 0, 1) / 1000;
const TO_2021 = Date.UTC(2021, 0, 1) / 1000;

function generateMessages(count: number, seed: number): Generated[] {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const total = FIXTURE_FOLDERS.reduce((sum, f) => sum + f.weight, 0);
  const out: Generated[] = [];
  for (let i = 0; i < count; i++) {
    let r = rnd() * total;
    const folder = FIXTURE_FOLDERS.find((f) => (r -= f.weight) < 0)?.path ?? 'INBOX';
    const internalDate = new Date(Math.floor(FROM_2005 + rnd() * (TO_2021 - FROM_2005)) * 1000);
    const flags: string[] = [];
    if (rnd() < 0.7) flags.push('\\Seen');
    if (rnd() < 0.2) flags.push('\\Answered');
    if (rnd() < 0.1) flags.push('\\Flagged');
    if (folder === 'Drafts' || rnd() < 0.03) flags.push('\\Draft');
    if (rnd() < 0.04) flags.push('\\Deleted');
    if (rnd() < 0.1) flags.push('$Forwarded');
    if (rnd() < 0.08) flags.push('$Label1');
    if (rnd() < 0.06) flags.push('Important');
    const shape = rnd();
    const words = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');
    const lines = (n: number): string => Array.from({ length: n }, () => words(6 + Math.floor(rnd() * 8))).join('\r\n');
    const head = [
      `From: Sender ${i % 17} <sender${i % 17}@old.example>`,
      `To: migrant@old.example`,
      `Subject: ${shape < 0.5 ? `Message ${i}: ${words(3).replace(/[^\x20-\x7e]/g, '?')}` : `=?UTF-8?B?${Buffer.from(`Nachricht ${i}: ${words(3)}`).toString('base64')}?=`}`,
      `Date: ${internalDate.toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <fixture-${seed}-${i}@old.example>`,
      'MIME-Version: 1.0',
    ];
    let body: string;
    if (shape < 0.25) {
      // multipart/mixed with a binary attachment of 1-64 KiB
      const attachment = Buffer.alloc(1024 + Math.floor(rnd() * 63 * 1024));
      for (let b = 0; b < attachment.length; b++) attachment[b] = Math.floor(rnd() * 256);
      const boundary = `=_fixture_${i}`;
      head.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
      body = [
        `--${boundary}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', lines(3 + Math.floor(rnd() * 20)),
        `--${boundary}`, `Content-Type: application/octet-stream; name="data-${i}.bin"`, 'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment; filename="data-${i}.bin"`, '', base64Lines(attachment), `--${boundary}--`, '',
      ].join('\r\n');
    } else {
      // text/plain of 200 B to ~30 KB, UTF-8 sent as 8 bits
      head.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
      body = lines(2 + Math.floor(rnd() * rnd() * 400)) + '\r\n';
    }
    out.push({ folder, raw: Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'utf8'), flags, internalDate });
  }
  return out;
}

/** A message with a ~9 MiB attachment (~12 MB in base64). */
function bigMessage(seed: number): Generated {
  const rnd = random(seed ^ 0x5eed);
  const words = new Uint32Array(9 * 1024 * 1024 / 4);
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(rnd() * 4294967296);
  const attachment = Buffer.from(words.buffer);
  const boundary = '=_fixture_big';
  const internalDate = new Date(Date.UTC(2019, 6, 14, 9, 30, 0));
  const raw = [
    'From: Photographer <photos@old.example>', 'To: migrant@old.example', 'Subject: The holiday pictures (big)',
    `Date: ${internalDate.toUTCString().replace('GMT', '+0000')}`, `Message-ID: <fixture-${seed}-big@old.example>`, 'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`, '',
    `--${boundary}`, 'Content-Type: text/plain; charset=us-ascii', '', 'All of them, in one archive.',
    `--${boundary}`, 'Content-Type: application/zip; name="pictures.zip"', 'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="pictures.zip"', '', base64Lines(attachment), `--${boundary}--`, '',
  ].join('\r\n');
  return { folder: BIG_MESSAGE_FOLDER, raw: Buffer.from(raw, 'ascii'), flags: ['\\Seen', '$Label1'], internalDate };
}

function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}
