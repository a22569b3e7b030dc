// The generic ledger: a record log, a batcher and any Anchorer (local
// checkpoints or an EVM contract). Appends go straight to the log (one
// durable INSERT); a timer closes the open batch when it is full or its
// oldest record has waited long enough, then anchors every batch not yet
// anchored, oldest first, one at a time. Anchoring failures are retried
// with exponential backoff; nothing is lost, because batches and records
// live in the log and are picked up again at the next start.
// Proofs are RFC 6962 §2.1.1 audit paths; verification follows RFC 9162
// §2.1.3.2 and recomputes every hash from the record it is given.
import type { Logger } from 'pino';
import { NotFoundError } from '../errors/index.ts';
import { silentLogger } from '../log.ts';
import { AnchorError, LedgerClosedError } from './errors.ts';
import type { RecordLog } from './log.ts';
import { merkleLevels, pathFromLevels, rootFromPath } from './merkle.ts';
import { canonical, leafHashBytes, validateRecord } from './record.ts';
import type { Anchorer, Batch, Ledger, Proof, Verification, VerifyStep } from './types.ts';

export interface LedgerOptions {
  /** the log; the ledger owns it from now on and closes it */
  log: RecordLog;
  /** the anchorer; the ledger owns it from now on and closes it */
  anchorer: Anchorer;
  /** a batch closes when it holds this many records... */
  batchSize: number;
  /** ...or when its oldest record has waited this long (ms) */
  batchIntervalMs: number;
  logger?: Logger;
  /** clock for record and batch times (ms since the epoch) */
  now?: () => number;
  /** first retry delay after a failed anchoring, doubled per failure (default 1 s) */
  retryBaseMs?: number;
  /** longest retry delay (default 60 s) */
  retryMaxMs?: number;
  /**
   * Read-only use (`sealpost verify` next to a running gateway): do not
   * resume anchoring at open; the gateway owns batching.
   */
  passive?: boolean;
}

/** Batches whose trees are kept for proving (a batch's leaves never change). */
const TREE_CACHE = 8;

const HEX64 = /^[0-9a-f]{64}$/;
const short = (hex: string): string => `${hex.slice(0, 12)}…`;

/**
 * Builds the ledger over `log` and `anchorer`, and starts anchoring what a
 * previous run left unbatched or unanchored.
 * @throws RangeError when batchSize or batchIntervalMs is not a positive integer
 */
