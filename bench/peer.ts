// Benchmark part "peer": mail between Sealpost nodes (issue 4), five gateways
// on one machine sharing one local registry file (network.enabled, scan every
// 200 ms, custody n=3 t=2: the sender's node cannot hold a share of its own
// message, so four candidates for three shares). Measured side by side in one
// run, from the client's side, the way a user sees it: SMTP submission
// (nodemailer) to IMAP EXISTS pushed during IDLE (RFC 2177, imapflow) —
//   local     carol@b.test -> bob@b.test, both on node B (the baseline: the
//             same gateway, the same watching client, no network);
//   plain     alice@a.test (node A) -> bob@b.test (node B): announcement,
//             bitswap fetch of the ciphertext, proof from A, delivery;
//   expiring  the same with "Expires: 1h" (RFC 4021 §2.1.54): shares deposited
//             with custodians before the 250, collected by B before delivery.
// Latency: one message in flight, p50/p95 of sendMail start -> EXISTS, the
// three kinds interleaved so that a change in machine load hits all three;
// the sendMail -> 250 part is reported too. Throughput: a burst of M messages
// over 4 connections, timed until the recipient's EXISTS count shows all M.
// Scan: bench/scan.ts's stealth-announcement scan on one core (node:crypto
// X25519 against the @noble/curves baseline), run before any gateway starts.
// The gateways are the compiled CLI (`sealpost start`, dist/) in child
// processes, as bench/servers.ts starts them.
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { measureScan, scanRate, type ScanResult } from './scan.ts';
import { makeTempDir, removeTempDir, startGatewayChild, type GatewayChild } from './servers.ts';

export interface PeerOptions {
  /** timed messages per kind for the latency figures */
  messages: number;
  /** untimed messages per kind first (keys fetched, connections opened, JIT warm) */
  warmup: number;
  /** burst of plain (and local) messages for messages/s */
  burst: number;
  /** burst of expiring messages for messages/s */
  burstExpiring: number;
  /** SMTP connections of a burst */
  connections: number;
  /** announcements in the scan measurement (1% ours) */
  scanAnnouncements: number;
  /** STARTTLS for SMTP and IMAP (else plain TCP, allowed on loopback) */
  starttls: boolean;
  /** gives up on a message that has not arrived after this long (ms) */
  deliveryTimeoutMs: number;
  /** directory for the gateways' logs */
  out: string;
  log: (line: string) => void;
}

export type Kind = 'local' | 'plain' | 'expiring';
export const KINDS: readonly Kind[] = ['local', 'plain', 'expiring'];

export interface KindFigures {
  /** sendMail start -> EXISTS, ms */
  p50: number;
  p95: number;
  /** sendMail start -> 250, ms */
  submitP50: number;
  /** timed messages that arrived */
  timed: number;
  /** burst size and messages/s until the last one showed in EXISTS */
  burst: number;
  burstPerSecond: number;
  /** messages that never showed up (latency runs and burst) */
  lost: number;
}

export interface PeerResult {
  figures: Record<Kind, KindFigures>;
  scan: ScanResult;
  /** seconds from the first gateway's start to every node and address in the registry */
  joinSeconds: number;
  setting: string;
}

const NODES = ['a', 'b', 'c', 'd', 'e'] as const;
type NodeName = (typeof NODES)[number];
interface Login { user: string; pass: string }
const ALICE: Login = { user: 'alice@a.test', pass: 'alice-peer-bench-1' };
const BOB: Login = { user: 'bob@b.test', pass: 'bob-peer-bench-22' };
const CAROL: Login = { user: 'carol@b.test', pass: 'carol-peer-bench-333' };
const ACCOUNTS: Record<NodeName, Login[]> = {
  a: [ALICE],
  b: [BOB, CAROL],
  c: [{ user: 'keeper@c.test', pass: 'keeper-c-peer-bench' }],
  d: [{ user: 'keeper@d.test', pass: 'keeper-d-peer-bench' }],
  e: [{ user: 'keeper@e.test', pass: 'keeper-e-peer-bench' }],
};
const CUSTODY = { n: 3, t: 2 };
const SCAN_INTERVAL_MS = 200;
const BODY_OCTETS = 4 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

// --- the network -----------------------------------------------------------

interface Network {
  gateways: Record<NodeName, GatewayChild>;
  joinSeconds: number;
  stop(): Promise<void>;
}

