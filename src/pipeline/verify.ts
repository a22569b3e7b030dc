// `sealpost verify`: the proof chain of one message, step by step
//   message hash → ledger record → ciphertext in storage → Merkle path → anchor
// Input is a saved message (.eml as a client saves it: our X-Sealpost-* fields
// are removed again, see pipeline/view.ts), a CID, or a Message-ID of a
// message delivered on this node. Every step says what it checked; the first
// failing step says why, and the result is not ok.
import { createHash } from 'node:crypto';
import { SealpostError } from '../errors/index.ts';
import type { Ledger, Proof, VerifyStep } from '../ledger/types.ts';
import type { MailStore } from '../mailstore/types.ts';
import type { BlockStorage, Cid } from '../storage/types.ts';
import { verifyRemoteProof } from './remote-proof.ts';
import { describeAnchor, stripView } from './view.ts';

export type VerifyInput = { eml: Uint8Array; name: string } | { cid: string } | { messageId: string };

export interface ChainStep {
  step: 'message' | 'record' | 'ciphertext' | 'merkle' | 'anchor';
  ok: boolean;
  detail: string;
}

export interface ChainResult {
  ok: boolean;
  steps: ChainStep[];
  proof: Proof | null;
}

const short = (hex: string): string => (hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex);

export interface VerifyParts {
  ledger: Pick<Ledger, 'find' | 'prove' | 'verify' | 'get'>;
  storage: Pick<BlockStorage, 'get'>;
  store: Pick<MailStore, 'findDeliveries'>;
  /** proofs of mail from other nodes, kept at delivery (pipeline/peer-state.ts); absent outside a network */
  remoteProofs?: { proof(cid: string): { origin: string; proof: Proof } | null };
}

export async function verifyMessage(input: VerifyInput, parts: VerifyParts): Promise<ChainResult> {
  const steps: ChainStep[] = [];
  const done = (proof: Proof | null = null): ChainResult => ({ ok: steps.every((s) => s.ok), steps, proof });
  const fail = (step: ChainStep['step'], detail: string): ChainResult => {
    steps.push({ step, ok: false, detail });
    return done();
  };

  // 1. What are we verifying: a hash of the message (from a file), and/or a CID.
  let messageHash: string | null = null;
  let cid: string | null = null;
  if ('eml' in input) {
    const { original, fields, removed } = stripView(input.eml);
    messageHash = createHash('sha256').update(original).digest('hex');
    cid = fields.get('x-sealpost-cid') ?? null;
    steps.push({ step: 'message', ok: true, detail: `sha256 ${messageHash} of ${input.name} (${removed} X-Sealpost field${removed === 1 ? '' : 's'} removed, ${original.byteLength} octets)` });
  } else if ('cid' in input) {
    cid = input.cid.trim();
    steps.push({ step: 'message', ok: true, detail: `ciphertext CID ${cid}` });
  } else {
    const id = input.messageId.trim().replace(/^<|>$/g, '');
    const deliveries = await parts.store.findDeliveries({ messageId: id });
    const found = deliveries[0];
    if (found === undefined) return fail('message', `no message with Message-ID <${id}> was delivered on this node`);
    cid = found.cid;
    steps.push({ step: 'message', ok: true, detail: `Message-ID <${id}> was delivered as ciphertext ${cid}` });
  }

  // 2. The ledger record.
  let seqs: number[] = [];
  if (cid !== null) seqs = await parts.ledger.find({ cid });
  if (seqs.length === 0 && messageHash !== null) seqs = await parts.ledger.find({ messageHash });
  const seq = seqs[0];
  // Not in this node's ledger: mail from another node, proved by the proof kept at its delivery.
  const remote = seq === undefined && cid !== null ? (parts.remoteProofs?.proof(cid) ?? null) : null;
  if (remote !== null) return verifyRemote(remote, { messageHash, cid, steps, parts, done, fail });
  if (seq === undefined) {
    return fail('record', cid !== null ? `no ledger record names CID ${cid}` : `no ledger record has message hash ${messageHash ?? ''} (and the file has no X-Sealpost-CID field)`);
  }
  const record = await parts.ledger.get(seq);
  if (record === null) return fail('record', `ledger record ${seq} is missing`);
  if (messageHash !== null && record.messageHash !== messageHash) {
    return fail('record', `the message was ALTERED: its sha256 ${short(messageHash)} differs from ${short(record.messageHash)} recorded in ledger record ${seq}`);
  }
  if (cid !== null && record.cid !== cid) return fail('record', `ledger record ${seq} names CID ${record.cid}, not ${cid}`);
  steps.push({
    step: 'record',
    ok: true,
    detail: `ledger record ${seq}: cid ${record.cid}, sender key ${record.sender}, accepted ${new Date(record.time).toISOString()}` +
      `${record.expires !== null ? `, expires ${new Date(record.expires).toISOString()}` : ''}${messageHash !== null ? ', message hash matches' : ''}`,
  });

  // 3. The ciphertext is stored and every block matches its hash.
  try {
    const bytes = await parts.storage.get(record.cid as Cid);
    steps.push({ step: 'ciphertext', ok: true, detail: `${record.cid}: ${bytes.byteLength} octets present, every block matches its hash` });
  } catch (error) {
    if (!(error instanceof SealpostError)) throw error;
    steps.push({ step: 'ciphertext', ok: false, detail: error.message });
  }

  // 4–5. Merkle path and anchor, checked by the ledger from the record itself.
  const proof = await parts.ledger.prove(seq);
  if (proof === null) {
    steps.push({ step: 'merkle', ok: false, detail: `ledger record ${seq} is not anchored yet (its batch is still open); try again shortly` });
    return done();
  }
  const verification = await parts.ledger.verify(proof);
  for (const s of verification.steps) steps.push(toChainStep(s, proof));
  return done(proof);
}

