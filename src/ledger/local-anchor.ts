// The embedded anchor ('local'): each batch root is committed by a checkpoint
// statement signed with the node's Ed25519 key, the way a Certificate
// Transparency log signs its tree heads (RFC 6962 §3.5). Each statement
// names the hash of the previous one, so the checkpoints form a chain: a
// batch cannot be dropped or rewritten later without re-signing every
// checkpoint after it. The statement is canonical JSON:
//   {"v":1,"log":<public key b64>,"batch":<id>,"root":<hex>,"firstSeq":<n>,
//    "size":<n>,"prev":<sha256 hex of the previous statement, or 64 zeros>,"time":<ms>}
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/index.ts';
import type { RecordLog } from './log.ts';
import { verifyEd25519, type NodeKey } from './node-key.ts';
import type { AnchorRef, Anchorer, Batch, VerifyStep } from './types.ts';

export const CHECKPOINT_VERSION = 1;
/** `prev` of the first checkpoint. */
export const NO_PREVIOUS = '0'.repeat(64);

export interface Checkpoint {
  v: number;
  /** base64 of the signing node's raw Ed25519 public key */
  log: string;
  batch: number;
  root: string;
  firstSeq: number;
  size: number;
  prev: string;
  time: number;
}

type LocalAnchor = Extract<AnchorRef, { kind: 'local' }>;

/** The canonical statement (fixed key order, compact). */
export function encodeCheckpoint(c: Checkpoint): string {
  return `{"v":${c.v},"log":${JSON.stringify(c.log)},"batch":${c.batch},"root":${JSON.stringify(c.root)},"firstSeq":${c.firstSeq},"size":${c.size},"prev":${JSON.stringify(c.prev)},"time":${c.time}}`;
}

/**
 * Reads a statement, accepting only its canonical spelling (so that one
 * checkpoint has one signed form).
 * @throws ValidationError (field `statement`) when it is not a canonical checkpoint
 */
export function parseCheckpoint(statement: string): Checkpoint {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(statement) as Record<string, unknown>;
  } catch {
    throw new ValidationError('statement', 'is not JSON');
  }
  if (typeof o !== 'object' || o === null) throw new ValidationError('statement', 'must be a JSON object');
  const c = o as unknown as Checkpoint;
  if (
    ![c.v, c.batch, c.firstSeq, c.size, c.time].every((n) => Number.isSafeInteger(n)) ||
    typeof c.log !== 'string' || typeof c.root !== 'string' || typeof c.prev !== 'string' ||
    encodeCheckpoint(c) !== statement
  ) {
    throw new ValidationError('statement', 'is not a canonical checkpoint statement');
  }
  if (c.v !== CHECKPOINT_VERSION) throw new ValidationError('statement', `unknown checkpoint version ${c.v}`);
  return c;
}

/** SHA-256 of a statement, the `prev` of the next checkpoint. */
export function checkpointHash(statement: string): string {
  return createHash('sha256').update(statement).digest('hex');
}

/** Short form of a public key for people: ed25519:AbCdEfGh… */
export function keyLabel(publicKey: string): string {
  return `ed25519:${publicKey.slice(0, 8)}…`;
}

/**
 * Checks that `ref` anchors `batch`: a valid signature by the key it names,
 * over a canonical statement naming this batch's id, root, first record and
 * size; and, when `trustedKey` is given, that the key is that one.
 * Never throws: every failure is a step with ok=false and a reason.
 */
export function checkCheckpoint(batch: Batch, ref: AnchorRef, trustedKey?: string): VerifyStep {
  const fail = (detail: string): VerifyStep => ({ step: 'anchor', ok: false, detail });
  if (ref.kind !== 'local') return fail(`anchor is of kind ${ref.kind}, expected a local checkpoint`);
  const who = keyLabel(String(ref.publicKey));
  if (!verifyEd25519(ref.publicKey, Buffer.from(String(ref.statement)), ref.signature)) {
    return fail(`checkpoint signature does not verify with key ${who}`);
  }
  let c: Checkpoint;
  try {
    c = parseCheckpoint(ref.statement);
  } catch (err) {
    return fail(`signed statement ${(err as Error).message}`);
  }
  if (c.log !== ref.publicKey) return fail(`checkpoint ${c.batch} names log key ${keyLabel(c.log)} but is signed by ${who}`);
  const wrong = (
    [['batch', c.batch, batch.id], ['root', c.root, batch.root], ['firstSeq', c.firstSeq, batch.firstSeq], ['size', c.size, batch.size]] as const
  ).find(([, signed, claimed]) => signed !== claimed);
  if (wrong) return fail(`checkpoint ${c.batch} signs ${wrong[0]} ${String(wrong[1])}, the proof's batch has ${String(wrong[2])}`);
  if (trustedKey !== undefined && ref.publicKey !== trustedKey) {
    return fail(`checkpoint ${c.batch} is signed by ${who}, not by this node's key ${keyLabel(trustedKey)}`);
  }
  const by = trustedKey !== undefined ? `node key ${who}` : `key ${who}`;
  return { step: 'anchor', ok: true, detail: `checkpoint ${c.batch} signed by ${by} on ${new Date(c.time).toISOString()}` };
}

export interface LocalAnchorerOptions {
  key: NodeKey;
  /** where earlier checkpoints are found (the previous statement, an existing anchor) */
  log: Pick<RecordLog, 'anchorOf' | 'previousAnchor'>;
  now?: () => number;
}

/** The 'local' Anchorer: signs checkpoints with the node key. */
export function createLocalAnchorer(options: LocalAnchorerOptions): Anchorer {
  const { key, log } = options;
  const now = options.now ?? Date.now;
  return {
    kind: 'local',
    async anchor(batch: Batch): Promise<AnchorRef> {
      const existing = log.anchorOf(batch.id);
      if (existing?.kind === 'local' && checkCheckpoint(batch, existing, key.publicKey).ok) return existing;
      const previous = log.previousAnchor(batch.id, 'local') as LocalAnchor | null;
      const statement = encodeCheckpoint({
        v: CHECKPOINT_VERSION,
        log: key.publicKey,
        batch: batch.id,
        root: batch.root,
        firstSeq: batch.firstSeq,
        size: batch.size,
        prev: previous ? checkpointHash(previous.statement) : NO_PREVIOUS,
        time: now(),
      });
      return { kind: 'local', statement, signature: key.sign(Buffer.from(statement)), publicKey: key.publicKey };
    },
    async check(batch: Batch, ref: AnchorRef): Promise<VerifyStep> {
      return checkCheckpoint(batch, ref, key.publicKey);
    },
    async close(): Promise<void> {},
  };
}