/**
 * Five data directories (init, network config, accounts through the app API),
 * five gateways started at once, then waits until the registry lists every
 * node and every address.
 * @throws Error when a gateway does not start or the network has not formed within 60 s
 */
async function startNetwork(options: PeerOptions): Promise<Network> {
  const { initDataDir, openNode } = await import('../src/app.ts');
  const { loadConfig, saveConfig } = await import('../src/config/config.ts');
  const { silentLogger } = await import('../src/log.ts');
  const shared = makeTempDir('sealpost-peer-registry-');
  const registryFile = path.join(shared, 'registry.db');
  const dirs = new Map<NodeName, string>();
  const started = new Map<NodeName, GatewayChild>();
  const stop = async (): Promise<void> => {
    await Promise.all([...started.values()].map((g) => g.stop().catch((error: unknown) => options.log(`  stopping a gateway: ${String(error)}`))));
    for (const dir of dirs.values()) removeTempDir(dir);
    removeTempDir(shared);
  };
  try {
    const prepared = performance.now();
    for (const name of NODES) dirs.set(name, makeTempDir(`sealpost-peer-${name}-`));
    await Promise.all(NODES.map(async (name) => {
      const dir = dirs.get(name) as string;
      const { paths } = await initDataDir(dir);
      const config = await loadConfig(paths.config);
      config.network.enabled = true;
      config.network.registry.path = registryFile;
      config.network.scanIntervalMs = SCAN_INTERVAL_MS;
      config.network.custody = { ...CUSTODY };
      await saveConfig(paths.config, config);
      const node = await openNode({ dataDir: dir, logger: silentLogger() });
      try {
        for (const who of ACCOUNTS[name]) await node.accounts.createAccount({ address: who.user, password: who.pass });
      } finally {
        await node.close();
      }
    }));
    options.log(`  ${NODES.length} data directories prepared in ${((performance.now() - prepared) / 1000).toFixed(1)} s`);
    const t0 = performance.now();
    await Promise.all(NODES.map(async (name) => {
      const gateway = await startGatewayChild(dirs.get(name) as string, { gatewayChild: false, log: path.join(options.out, `peer-${name}.log`) });
      started.set(name, gateway);
    }));
    await waitForRegistry(registryFile, NODES.length, NODES.flatMap((n) => ACCOUNTS[n].map((a) => a.user)));
    const joinSeconds = (performance.now() - t0) / 1000;
    const gateways = Object.fromEntries(NODES.map((n) => [n, started.get(n) as GatewayChild])) as Record<NodeName, GatewayChild>;
    return { gateways, joinSeconds, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls the shared registry until it lists `nodes` nodes and a claim for every address. */
async function waitForRegistry(file: string, nodes: number, addresses: readonly string[]): Promise<void> {
  const { openLocalRegistry } = await import('../src/registry/local.ts');
  const registry = openLocalRegistry({ path: file });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const listed = (await registry.listNodes()).length;
      const claimed = (await Promise.all(addresses.map((a) => registry.lookupAddress(a)))).filter((c) => c !== null).length;
      if (listed >= nodes && claimed === addresses.length) return;
      if (Date.now() > deadline) throw new Error(`the network did not form within 60 s: ${listed}/${nodes} nodes, ${claimed}/${addresses.length} addresses in the registry`);
      await sleep(100);
    }
  } finally {
    await registry.close();
  }
}

// --- the clients -----------------------------------------------------------

/** bob's INBOX on node B, selected and IDLE; resolves waits on the EXISTS count. */
interface InboxWatch {
  /** the latest EXISTS count */
  count(): number;
  /** performance.now() when EXISTS first reached `target`; rejects after `ms` */
  until(target: number, ms: number): Promise<number>;
  close(): Promise<void>;
}

async function watchInbox(port: number, who: Login, starttls: boolean): Promise<InboxWatch> {
  const client = new ImapFlow({
    host: '127.0.0.1', port, secure: false, doSTARTTLS: starttls,
    tls: { rejectUnauthorized: false }, // the gateway's self-signed certificate
    auth: { user: who.user, pass: who.pass }, logger: false,
    disableAutoIdle: true, // IDLE from the start, not after 15 s of quiet
  });
  await client.connect(); // the login unlocks bob's key: deliveries decrypt into INBOX from now on
  const mailbox = await client.mailboxOpen('INBOX');
  let count = mailbox.exists;
  const waiters = new Set<{ target: number; resolve: (at: number) => void }>();
  client.on('exists', (data: { count: number }) => {
    const at = performance.now();
    count = data.count;
    for (const w of waiters) {
      if (count >= w.target) {
        waiters.delete(w);
        w.resolve(at);
      }
    }
  });
  const idling = client.idle().catch(() => undefined);
  for (let i = 0; i < 50 && !client.idling; i++) await sleep(20);
  if (!client.idling) throw new Error('the IMAP client did not enter IDLE');
  return {
    count: () => count,
    until(target, ms) {
      if (count >= target) return Promise.resolve(performance.now());
      return new Promise<number>((resolve, reject) => {
        const waiter = {
          target,
          resolve: (at: number) => {
            clearTimeout(timer);
            resolve(at);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`EXISTS stayed at ${count}, expected ${target}`));
        }, ms);
        waiters.add(waiter);
      });
    },
    async close() {
      await client.logout().catch(() => undefined);
      await idling;
    },
  };
}

