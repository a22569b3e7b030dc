// Benchmark part "submit": SMTP submission throughput of 20 KB messages over
// 4 parallel connections, Sealpost end to end (sign+encrypt, Helia put, ledger
// append, delivery queue, then 250) against a bare smtp-server that accepts
// and discards, same machine, same run, same client. Both servers run as
// child processes (the client must not share their event loop); they run one
// after the other, never at the same time. Prints messages/s, the ratio
// Sealpost/sink (target at least 0.5), p50/p99 latency from sendMail to 250,
// server CPU per message and the gateway's peak RSS. The gateway starts on a
// fresh data directory, as after `sealpost init`.
//
// `node bench/submit.ts sink CERT_DIR` is the sink child (used by this file);
// `node bench/submit.ts profile FILE.cpuprofile` summarises a CPU profile of
// the gateway taken with `node bench/run.ts --only submit --cpu-prof`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { SMTPServer } from 'smtp-server';
import { makeTempDir, memoryOf, removeTempDir, spawnReady, startGatewayChild, stopChild } from './servers.ts';

export interface SubmitOptions {
  /** timed messages per server */
  messages: number;
  /** untimed messages per server first (opens the connections, warms the JIT and caches) */
  warmup: number;
  /** parallel SMTP connections, one message in flight on each */
  connections: number;
  /** size of each message, octets */
  size: number;
  /** STARTTLS on both servers (else plain TCP; both allow AUTH in plain on loopback) */
  starttls: boolean;
  /** run bench/gateway-child.ts instead of the compiled CLI */
  gatewayChild: boolean;
  /** Node flags added to the gateway's (e.g. --cpu-prof) */
  gatewayFlags: readonly string[];
  /** directory for logs */
  out: string;
  log: (line: string) => void;
}

export interface ServerFigures {
  name: 'Sink' | 'Sealpost';
  messagesPerSecond: number;
  p50: number;
  p99: number;
  /** user+system CPU of the server process over the timed run, per message, ms */
  cpuMsPerMessage: number;
  /** the client's own CPU over the timed run, per message, ms */
  clientCpuMsPerMessage: number;
}

export interface SubmitResult {
  /** octets per message */
  size: number;
  connections: number;
  sink: ServerFigures;
  sealpost: ServerFigures;
  ratio: number;
  /** gateway VmRSS before the timed run and VmHWM after it, MB */
  gatewayMemory: { idleMb: number; peakMb: number } | null;
  /** what the gateway's data directory holds afterwards (checked against what was sent) */
  check: { ledgerRecords: number; deliveries: number; blockFiles: number; pins: number };
  setting: string;
}

const ALICE = { user: 'alice@example.test', pass: 'alice-bench-password' };
const BOB = { user: 'bob@example.test', pass: 'bob-bench-password' };
const SINK_SCRIPT = fileURLToPath(import.meta.url);
const TARGET_RATIO = 0.5;

// --- the message ---------------------------------------------------------

const ID_DIGITS = 10;
const ID_PLACEHOLDER = '0'.repeat(ID_DIGITS);

/** A message template of exactly `size` octets and where its Message-ID counter sits. */
export interface MessageTemplate {
  bytes: Buffer;
  /** offset of the ID_DIGITS-digit counter inside the Message-ID */
  idOffset: number;
}

const WORDS = (
  'the quarterly figures attached show that shipping costs rose again while the warehouse in Lyon cleared most of its ' +
  'backlog before the holidays please review the numbers and let me know whether we should move the supplier meeting ' +
  'to Thursday afternoon or keep it on Monday morning as planned our customers asked about delivery times for the new ' +
  'model and the support team would like a short statement they can send out regards from the office'
).split(' ');

/** Deterministic English-looking paragraphs (a linear congruential generator, seeded). */
function prose(length: number, seed: number): string {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  let out = 'Hello Bob,\r\n\r\n';
  let line = '';
  let sentence = 0;
  while (out.length + line.length < length) {
    let word = WORDS[next() % WORDS.length] ?? 'mail';
    if (sentence === 0) word = word[0]?.toUpperCase() + word.slice(1);
    sentence++;
    const end = sentence > 8 && next() % 5 === 0;
    if (end) sentence = 0;
    const piece = `${word}${end ? '.' : ''}`;
    if (line.length + piece.length + 1 > 72) {
      out += `${line}\r\n`;
      line = '';
      if (end && next() % 4 === 0) out += '\r\n';
    }
    line += line === '' ? piece : ` ${piece}`;
  }
  return `${out}${line}\r\n\r\nAlice\r\n`;
}

