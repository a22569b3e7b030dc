// `sealpost verify`: prints the proof chain of one message (message hash →
// ledger record → ciphertext → Merkle path → anchor) and exits 1 naming the
// first step that fails. Works while the gateway runs (it only reads).
import fs from 'node:fs/promises';
import { openProofParts } from '../../app.ts';
import { verifyMessage, type VerifyInput } from '../../pipeline/verify.ts';
import { CommandFailed, DATA_DIR_OPTION, dataDirFrom, parseCommand, print, quietLogger, UsageError, type Command } from '../args.ts';

export const help = `Usage: sealpost verify [--data-dir DIR] (FILE.eml | - | --cid CID | --message-id ID) [--json]

Proves that a message was recorded in the ledger at the time it says and has
not been altered since: prints each step of the proof chain

  message     SHA-256 of the message (a saved .eml: X-Sealpost-* fields removed)
  record      the ledger record: CID, sender key, time; the hash must match
  ciphertext  the OpenPGP ciphertext in storage, every block checked by its CID
  merkle      the record's leaf and Merkle path up to the batch root
  anchor      where the root is anchored: a checkpoint signed by the node key,
              or a transaction on an EVM chain (checked on the chain)

and exits 0 when every step holds, 1 when one fails (saying why).

Examples:
  sealpost verify ~/Downloads/message.eml
  sealpost verify --cid bafkreigh2akiscaildc…
  sealpost verify --message-id 20261125.abc@example.org`;

const OPTIONS = { ...DATA_DIR_OPTION, cid: { type: 'string' }, 'message-id': { type: 'string' }, json: { type: 'boolean' } } as const;

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'prove a message was recorded and is unaltered',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand('verify', argv, OPTIONS, 1);
    if (values.help === true) return print(help);
    const given = [positionals[0] !== undefined, values.cid !== undefined, values['message-id'] !== undefined].filter(Boolean).length;
    if (given !== 1) throw new UsageError('verify', 'give exactly one of FILE.eml, -, --cid CID or --message-id ID');
    let input: VerifyInput;
    const file = positionals[0];
    if (file !== undefined) {
      let eml: Uint8Array;
      try {
        eml = file === '-' ? await readStdin() : await fs.readFile(file);
      } catch (error) {
        throw new UsageError('verify', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      if (eml.byteLength === 0) throw new UsageError('verify', `${file === '-' ? 'standard input' : file} is empty`);
      input = { eml, name: file === '-' ? 'standard input' : file };
    } else if (values.cid !== undefined) {
      input = { cid: values.cid };
    } else {
      input = { messageId: values['message-id'] ?? '' };
    }
    const parts = await openProofParts({ dataDir: dataDirFrom(values), logger: quietLogger() });
    let result;
    try {
      result = await verifyMessage(input, parts);
    } finally {
      await parts.close();
    }
    if (values.json === true) {
      print(JSON.stringify({ ok: result.ok, steps: result.steps, proof: result.proof }, null, 2));
    } else {
      for (const s of result.steps) print(`${s.ok ? 'ok    ' : 'FAILED'} ${s.step.padEnd(10)} ${s.detail}`);
      const failed = result.steps.find((s) => !s.ok);
      if (failed === undefined && result.proof !== null) {
        print(`verified: this exact message was recorded on ${new Date(result.proof.record.time).toISOString()} and has not been altered`);
      } else {
        print(`NOT verified: the ${failed?.step ?? 'proof'} step failed`);
      }
    }
    if (!result.ok) throw new CommandFailed();
  },
};
