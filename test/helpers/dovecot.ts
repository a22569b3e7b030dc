// Test helper: a private Dovecot 2.3 IMAP server on loopback, used as the
// reference peer for harness tests and as the baseline of the benchmark.
// Everything (config, sockets, state, logs, mail) lives in one temp dir; the
// system Dovecot, if any, is not touched. Mail can be put in place by writing
// Maildir files directly (maildir.ts), far faster than APPEND for 10,000 messages.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForGreeting } from './ports.ts';
import { writeMaildirMessages, type MaildirMessage } from './maildir.ts';

/** Dovecot's mail processes run as nobody: it refuses uid 0 for users. */
const MAIL_UID = 65534;
const MAIL_GID = 65534;
const DOVECOT_BIN = '/usr/sbin/dovecot';

export interface DovecotUser {
  user: string;
  password: string;
}

export interface DovecotServer {
  host: '127.0.0.1';
  port: number;
  /** the temp dir holding config, logs and mail */
  dir: string;
  /** the self-signed certificate (PEM) when started with tls: true */
  caFile?: string;
  /** the Maildir root of a user (INBOX; folders are ".Name" under it) */
  maildir(user: string): string;
  /** writes messages straight into a user's folder (default INBOX); the server picks them up */
  populate(user: string, messages: readonly MaildirMessage[], mailbox?: string): void;
  /** the tail of Dovecot's log, for failure messages */
  log(): string;
  stop(): Promise<void>;
}

export interface StartDovecotOptions {
  users: readonly DovecotUser[];
  /** offer STARTTLS with a fresh self-signed certificate for localhost/127.0.0.1 (see `caFile`) */
  tls?: boolean;
  /** messages to put in each user's INBOX before the server starts */
  maildirs?: Readonly<Record<string, readonly MaildirMessage[]>>;
  /** RFC 6154 special-use attributes LIST reports, by mailbox name ({ Sent: '\\Sent' });
   *  the mailboxes are not created (a client creates them). Default none. */
  specialUse?: Readonly<Record<string, string>>;
  /** how often (seconds) Dovecot checks an IDLEing mailbox when inotify does not wake it
   *  (mailbox_idle_check_interval); Dovecot's default, 30, when absent */
  idleCheckSeconds?: number;
  /** mail_fsync = never: APPEND-heavy fixtures run several times faster; a test server needs no durability */
  noFsync?: boolean;
}

/** True when Debian's dovecot-imapd is installed. Tests must fail, not skip, without it. */
export function dovecotAvailable(): boolean {
  return fs.existsSync(DOVECOT_BIN) && fs.existsSync('/usr/lib/dovecot/imap');
}

// Servers still running when the process exits (a crashed test) are killed and their dirs removed.
const running = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dir] of running) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Starts Dovecot with a private config on a free loopback port.
 * @throws Error when Dovecot is not installed or does not answer `* OK`
 */
