// Checking another node's proof of one of its records (mail from another
// Sealpost node): the record hashes to its leaf and the Merkle path leads to
// the batch root (as for our own records); the root is anchored either on the
// chain, at the contract the proof names, or by a checkpoint that must be
// signed by the SENDING node's key (its node id), not by ours.
import { checkCheckpoint } from '../ledger/local-anchor.ts';
import type { Ledger, Proof, Verification } from '../ledger/types.ts';

export async function verifyRemoteProof(ledger: Pick<Ledger, 'verify'>, proof: Proof, origin: string): Promise<Verification> {
  const result = await ledger.verify(proof);
  if (proof.anchor.kind !== 'local') return result;
  const steps = result.steps.map((s) => (s.step === 'anchor' ? checkCheckpoint(proof.batch, proof.anchor, origin) : s));
  return { ok: steps.every((s) => s.ok), steps };
}
