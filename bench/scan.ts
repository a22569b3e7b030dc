// `node bench/scan.ts`: stealth-announcement scanning (network/stealth.ts) on
// one core. N announcements (default 20,000), 1% of them for us and the rest
// for 50 other keys, scanned by the node:crypto scanner; the pure-JS
// @noble/curves scanner is the baseline, on a 2,000-announcement slice of the
// same mix since it is about 15 times slower. Also X25519 alone (public key
// import + diffieHellman), the floor under the scan. Each row checks that
// exactly the announcements meant for us were recognised.
// Options: --n N (20000)
// measureScan() is the same measurement for bench/peer.ts (`npm run bench`).
import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import { generateX25519, x25519PublicKeyObject } from '../src/custody/ecies.ts';
import { makeScanner, stealthAnnounce, type StealthAnnouncement } from '../src/network/stealth.ts';

const OURS_EVERY = 100; // 1%

export interface ScanRow {
  name: string;
  /** announcements scanned per round */
  scanned: number;
  /** seconds of the fastest and of the median round */
  best: number;
  median: number;
  recognised: number | string;
  viewTagPassed: number | string;
}

export interface ScanResult {
  /** announcements in the mix (1% ours) */
  n: number;
  rounds: number;
  /** seconds spent generating the announcements (not part of the scan) */
  generateSeconds: number;
  /** the node:crypto scanner (what the gateway runs) */
  node: ScanRow;
  /** the @noble/curves scanner, the baseline, on a slice of the same mix */
  noble: ScanRow;
  /** X25519 alone, the floor (null when `floor` was false) */
  x25519: ScanRow | null;
}

/** Announcements per second of a row's best or median round. */
export function scanRate(row: ScanRow, which: 'best' | 'median'): number {
  return row.scanned / row[which];
}

/**
 * Generates `n` announcements (1% ours) and scans them on this thread: the
 * node:crypto scanner over all of them, the @noble/curves scanner over the
 * first min(n, nobleSlice) (default 2,000), and X25519 alone unless `floor` is
 * false; each `rounds` times (default 3), interleaved (the machine may be
 * shared: a burst of outside load should not hit one row only).
 * @throws Error when `n` is below 100 or a scanner recognises other than the announcements meant for it
 */
export function measureScan(options: { n: number; rounds?: number; nobleSlice?: number; floor?: boolean }): ScanResult {
  const { n } = options;
  const rounds = options.rounds ?? 3;
  const floor = options.floor ?? true;
  if (!Number.isInteger(n) || n < OURS_EVERY) throw new Error(`scan: n must be an integer >= ${OURS_EVERY}, got ${n}`);
  const nobleSlice = Math.min(n, Math.max(OURS_EVERY, options.nobleSlice ?? 2_000));
  const me = generateX25519();
  const others = Array.from({ length: 50 }, () => generateX25519());
  const payload = new Uint8Array(64); // a CID plus key material, about this size

  const started = performance.now();
  const announcements: StealthAnnouncement[] = [];
  for (let i = 0; i < n; i++) {
    const to = i % OURS_EVERY === 0 ? me.publicKey : others[i % others.length]!.publicKey;
    announcements.push(stealthAnnounce(to, payload));
  }
  const generateSeconds = (performance.now() - started) / 1000;

  const scanOnce = (backend: 'node' | 'noble', items: readonly StealthAnnouncement[]): { seconds: number; recognised: number; viewTagPassed: number } => {
    const scan = makeScanner(me.privateKey, { backend }); // key import outside the timing
    const t0 = performance.now();
    for (const a of items) scan(a);
    const seconds = (performance.now() - t0) / 1000;
    const expected = Math.ceil(items.length / OURS_EVERY);
    if (scan.stats.recognised !== expected) throw new Error(`${backend}: recognised ${scan.stats.recognised}, expected ${expected}`);
    return { seconds, recognised: scan.stats.recognised, viewTagPassed: scan.stats.viewTagPassed };
  };
  // the floor: X25519 alone, as the node scanner does it (import the ephemeral key, then DH)
  const { privateKey } = generateKeyPairSync('x25519');
  const x25519Once = (items: readonly StealthAnnouncement[]): number => {
    const t0 = performance.now();
    for (const a of items) diffieHellman({ privateKey, publicKey: x25519PublicKeyObject(a.ephemeralPublic) });
    return (performance.now() - t0) / 1000;
  };

  const nobleItems = announcements.slice(0, nobleSlice);
  scanOnce('node', announcements.slice(0, 500)); // warm-up
  scanOnce('noble', announcements.slice(0, 100));
  if (floor) x25519Once(announcements.slice(0, 500));
  const times = { node: [] as number[], noble: [] as number[], x25519: [] as number[] };
  let nodeStats = { recognised: 0, viewTagPassed: 0 };
  let nobleStats = { recognised: 0, viewTagPassed: 0 };
  for (let round = 0; round < rounds; round++) {
    const a = scanOnce('node', announcements);
    times.node.push(a.seconds);
    nodeStats = a;
    const b = scanOnce('noble', nobleItems);
    times.noble.push(b.seconds);
    nobleStats = b;
    if (floor) times.x25519.push(x25519Once(announcements));
  }
  const best = (xs: number[]): number => Math.min(...xs);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    n,
    rounds,
    generateSeconds,
    node: { name: 'scan, node:crypto X25519', scanned: n, best: best(times.node), median: median(times.node), recognised: nodeStats.recognised, viewTagPassed: nodeStats.viewTagPassed },
    noble: { name: 'scan, @noble/curves X25519 (baseline)', scanned: nobleSlice, best: best(times.noble), median: median(times.noble), recognised: nobleStats.recognised, viewTagPassed: nobleStats.viewTagPassed },
    x25519: floor ? { name: 'X25519 only (key import + DH), node:crypto', scanned: n, best: best(times.x25519), median: median(times.x25519), recognised: '-', viewTagPassed: '-' } : null,
  };
}

if (import.meta.main) {
  const nArg = process.argv.indexOf('--n');
  const result = measureScan({ n: nArg > 0 ? Number(process.argv[nArg + 1]) : 20_000 });
  console.log(`stealth scan: ${result.n} announcements, 1% ours, one core (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}`);
  console.log(`(generated in ${result.generateSeconds.toFixed(1)} s)`);
  console.log(`best and median of ${result.rounds} rounds; load average ${os.loadavg()[0]!.toFixed(2)} on ${os.availableParallelism()} cores`);
  console.log('| what | scanned | announcements/s (best) | announcements/s (median) | µs each (best) | recognised | view tag passed |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of [result.node, result.noble, result.x25519]) {
    if (r === null) continue;
    console.log(`| ${r.name} | ${r.scanned} | ${Math.round(scanRate(r, 'best'))} | ${Math.round(scanRate(r, 'median'))} | ${((r.best * 1e6) / r.scanned).toFixed(1)} | ${r.recognised} | ${r.viewTagPassed} |`);
  }
}