/** A pooled SMTP client with one connection (one message in flight). */
function transport(port: number, who: Login, starttls: boolean) {
  return nodemailer.createTransport({
    host: '127.0.0.1', port, secure: false, ignoreTLS: !starttls, requireTLS: starttls,
    tls: { rejectUnauthorized: false },
    auth: { user: who.user, pass: who.pass },
    pool: true, maxConnections: 1, maxMessages: Infinity,
  });
}

/** Deterministic English-looking text of about `octets`, lines under 78. */
function body(octets: number, seed: number): string {
  const words = 'the shipment left the warehouse this morning and should reach you before the end of the week please confirm the delivery address and the invoice number'.split(' ');
  let state = seed >>> 0;
  let out = 'Hello Bob,\r\n\r\n';
  let line = '';
  while (out.length + line.length < octets) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const word = words[state % words.length] ?? 'mail';
    if (line.length + word.length + 1 > 72) {
      out += `${line}\r\n`;
      line = '';
    }
    line += line === '' ? word : ` ${word}`;
  }
  return `${out}${line}.\r\n`;
}

const BODY = body(BODY_OCTETS, 7);
let counter = 0;

/** One message of the kind, composed before any timing starts. */
async function compose(kind: Kind): Promise<{ from: string; raw: Buffer }> {
  const from = kind === 'local' ? CAROL.user : ALICE.user;
  const n = ++counter;
  const raw = await new MailComposer({
    from, to: BOB.user, subject: `Shipment ${n}`, text: BODY,
    messageId: `<peer-bench-${kind}-${n}@${from.split('@')[1]}>`,
    date: new Date(),
    ...(kind === 'expiring' ? { headers: { Expires: '1h' } } : {}),
  }).compile().build();
  return { from, raw };
}
type Sender = ReturnType<typeof transport>;

// --- the runs --------------------------------------------------------------

interface Samples {
  latency: number[];
  submit: number[];
  lost: number;
  burstPerSecond: number;
  burst: number;
}

/**
 * Measures delivery between the nodes, then stops them.
 * @throws Error when the network does not form or a submission is refused
 */