export function createLedger(options: LedgerOptions): Ledger {
  const { log, anchorer, batchSize, batchIntervalMs } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  if (!Number.isSafeInteger(batchIntervalMs) || batchIntervalMs < 0) throw new RangeError('batchIntervalMs must be a non-negative integer');
  const logger = options.logger ?? silentLogger();
  const now = options.now ?? Date.now;
  const retryBase = options.retryBaseMs ?? 1_000;
  const retryMax = options.retryMaxMs ?? 60_000;

  const listeners = new Set<(batch: Batch) => void>();
  const trees = new Map<number, Uint8Array[][]>();
  let closed = false;
  let closing: Promise<void> | null = null;
  /** serialises batching and anchoring: one batch is anchored at a time, in order */
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let timerDue = Infinity;
  let pumpQueued = false;
  /** records waiting for a batch (exact after each pump, counted up by append) */
  let pending = log.unbatchedCount();
  let failures = 0;
  /** no background anchoring before this instant (Date.now) after a failure */
  let retryAt = 0;

  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };

  /** Arms the timer to fire in `delay` ms unless it already fires sooner. Timers
   *  do not hold the process open: the servers do, and close() stops them. */
  const schedule = (delay: number): void => {
    if (closed) return;
    const due = Date.now() + Math.max(0, delay);
    if (timer !== null && timerDue <= due) return;
    if (timer !== null) clearTimeout(timer);
    timerDue = due;
    timer = setTimeout(() => {
      timer = null;
      timerDue = Infinity;
      queuePump();
    }, Math.max(0, delay));
    timer.unref();
  };

  const queuePump = (): void => {
    if (pumpQueued || closed) return;
    pumpQueued = true;
    exclusive(async () => {
      pumpQueued = false;
      await pump();
    }).catch((err: unknown) => logger.error({ err }, 'ledger: batcher failed'));
  };

  /** Closes the batches that are due (full ones, and the open one once its oldest record waited enough). */
  const closeDue = (): void => {
    let count = log.unbatchedCount();
    while (count >= batchSize) {
      const b = log.closeBatch(batchSize, now());
      if (!b) break;
      count -= b.size;
    }
    const oldest = count > 0 ? log.oldestUnbatched() : null;
    if (oldest && now() - oldest.createdAt >= batchIntervalMs) log.closeBatch(batchSize, now());
    pending = log.unbatchedCount();
  };

  const emit = (batch: Batch): void => {
    for (const listener of listeners) {
      try {
        listener(batch);
      } catch (err) {
        logger.error({ err, batch: batch.id }, 'ledger: onAnchored listener threw');
      }
    }
  };

  /** Anchors every unanchored batch in order; stops at the first failure. */
  const anchorAll = async (explicit: boolean): Promise<Batch[]> => {
    const done: Batch[] = [];
    // (a few ms of slack: the retry timer may fire a hair before retryAt by Date.now's clock)
    if (!explicit && Date.now() < retryAt - 5) return done;
    for (const batch of log.unanchoredBatches()) {
      if (closed && !explicit) break;
      let ref;
      try {
        ref = await anchorer.anchor(batch);
      } catch (err) {
        failures++;
        const delay = Math.min(retryMax, retryBase * 2 ** Math.min(failures - 1, 30));
        retryAt = Date.now() + delay;
        logger.warn({ err, batch: batch.id, failures, retryInMs: delay }, 'ledger: anchoring failed; records are kept and anchoring is retried');
        schedule(delay);
        if (explicit) throw new AnchorError(batch.id, `anchoring batch ${batch.id} failed: ${(err as Error).message}`, { cause: err });
        return done;
      }
      log.setAnchor(batch.id, ref, now());
      failures = 0;
      retryAt = 0;
      logger.debug({ batch: batch.id, size: batch.size, kind: ref.kind }, 'ledger: batch anchored');
      done.push(batch);
      emit(batch);
    }
    return done;
  };

  /** After a pass: wake up again when the open batch falls due. */
  const rearm = (): void => {
    // The timer holds one instant, the earliest: a due batch may have displaced the retry.
    if (failures > 0) schedule(retryAt - Date.now());
    if (pending >= batchSize) return schedule(0);
    const oldest = pending > 0 ? log.oldestUnbatched() : null;
    if (oldest) schedule(oldest.createdAt + batchIntervalMs - now());
  };

  const pump = async (): Promise<void> => {
    if (closed) return;
    closeDue();
    await anchorAll(false);
    rearm();
  };

  const tree = (batch: Batch): Uint8Array[][] => {
    let levels = trees.get(batch.id);
    if (levels) {
      trees.delete(batch.id);
    } else {
      levels = merkleLevels(log.batchLeaves(batch.id));
    }
    trees.set(batch.id, levels);
    if (trees.size > TREE_CACHE) trees.delete(trees.keys().next().value as number);
    return levels;
  };

  const merkleStep = (proof: Proof, leaf: Buffer | null): VerifyStep => {
    const fail = (detail: string): VerifyStep => ({ step: 'merkle', ok: false, detail });
    if (leaf === null) return fail('not checked: the record is malformed, so it has no leaf hash');
    const { batch, index, path } = proof;
    if (typeof batch?.root !== 'string' || !HEX64.test(batch.root)) return fail('the batch root is not 64 lowercase hex digits');
    if (index !== proof.seq - batch.firstSeq) return fail(`leaf index ${index} is not seq ${proof.seq} - first seq ${batch.firstSeq} of batch ${batch.id}`);
    if (!Array.isArray(path) || !path.every((h) => typeof h === 'string' && HEX64.test(h))) {
      return fail('the audit path must be a list of 64-digit lowercase hex hashes');
    }
    let root: string;
    try {
      root = Buffer.from(rootFromPath(leaf, index, batch.size, path.map((h) => Buffer.from(h, 'hex')))).toString('hex');
    } catch (err) {
      return fail(`the audit path does not fit leaf ${index} of a ${batch.size}-leaf tree: ${(err as Error).message}`);
    }
    if (root !== batch.root) {
      return fail(`leaf ${short(leaf.toString('hex'))} and the audit path lead to root ${short(root)}, batch ${batch.id} has root ${short(batch.root)}`);
    }
    return { step: 'merkle', ok: true, detail: `leaf ${index} of the ${batch.size} in batch ${batch.id} leads through ${path.length} hashes to root ${short(root)}` };
  };

  const anchorStep = async (proof: Proof): Promise<VerifyStep> => {
    const kind = proof.anchor?.kind;
    if (kind !== anchorer.kind) return { step: 'anchor', ok: false, detail: `the anchor is of kind ${String(kind)}; this ledger checks ${anchorer.kind} anchors` };
    try {
      return await anchorer.check(proof.batch, proof.anchor);
    } catch (err) {
      return { step: 'anchor', ok: false, detail: `the anchor could not be checked: ${(err as Error).message}` };
    }
  };

  // Whatever the previous run left behind: unanchored batches now, old unbatched records when due.
  if (options.passive !== true && (pending > 0 || log.unanchoredBatches().length > 0)) queuePump();

  return {
    kind: anchorer.kind,

    async append(record) {
      if (closed) throw new LedgerClosedError();
      const appended = log.append(record, now());
      pending++;
      if (pending >= batchSize) queuePump();
      else schedule(batchIntervalMs);
      return appended;
    },

    async appendMany(records) {
      if (closed) throw new LedgerClosedError();
      const appended = log.appendMany(records, now());
      pending += appended.length;
      if (pending >= batchSize) queuePump();
      else if (appended.length > 0) schedule(batchIntervalMs);
      return appended;
    },

    async anchor() {
      if (closed) throw new LedgerClosedError();
      return exclusive(async () => {
        while (log.closeBatch(batchSize, now()) !== null);
        pending = log.unbatchedCount();
        return anchorAll(true);
      });
    },

    async get(seq) {
      return log.get(seq)?.record ?? null;
    },

    async find(query) {
      return log.find(query);
    },

    async prove(seq) {
      const stored = log.get(seq);
      if (!stored) throw new NotFoundError('record', `ledger record ${seq} not found`);
      if (stored.batchId === null) return null;
      const anchor = log.anchorOf(stored.batchId);
      const batch = log.batch(stored.batchId);
      if (!anchor || !batch) return null;
      const index = seq - batch.firstSeq;
      const path = pathFromLevels(tree(batch), index).map((h) => Buffer.from(h).toString('hex'));
      return { seq, record: stored.record, batch, index, path, anchor };
    },

    async verify(proof): Promise<Verification> {
      let leaf: Buffer | null = null;
      let recordStep: VerifyStep;
      try {
        const r = validateRecord(proof.record);
        leaf = leafHashBytes(canonical(r));
        recordStep = {
          step: 'record',
          ok: true,
          detail: `record ${proof.seq} is well-formed: message ${short(r.messageHash)} stored as ${r.cid}, sender ${r.sender}, accepted ${new Date(r.time).toISOString()}; leaf ${short(leaf.toString('hex'))}`,
        };
      } catch (err) {
        recordStep = { step: 'record', ok: false, detail: `record ${proof.seq} is malformed: ${(err as Error).message}` };
      }
      const steps = [recordStep, merkleStep(proof, leaf), await anchorStep(proof)];
      return { ok: steps.every((s) => s.ok), steps };
    },

    onAnchored(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    close() {
      if (closing) return closing;
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      closing = (async () => {
        await chain;
        try {
          await anchorer.close();
        } finally {
          log.close();
        }
      })();
      return closing;
    },
  };
}