/**
 * Builds one realistic message of `size` octets with nodemailer's MailComposer
 * (text/plain + a small PDF attachment, multipart/mixed), alice -> bob, once;
 * each send copies it and writes its own counter into the Message-ID.
 * @throws Error when `size` is too small for the headers and the attachment
 */
export async function composeTemplate(size: number): Promise<MessageTemplate> {
  const attachment = Buffer.alloc(3 * 1024);
  let state = 7;
  for (let i = 0; i < attachment.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    attachment[i] = state >>> 24;
  }
  attachment.write('%PDF-1.4\n', 0, 'latin1');
  const build = (textLength: number): Promise<Buffer> =>
    new MailComposer({
      from: `Alice Example <${ALICE.user}>`,
      to: `Bob Example <${BOB.user}>`,
      subject: 'Quarterly figures and the supplier meeting',
      messageId: `<bench.${ID_PLACEHOLDER}@client.example.test>`,
      date: new Date('2026-11-25T09:30:00Z'),
      text: prose(textLength, 42),
      attachments: [{ filename: 'scan-2026-11.pdf', content: attachment, contentType: 'application/pdf' }],
    }).compile().build();
  // The text is 7bit/QP ASCII: one more character of text is about one more octet.
  let textLength = size;
  let bytes = await build(textLength);
  for (let i = 0; i < 8 && bytes.length !== size; i++) {
    textLength += size - bytes.length;
    if (textLength < 100) throw new Error(`--size: ${size} octets is too small for a message with an attachment`);
    bytes = await build(textLength);
  }
  if (Math.abs(bytes.length - size) > 64) throw new Error(`--size: could not compose a message of ${size} octets (got ${bytes.length})`);
  const idOffset = bytes.indexOf(`bench.${ID_PLACEHOLDER}@`) + 'bench.'.length;
  if (idOffset < 'bench.'.length) throw new Error('the composed message has no Message-ID placeholder');
  return { bytes, idOffset };
}

function messageBytes(template: MessageTemplate, counter: number): Buffer {
  const copy = Buffer.from(template.bytes);
  copy.write(String(counter).padStart(ID_DIGITS, '0'), template.idOffset, 'latin1');
  return copy;
}

// --- the sink ------------------------------------------------------------