export async function runPeer(options: PeerOptions): Promise<PeerResult> {
  const { log } = options;
  log(`Scan: ${options.scanAnnouncements} stealth announcements (1% ours) on one core, before any gateway starts...`);
  const scan = measureScan({ n: options.scanAnnouncements, rounds: 3, nobleSlice: 500, floor: false });
  log(`  node:crypto ${Math.round(scanRate(scan.node, 'best'))}/s, @noble/curves ${Math.round(scanRate(scan.noble, 'best'))}/s (best of ${scan.rounds})`);

  log(`Starting ${NODES.length} gateways (network enabled, one local registry, custody n=${CUSTODY.n} t=${CUSTODY.t}, scan every ${SCAN_INTERVAL_MS} ms)...`);
  const network = await startNetwork(options);
  const samples: Record<Kind, Samples> = {
    local: { latency: [], submit: [], lost: 0, burstPerSecond: NaN, burst: options.burst },
    plain: { latency: [], submit: [], lost: 0, burstPerSecond: NaN, burst: options.burst },
    expiring: { latency: [], submit: [], lost: 0, burstPerSecond: NaN, burst: options.burstExpiring },
  };
  let watch: InboxWatch | null = null;
  const senders = new Map<string, Sender>();
  try {
    log(`  every node and address in the registry after ${network.joinSeconds.toFixed(1)} s`);
    const { a, b } = network.gateways;
    watch = await watchInbox(b.ports.imap, BOB, options.starttls);
    const w = watch;
    const smtpPort = (from: string): number => (from === CAROL.user ? b.ports.smtp : a.ports.smtp);
    const loginOf = (from: string): Login => (from === CAROL.user ? CAROL : ALICE);
    const senderOf = (from: string): Sender => {
      let t = senders.get(from);
      if (t === undefined) {
        t = transport(smtpPort(from), loginOf(from), options.starttls);
        senders.set(from, t);
      }
      return t;
    };
    let expected = w.count();

    // Latency: one message in flight, kinds interleaved (the order rotates).
    const rounds = options.warmup + options.messages;
    log(`Latency: ${options.warmup} warm-up + ${options.messages} timed messages of each kind (${KINDS.join(', ')}), one in flight...`);
    for (let i = 0; i < rounds; i++) {
      const order = KINDS.map((_, k) => KINDS[(i + k) % KINDS.length] as Kind);
      for (const kind of order) {
        const { from, raw } = await compose(kind);
        const started = performance.now();
        const info = await senderOf(from).sendMail({ envelope: { from, to: [BOB.user] }, raw });
        const accepted = performance.now();
        if (!info.accepted.includes(BOB.user)) throw new Error(`${kind}: not accepted: ${info.response}`);
        expected++;
        try {
          const seen = await w.until(expected, options.deliveryTimeoutMs);
          if (i >= options.warmup) {
            samples[kind].latency.push(seen - started);
            samples[kind].submit.push(accepted - started);
          }
        } catch {
          samples[kind].lost++;
          log(`  ! ${kind} message ${i + 1} did not show in bob's INBOX within ${options.deliveryTimeoutMs / 1000} s`);
          expected = w.count(); // counted as lost; a late arrival would shorten the next wait
        }
      }
      if ((i + 1) % 25 === 0) log(`  ${i + 1}/${rounds}`);
    }
    for (const kind of KINDS) {
      const sorted = [...samples[kind].latency].sort((x, y) => x - y);
      log(`  ${kind}: p50 ${percentile(sorted, 50).toFixed(0)} ms, p95 ${percentile(sorted, 95).toFixed(0)} ms`);
    }

    // Throughput: a burst over `connections` connections, until EXISTS shows all of it.
    for (const kind of KINDS) {
      const s = samples[kind];
      const messages = await Promise.all(Array.from({ length: s.burst }, () => compose(kind)));
      const from = messages[0]?.from ?? ALICE.user;
      const pool = Array.from({ length: options.connections }, () => transport(smtpPort(from), loginOf(from), options.starttls));
      log(`Burst: ${s.burst} ${kind} messages over ${options.connections} connections...`);
      try {
        const base = w.count();
        const started = performance.now();
        let next = 0;
        await Promise.all(pool.map(async (t) => {
          while (next < messages.length) {
            const m = messages[next++] as { from: string; raw: Buffer };
            const info = await t.sendMail({ envelope: { from: m.from, to: [BOB.user] }, raw: m.raw });
            if (!info.accepted.includes(BOB.user)) throw new Error(`${kind}: not accepted: ${info.response}`);
          }
        }));
        const submitted = performance.now();
        const timeout = Math.max(options.deliveryTimeoutMs, s.burst * 500);
        try {
          const seen = await w.until(base + s.burst, timeout);
          s.burstPerSecond = s.burst / ((seen - started) / 1000);
          log(`  all accepted after ${((submitted - started) / 1000).toFixed(1)} s, all in INBOX after ${((seen - started) / 1000).toFixed(1)} s: ${s.burstPerSecond.toFixed(1)} messages/s`);
        } catch {
          const arrived = w.count() - base;
          s.lost += s.burst - arrived;
          s.burstPerSecond = arrived / ((performance.now() - started) / 1000);
          log(`  ! only ${arrived} of ${s.burst} ${kind} messages showed in bob's INBOX within ${timeout / 1000} s`);
        }
      } finally {
        for (const t of pool) t.close();
      }
    }
  } finally {
    for (const t of senders.values()) t.close();
    await watch?.close();
    log('Stopping the gateways...');
    const stopping = performance.now();
    await network.stop();
    log(`  stopped in ${((performance.now() - stopping) / 1000).toFixed(1)} s`);
  }

  const figures = Object.fromEntries(KINDS.map((kind) => {
    const s = samples[kind];
    const sorted = [...s.latency].sort((x, y) => x - y);
    const submit = [...s.submit].sort((x, y) => x - y);
    const f: KindFigures = {
      p50: percentile(sorted, 50), p95: percentile(sorted, 95), submitP50: percentile(submit, 50), timed: sorted.length,
      burst: s.burst, burstPerSecond: s.burstPerSecond, lost: s.lost,
    };
    return [kind, f];
  })) as Record<Kind, KindFigures>;
  const setting =
    `${NODES.length} gateways (compiled CLI, child processes) on one machine sharing a local registry file, scan every ${SCAN_INTERVAL_MS} ms, custody n=${CUSTODY.n} t=${CUSTODY.t}; ` +
    `text/plain messages of about ${(BODY_OCTETS / 1024).toFixed(0)} KB; latency: ${options.messages} messages of each kind after ${options.warmup} warm-up, one in flight, kinds interleaved, ` +
    `nodemailer (pooled, 1 connection) to imapflow IDLE on bob's INBOX; bursts over ${options.connections} connections; ` +
    `${options.starttls ? 'STARTTLS' : 'plain TCP'} + AUTH on loopback; scan: ${scan.n} announcements (1% ours), best of ${scan.rounds}, @noble/curves on ${scan.noble.scanned}, before the gateways started; ` +
    `Node ${process.versions.node}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) shared by the five gateways and the client`;
  return { figures, scan, joinSeconds: network.joinSeconds, setting };
}

