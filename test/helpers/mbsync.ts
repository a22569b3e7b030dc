// Test helper: drive isync's mbsync (Debian's isync 1.4) against an IMAP
// server on loopback: write an mbsyncrc with the server as the far store and a
// local Maildir as the near store, run a sync, read the Maildir back.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** An IMAP account to sync: Dovecot now, Sealpost by swapping this object. */
export interface ImapPeer {
  host: string;
  port: number;
  user: string;
  pass: string;
  /** 'starttls' needs caFile: the server's (self-signed) certificate */
  tls: 'none' | 'starttls';
  caFile?: string;
}

export interface MbsyncSetup {
  dir: string;
  rcFile: string;
  /** the near Maildir root; INBOX is nearDir/INBOX, folder "A/B" is nearDir/A/B */
  nearDir: string;
  channel: string;
  remove(): void;
}

export interface NearMessage {
  file: string;
  /** Maildir info flags after ":2," (D F R S T), sorted */
  flags: string;
  raw: Buffer;
}

export const MBSYNC_BIN = '/usr/bin/mbsync';

/** mbsyncrc strings: quoted, with backslash escapes (mbsync(1) "CONFIGURATION"). */
function rcString(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error('mbsyncrc value must not contain line breaks');
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Writes an mbsyncrc for `peer` into a new temp dir. Channel "sync" syncs every folder both ways. */
export function writeMbsyncConfig(peer: ImapPeer): MbsyncSetup {
  if (peer.tls === 'starttls' && peer.caFile === undefined) throw new Error('peer.caFile: required for starttls');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-mbsync-'));
  const nearDir = path.join(dir, 'near');
  fs.mkdirSync(nearDir);
  const security = peer.tls === 'none'
    ? ['SSLType None']
    : ['SSLType STARTTLS', 'SystemCertificates no', `CertificateFile ${rcString(peer.caFile ?? '')}`];
  // isync 1.4 matches the certificate against DNS names only, never an IP SAN:
  // over TLS, name the loopback server "localhost" as a user would.
  const host = peer.tls === 'starttls' && peer.host === '127.0.0.1' ? 'localhost' : peer.host;
  const rc = [
    'IMAPAccount far',
    `Host ${host}`,
    `Port ${peer.port}`,
    `User ${rcString(peer.user)}`,
    `Pass ${rcString(peer.pass)}`,
    ...security,
    'AuthMechs LOGIN PLAIN',
    '',
    'IMAPStore far-store',
    'Account far',
    '',
    'MaildirStore near-store',
    `Path ${rcString(`${nearDir}/`)}`,
    `Inbox ${rcString(path.join(nearDir, 'INBOX'))}`,
    'SubFolders Verbatim',
    '',
    'Channel sync',
    'Far :far-store:',
    'Near :near-store:',
    'Patterns *',
    'Create Both',
    'Remove Both',
    'Expunge Both',
    'CopyArrivalDate yes',
    'SyncState *',
    '',
  ].join('\n');
  const rcFile = path.join(dir, 'mbsyncrc');
  fs.writeFileSync(rcFile, rc, { mode: 0o600 });
  return { dir, rcFile, nearDir, channel: 'sync', remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `mbsync -c RC CHANNEL`.
 * @throws Error with mbsync's output when it exits non-zero
 */
export function runMbsync(setup: MbsyncSetup, channel = setup.channel): Promise<{ stdout: string; stderr: string }> {
  if (!fs.existsSync(MBSYNC_BIN)) throw new Error(`mbsync is not installed (${MBSYNC_BIN}); run: apt-get install -y isync`);
  return new Promise((resolve, reject) => {
    execFile(MBSYNC_BIN, ['-c', setup.rcFile, channel], { timeout: 60_000, env: { ...process.env, HOME: setup.dir } }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`mbsync failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The near Maildir path of a folder ("INBOX" or "A/B"). */
export function nearFolder(setup: MbsyncSetup, folder: string): string {
  return path.join(setup.nearDir, ...folder.split('/'));
}

/** Messages in a near folder (new/ and cur/), ordered by file name. */
export function nearMessages(setup: MbsyncSetup, folder: string): NearMessage[] {
  const root = nearFolder(setup, folder);
  const messages: NearMessage[] = [];
  for (const sub of ['new', 'cur']) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(root, sub));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const file = path.join(root, sub, name);
      const info = name.indexOf(':2,');
      messages.push({ file, flags: info < 0 ? '' : name.slice(info + 3), raw: fs.readFileSync(file) });
    }
  }
  return messages;
}

/** Drops a new message into a near folder the way a mail reader would (tmp/ then new/). */
export function addNearMessage(setup: MbsyncSetup, folder: string, raw: Uint8Array, unique: string): string {
  const root = nearFolder(setup, folder);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(root, sub), { recursive: true });
  const name = `${Math.floor(Date.now() / 1000)}.${unique}.sealpost-test`;
  fs.writeFileSync(path.join(root, 'tmp', name), raw);
  fs.renameSync(path.join(root, 'tmp', name), path.join(root, 'new', name));
  return path.join(root, 'new', name);
}

/** Replaces a near message's Maildir flags (moving it to cur/, as mail readers do). */
export function setNearFlags(message: NearMessage, flags: string): string {
  const dir = path.dirname(path.dirname(message.file));
  const base = path.basename(message.file).replace(/:2,.*$/, '');
  const target = path.join(dir, 'cur', `${base}:2,${[...flags].sort().join('')}`);
  fs.renameSync(message.file, target);
  return target;
}