/** The baseline: smtp-server accepting any AUTH, reading DATA to the end and discarding it. */
async function runSink(certDir: string): Promise<void> {
  const server = new SMTPServer({
    secure: false,
    key: fs.readFileSync(path.join(certDir, 'key.pem')),
    cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
    name: 'localhost',
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    size: 25 * 1024 * 1024,
    disableReverseLookup: true, // as the gateway: no DNS
    logger: false,
    onAuth(auth, _session, cb) {
      cb(null, { user: auth.username });
    },
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.once('end', () => cb(null, '2.0.0 Ok: discarded'));
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  process.stdout.write(`${JSON.stringify({ sinkReady: true, port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
  const stop = (): void => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.main && process.argv[2] === 'sink') {
  const certDir = process.argv[3];
  if (certDir === undefined) {
    process.stderr.write('usage: node bench/submit.ts sink CERT_DIR\n');
    process.exit(2);
  }
  await runSink(certDir);
}

// --- the client ----------------------------------------------------------

/** user+system CPU time of a process so far, ms (Linux /proc, in USER_HZ = 100 ticks a second). */
function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the ")" that closes the command name: state is field 3, utime 14, stime 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Drive {
  wallMs: number;
  latencies: number[];
  serverCpuMs: number;
  clientCpuMs: number;
}

/**
 * Sends `warmup` then `messages` messages over `connections` pooled
 * connections (one transport with one connection each, one message in flight
 * on each), and times the second part.
 * @throws Error when a message is not answered with 250
 */
async function drive(port: number, pid: number, template: MessageTemplate, options: SubmitOptions, afterWarmup?: () => void): Promise<Drive> {
  const counter = { next: 1 };
  const transports = Array.from({ length: options.connections }, () =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: !options.starttls,
      requireTLS: options.starttls,
      tls: { rejectUnauthorized: false }, // both use the gateway's self-signed certificate
      auth: { user: ALICE.user, pass: ALICE.pass },
      pool: true,
      maxConnections: 1,
      maxMessages: Infinity,
    }),
  );
  const envelope = { from: ALICE.user, to: [BOB.user] };
  const run = async (count: number, latencies: number[] | null): Promise<void> => {
    let left = count;
    await Promise.all(
      transports.map(async (transport) => {
        while (left > 0) {
          left--;
          const raw = messageBytes(template, counter.next++);
          const started = performance.now();
          const info = await transport.sendMail({ envelope, raw });
          const ms = performance.now() - started;
          if (!info.response.startsWith('250') || !info.accepted.includes(BOB.user)) throw new Error(`not accepted: ${info.response}`);
          latencies?.push(ms);
        }
      }),
    );
  };
  try {
    await run(options.warmup, null);
    afterWarmup?.();
    const latencies: number[] = [];
    const serverCpu = cpuMsOf(pid);
    const clientCpu = process.cpuUsage();
    const started = performance.now();
    await run(options.messages, latencies);
    const wallMs = performance.now() - started;
    const client = process.cpuUsage(clientCpu);
    return { wallMs, latencies, serverCpuMs: cpuMsOf(pid) - serverCpu, clientCpuMs: (client.user + client.system) / 1000 };
  } finally {
    for (const transport of transports) transport.close();
  }
}

function figures(name: ServerFigures['name'], d: Drive, messages: number): ServerFigures {
  const sorted = [...d.latencies].sort((a, b) => a - b);
  return {
    name,
    messagesPerSecond: messages / (d.wallMs / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    cpuMsPerMessage: d.serverCpuMs / messages,
    clientCpuMsPerMessage: d.clientCpuMs / messages,
  };
}

/** Counts what the gateway left in its data directory (read after it stopped). */
function inspect(dataDir: string): SubmitResult['check'] {
  const count = (file: string, table: string): number => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    } finally {
      db.close();
    }
  };
  const files = (dir: string): number => {
    let n = 0;
    if (!fs.existsSync(dir)) return 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) n += files(path.join(dir, entry.name));
      else if (entry.name.endsWith('.data')) n++;
    }
    return n;
  };
  return {
    ledgerRecords: count(path.join(dataDir, 'ledger.db'), 'records'),
    deliveries: count(path.join(dataDir, 'sealpost.db'), 'deliveries'),
    blockFiles: files(path.join(dataDir, 'ipfs', 'blocks')),
    pins: count(path.join(dataDir, 'ipfs', 'pins.db'), 'pins'),
  };
}

/**
 * Runs the submission benchmark: sink first, then Sealpost, each alone on the machine.
 * @throws Error when a server does not start or refuses a message
 */
export async function runSubmit(options: SubmitOptions): Promise<SubmitResult> {
  const { log } = options;
  const template = await composeTemplate(options.size);
  const dataDir = makeTempDir('sealpost-submit-');
  try {
    log(`Preparing a Sealpost data directory with ${ALICE.user} and ${BOB.user} (OpenPGP keys)...`);
    const { initDataDir, openNode } = await import('../src/app.ts');
    const { silentLogger } = await import('../src/log.ts');
    const { paths } = await initDataDir(dataDir);
    const node = await openNode({ dataDir, logger: silentLogger() });
    try {
      for (const who of [ALICE, BOB]) await node.accounts.createAccount({ address: who.user, password: who.pass });
    } finally {
      await node.close();
    }

    // The sink gets the gateway's certificate, so that --starttls costs both the same.
    log(`Sink: ${options.warmup} warm-up + ${options.messages} timed messages of ${template.bytes.length} octets over ${options.connections} connections...`);
    const sinkChild = await spawnReady([SINK_SCRIPT, 'sink', paths.tlsDir], {
      log: path.join(options.out, 'sink.log'),
      what: 'the sink',
      ready: (out) => {
        const line = out.split('\n').slice(0, -1).find((l) => l.includes('"sinkReady"'));
        return line === undefined ? null : (JSON.parse(line) as { port: number }).port;
      },
    });
    let sinkDrive: Drive;
    try {
      const pid = sinkChild.child.pid;
      if (pid === undefined) throw new Error('sink child has no pid');
      sinkDrive = await drive(sinkChild.value, pid, template, options);
    } finally {
      await stopChild(sinkChild.child);
    }
    const sink = figures('Sink', sinkDrive, options.messages);
    log(`  ${sink.messagesPerSecond.toFixed(0)} messages/s, p50 ${sink.p50.toFixed(1)} ms, p99 ${sink.p99.toFixed(1)} ms`);

    log(`Sealpost: the same, alice -> bob (a local account)...`);
    const gatewayLog = path.join(options.out, 'submit-gateway.log');
    const gateway = await startGatewayChild(dataDir, { gatewayChild: options.gatewayChild, log: gatewayLog, nodeFlags: options.gatewayFlags });
    let sealpostDrive: Drive;
    let gatewayMemory: SubmitResult['gatewayMemory'] = null;
    try {
      const warm: { memory: ReturnType<typeof memoryOf> } = { memory: null };
      sealpostDrive = await drive(gateway.ports.smtp, gateway.pid, template, options, () => (warm.memory = memoryOf(gateway.pid)));
      const after = memoryOf(gateway.pid);
      if (warm.memory !== null && after !== null) gatewayMemory = { idleMb: warm.memory.rssMb, peakMb: after.peakMb };
    } finally {
      await gateway.stop();
    }
    const sealpost = figures('Sealpost', sealpostDrive, options.messages);
    log(`  ${sealpost.messagesPerSecond.toFixed(0)} messages/s, p50 ${sealpost.p50.toFixed(1)} ms, p99 ${sealpost.p99.toFixed(1)} ms`);

    const check = inspect(dataDir);
    const sent = options.warmup + options.messages;
    if (check.ledgerRecords !== sent || check.deliveries !== sent) {
      log(`  ! the gateway accepted ${sent} messages but holds ${check.ledgerRecords} ledger records and ${check.deliveries} queued deliveries`);
    }
    const setting =
      `${options.messages} messages of ${template.bytes.length} octets (text/plain + a 3 KB PDF, MailComposer) after ${options.warmup} warm-up, ` +
      `${options.connections} connections with one message in flight each (nodemailer pool), ${options.starttls ? 'STARTTLS' : 'plain TCP'} + AUTH PLAIN on loopback, ` +
      `alice -> bob (local account, fresh data directory, default config: local ledger); sink and gateway run one after the other in child processes; ` +
      `Node ${process.versions.node}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) shared with the client`;
    return { size: template.bytes.length, connections: options.connections, sink, sealpost, ratio: sealpost.messagesPerSecond / sink.messagesPerSecond, gatewayMemory, check, setting };
  } finally {
    removeTempDir(dataDir);
  }
}

/** The table as lines: [header, ...rows]. */
export function submitTable(result: SubmitResult): string[][] {
  const { sink, sealpost } = result;
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  return [
    [`Submission (${Math.round(result.size / 1024)} KB messages, ${result.connections} connections)`, 'Sink', 'Sealpost', 'Sealpost/Sink'],
    ['messages/s', sink.messagesPerSecond.toFixed(0), sealpost.messagesPerSecond.toFixed(0), `${result.ratio.toFixed(2)} (target >= ${TARGET_RATIO})`],
    ['p50 latency, sendMail to 250 (ms)', sink.p50.toFixed(1), sealpost.p50.toFixed(1), ratio(sealpost.p50, sink.p50)],
    ['p99 latency, sendMail to 250 (ms)', sink.p99.toFixed(1), sealpost.p99.toFixed(1), ratio(sealpost.p99, sink.p99)],
    ['server CPU per message (ms)', sink.cpuMsPerMessage.toFixed(2), sealpost.cpuMsPerMessage.toFixed(2), ratio(sealpost.cpuMsPerMessage, sink.cpuMsPerMessage)],
    ['client CPU per message (ms)', sink.clientCpuMsPerMessage.toFixed(2), sealpost.clientCpuMsPerMessage.toFixed(2), ''],
  ];
}

export function submitMemoryLine(result: SubmitResult): string {
  const m = result.gatewayMemory;
  const memory = m === null ? 'Gateway RSS: not measured' : `Gateway peak RSS during submission (VmHWM): ${m.peakMb.toFixed(0)} MB (RSS after warm-up ${m.idleMb.toFixed(0)} MB)`;
  const c = result.check;
  return `${memory}; afterwards the data directory held ${c.ledgerRecords} ledger records, ${c.deliveries} queued deliveries, ${c.blockFiles} block files and ${c.pins} pins`;
}

export { TARGET_RATIO as SUBMIT_TARGET_RATIO };

/** Sizes for `--size`, accepting "20K" / "20KB" / octets. */
export function parseSize(value: string): number {
  const m = /^(\d+)\s*(k|kb|kib)?$/i.exec(value.trim());
  if (m === null || m[1] === undefined) throw new Error(`--size: expected octets or NK, got ${value}`);
  return Number(m[1]) * (m[2] === undefined ? 1 : 1024);
}

// --- profile summary -----------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Where a sample's code lives, in words a reader of the gateway knows. */
function category(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist !== null && !url.includes('node_modules')) return `sealpost ${dist[1]}/`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) {
    const name = pkg[1] ?? '';
    if (name === 'openpgp' || name.startsWith('@noble/')) return 'openpgp (+noble)';
    if (/^(helia|@helia\/|ipfs-|blockstore-|datastore-|interface-|multiformats|@ipld\/|it-|uint8arrays|progress-events|@libp2p\/|libp2p|p-queue|race-signal|steno)/.test(name)) return 'helia / ipfs libraries';
    if (/^(pino|sonic-boom|thread-stream|fast-redact|quick-format|safe-stable-stringify)/.test(name)) return 'pino (logging)';
    if (name === 'smtp-server' || name === 'nodemailer' || name === 'ipv6-normalize' || name === 'punycode.js') return 'smtp-server';
    return `npm ${name}`;
  }
  const internal = /^node:(?:internal\/)?([a-z_]+)/.exec(url);
  if (internal !== null) return `node ${internal[1]}`;
  return url;
}

/** The pipeline step a stack belongs to: the first marker found from the leaf up. */
function step(frames: ReadonlyArray<{ url: string; functionName: string }>): string {
  for (const { url, functionName } of frames) {
    if (url.includes('/openpgp/') || url.includes('/@noble/') || url.includes('/dist/crypto/')) return 'sign + encrypt (openpgp, WebCrypto)';
    if (url.includes('/dist/storage/') || /node_modules\/(helia|@helia|ipfs-|blockstore-|datastore-|interface-|multiformats|@ipld|it-|progress-events)/.test(url)) return 'storage put (Helia, durable files)';
    if (url.includes('/dist/ledger/')) return 'ledger append (SQLite)';
    if (url.includes('/dist/mailstore/') || url.includes('/dist/accounts/')) return 'mail store (lookups, delivery queue)';
    if (/node_modules\/(pino|sonic-boom|thread-stream)/.test(url)) return 'logging (pino)';
    if (url.includes('/smtp-server/') || url.includes('/dist/smtp/')) return 'SMTP protocol (smtp-server, Received:)';
    if (url.includes('/dist/pipeline/') || url.includes('/dist/mime/')) return 'pipeline glue (headers, CRLF, hashing)';
    if (functionName === '(garbage collector)') return 'garbage collector';
  }
  const leaf = frames[0];
  if (leaf !== undefined && leaf.url === '' && !leaf.functionName.startsWith('(')) return `native call, no JS caller on the stack (${leaf.functionName})`;
  return 'runtime (event loop, promise and I/O callbacks)';
}

/**
 * Summarises a V8 .cpuprofile (from --cpu-prof): main-thread time by where
 * the code lives, and by pipeline step (the nearest step marker on the
 * sampled stack; async continuations lose their caller, so native fs calls
 * made from callbacks land in "native call"; they are almost all storage).
 * @throws Error when the file is not a CPU profile
 */
export function summarizeProfile(file: string, top = 16): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples)) throw new Error(`${file} is not a V8 CPU profile`);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const steps = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (node === undefined) return;
    const { url, functionName } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      return;
    }
    total += us;
    const cat = category(url, functionName);
    self.set(cat, (self.get(cat) ?? 0) + us);
    const frames: Array<{ url: string; functionName: string }> = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame !== undefined) frames.push(frame);
    }
    const name = step(frames);
    steps.set(name, (steps.get(name) ?? 0) + us);
  });
  const wall = profile.endTime - profile.startTime;
  const rows = (map: Map<string, number>): string[] =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
  return [
    `${path.basename(file)}: ${(wall / 1e6).toFixed(1)} s profiled, main thread busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`,
    'Main-thread time by pipeline step (nearest marker on the stack):',
    ...rows(steps),
    'Self time by where the code lives:',
    ...rows(self),
  ].join('\n');
}

if (import.meta.main && process.argv[2] === 'profile') {
  const files = process.argv.slice(3);
  if (files.length === 0) {
    process.stderr.write('usage: node bench/submit.ts profile FILE.cpuprofile...\n');
    process.exit(2);
  }
  for (const file of files) console.log(summarizeProfile(file));
}