// --- the tables ------------------------------------------------------------

/** Delivery table as lines: [header, ...rows]. */
export function peerTable(result: PeerResult): string[][] {
  const { local, plain, expiring } = result.figures;
  const ms = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(0));
  const ratio = (x: number, y: number): string => (Number.isNaN(x) || Number.isNaN(y) || y === 0 ? '-' : (x / y).toFixed(2));
  return [
    ['Delivery, submission to IMAP EXISTS', 'Local (one node)', 'Node to node', 'Node to node, expiring', 'Node to node/Local', 'Expiring/Plain'],
    ['p50 latency (ms)', ms(local.p50), ms(plain.p50), ms(expiring.p50), ratio(plain.p50, local.p50), ratio(expiring.p50, plain.p50)],
    ['p95 latency (ms)', ms(local.p95), ms(plain.p95), ms(expiring.p95), ratio(plain.p95, local.p95), ratio(expiring.p95, plain.p95)],
    ['of which sendMail to 250, p50 (ms)', ms(local.submitP50), ms(plain.submitP50), ms(expiring.submitP50), ratio(plain.submitP50, local.submitP50), ratio(expiring.submitP50, plain.submitP50)],
    [`messages/s, burst of ${local.burst}/${plain.burst}/${expiring.burst} until all in INBOX`, local.burstPerSecond.toFixed(1), plain.burstPerSecond.toFixed(1), expiring.burstPerSecond.toFixed(1), ratio(plain.burstPerSecond, local.burstPerSecond), ratio(expiring.burstPerSecond, plain.burstPerSecond)],
    ['messages that never arrived', String(local.lost), String(plain.lost), String(expiring.lost), '', ''],
  ];
}

/** Scan table as lines: [header, ...rows]. */
export function scanTable(result: PeerResult): string[][] {
  const { node, noble } = result.scan;
  const rate = (row: typeof node, which: 'best' | 'median'): string => Math.round(scanRate(row, which)).toString();
  return [
    ['Announcement scan, one core (1% ours)', 'node:crypto X25519', '@noble/curves X25519 (baseline)', 'node:crypto/noble'],
    ['announcements/s, best', rate(node, 'best'), rate(noble, 'best'), (scanRate(node, 'best') / scanRate(noble, 'best')).toFixed(1)],
    ['announcements/s, median', rate(node, 'median'), rate(noble, 'median'), (scanRate(node, 'median') / scanRate(noble, 'median')).toFixed(1)],
    ['µs per announcement, best', ((node.best * 1e6) / node.scanned).toFixed(1), ((noble.best * 1e6) / noble.scanned).toFixed(1), ''],
  ];
}

/** The line under the tables. */
export function peerNote(result: PeerResult): string {
  const { local, plain, expiring } = result.figures;
  const lost = local.lost + plain.lost + expiring.lost;
  return `Every node and address was in the registry ${result.joinSeconds.toFixed(1)} s after the gateways started; ` +
    `an expiring message costs ${(expiring.p50 - plain.p50).toFixed(0)} ms more than a plain one at p50; ` +
    (lost === 0 ? 'every message arrived' : `${lost} messages never arrived (see the gateways' logs, bench/out/peer-*.log)`);
}