function toChainStep(s: VerifyStep, proof: Proof): ChainStep {
  if (s.step === 'record') return { step: 'record', ok: s.ok, detail: s.ok ? `record ${proof.seq} hashes to its leaf` : s.detail };
  if (s.step === 'merkle' && s.ok) {
    return { step: 'merkle', ok: true, detail: `leaf ${proof.index + 1} of ${proof.batch.size} in batch ${proof.batch.id}, path of ${proof.path.length} hash${proof.path.length === 1 ? '' : 'es'} → root ${proof.batch.root}` };
  }
  if (s.step === 'anchor' && s.ok) return { step: 'anchor', ok: true, detail: `${s.detail} (${describeAnchor(proof.anchor, proof.batch.id)})` };
  return { step: s.step, ok: s.ok, detail: s.detail };
}

/** The same chain for a record in another node's ledger: its proof, kept at delivery, checked again now. */
async function verifyRemote(
  remote: { origin: string; proof: Proof },
  ctx: {
    messageHash: string | null; cid: string | null; steps: ChainStep[]; parts: VerifyParts;
    done: (proof?: Proof | null) => ChainResult; fail: (step: ChainStep['step'], detail: string) => ChainResult;
  },
): Promise<ChainResult> {
  const { proof, origin } = remote;
  const { record, seq } = proof;
  if (ctx.messageHash !== null && record.messageHash !== ctx.messageHash) {
    return ctx.fail('record', `the message was ALTERED: its sha256 ${short(ctx.messageHash)} differs from ${short(record.messageHash)} recorded in node ${origin}'s ledger record ${seq}`);
  }
  if (ctx.cid !== null && record.cid !== ctx.cid) return ctx.fail('record', `node ${origin}'s ledger record ${seq} names CID ${record.cid}, not ${ctx.cid}`);
  ctx.steps.push({
    step: 'record',
    ok: true,
    detail: `ledger record ${seq} of the sending node ${origin}: cid ${record.cid}, sender key ${record.sender}, accepted ${new Date(record.time).toISOString()}` +
      `${record.expires !== null ? `, expires ${new Date(record.expires).toISOString()}` : ''}${ctx.messageHash !== null ? ', message hash matches' : ''}`,
  });
  try {
    const bytes = await ctx.parts.storage.get(record.cid as Cid);
    ctx.steps.push({ step: 'ciphertext', ok: true, detail: `${record.cid}: ${bytes.byteLength} octets present, every block matches its hash` });
  } catch (error) {
    if (!(error instanceof SealpostError)) throw error;
    ctx.steps.push({ step: 'ciphertext', ok: false, detail: error.message });
  }
  const verification = await verifyRemoteProof(ctx.parts.ledger, proof, origin);
  for (const s of verification.steps) ctx.steps.push(toChainStep(s, proof));
  return ctx.done(proof);
}