export async function startDovecot(options: StartDovecotOptions): Promise<DovecotServer> {
  if (!dovecotAvailable()) {
    throw new Error(`Dovecot is not installed (${DOVECOT_BIN}); run: apt-get install -y dovecot-imapd`);
  }
  for (const { user, password } of options.users) {
    if (!/^[A-Za-z0-9._@+-]+$/.test(user)) throw new Error(`users[].user: unsupported characters in ${JSON.stringify(user)}`);
    if (/[:\r\n]/.test(password)) throw new Error('users[].password: must not contain ":" or line breaks');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-dovecot-'));
  // mkdtemp makes 0700; the mail processes (uid 65534) must traverse it.
  fs.chmodSync(dir, 0o755);
  const homeOf = (user: string): string => path.join(dir, 'home', user);
  const maildirOf = (user: string): string => path.join(homeOf(user), 'Maildir');

  fs.writeFileSync(
    path.join(dir, 'users'),
    options.users.map(({ user, password }) => `${user}:{PLAIN}${password}::::::\n`).join(''),
    // Dovecot's auth process runs as user "dovecot"; these are throwaway test passwords.
    { mode: 0o644 },
  );
  for (const { user } of options.users) {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildirOf(user), sub), { recursive: true });
    const messages = options.maildirs?.[user];
    if (messages !== undefined) writeMaildirMessages(maildirOf(user), messages);
  }
  chownMail(path.join(dir, 'home'));
  const caFile = options.tls === true ? makeCertificate(dir) : undefined;

  let lastError: unknown;
  // A free port can be taken between the probe and Dovecot's bind: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configFile = path.join(dir, 'dovecot.conf');
    fs.writeFileSync(configFile, dovecotConfig(dir, port, caFile !== undefined, options));
    fs.rmSync(path.join(dir, 'dovecot.log'), { force: true });
    const child = spawn(DOVECOT_BIN, ['-F', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    running.set(child, dir);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      running.delete(child);
    });
    try {
      const greeting = await waitForGreeting(port, { timeoutMs: 10_000, isDead: () => exited });
      if (!greeting.startsWith('* OK')) throw new Error(`unexpected greeting: ${greeting}`);
    } catch (error) {
      lastError = new Error(`Dovecot did not start: ${stderr}\n${readLog(dir)}`, { cause: error });
      await stopChild(child);
      continue;
    }
    return {
      host: '127.0.0.1',
      port,
      dir,
      ...(caFile !== undefined ? { caFile } : {}),
      maildir: maildirOf,
      populate(user, messages, mailbox = 'INBOX') {
        const root = mailbox === 'INBOX' ? maildirOf(user) : path.join(maildirOf(user), `.${mailbox.replaceAll('/', '.')}`);
        writeMaildirMessages(root, messages);
        chownMail(maildirOf(user));
      },
      log: () => readLog(dir),
      async stop() {
        await stopChild(child);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function dovecotConfig(dir: string, port: number, withTls: boolean, options: StartDovecotOptions): string {
  // ssl = yes (not required) keeps plaintext LOGIN allowed, so both security modes can be tested.
  const ssl = withTls
    ? `ssl = yes\nssl_cert = <${dir}/cert.pem\nssl_key = <${dir}/key.pem\nssl_dh = </usr/share/dovecot/dh.pem\n`
    : 'ssl = no\n';
  const specialUse = Object.entries(options.specialUse ?? {})
    .map(([name, use]) => {
      if (/["\\\r\n{}]/.test(name) || !/^\\[A-Za-z]+$/.test(use)) throw new Error(`specialUse: unsupported entry ${JSON.stringify(name)}: ${use}`);
      return `  mailbox "${name}" {\n    special_use = ${use}\n  }\n`;
    })
    .join('');
  const idleCheck = (options.idleCheckSeconds === undefined ? '' : `mailbox_idle_check_interval = ${Math.max(1, Math.round(options.idleCheckSeconds))} secs\n`) +
    (options.noFsync === true ? 'mail_fsync = never\n' : '');
  return `# private test config written by test/helpers/dovecot.ts
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
${ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
# tests try wrong passwords on purpose: do not make them wait
auth_failure_delay = 0
mail_location = maildir:~/Maildir
${idleCheck}first_valid_uid = ${MAIL_UID}
first_valid_gid = ${MAIL_GID}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/users
  default_fields = uid=${MAIL_UID} gid=${MAIL_GID} home=${dir}/home/%u
}
# "/" like Sealpost (MAILBOX_DELIMITER), so folder names read the same on both.
namespace inbox {
  inbox = yes
  separator = /
${specialUse}}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
# no auth penalty for the loopback IP after a failed login (Dovecot's documented switch)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
`;
}

/** A self-signed EC certificate for localhost and 127.0.0.1; returns the certificate's path (it is its own CA). */
function makeCertificate(dir: string): string {
  const cert = path.join(dir, 'cert.pem');
  const result = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
  return cert;
}

function chownMail(root: string): void {
  const result = spawnSync('chown', ['-R', `${MAIL_UID}:${MAIL_GID}`, root]);
  if (result.status !== 0) throw new Error(`chown failed: ${result.stderr.toString()}`);
}

function readLog(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'dovecot.log'), 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
