// Worker thread entry of crypto/pgp-pool.ts: runs pgp.ts encryptMessage on
// the jobs the pool posts and posts back the ciphertext (transferred) or the
// error (name, code, fingerprint), one reply per job.
// Signing keys arrive once per fingerprint as exportUnlockedKey bytes and
// stay here in memory only, until the pool says to forget them.
import { parentPort } from 'node:worker_threads';
import { SealpostError } from '../errors/index.ts';
import { encryptMessage, importUnlockedKey, PgpError, type UnlockedKey } from './pgp.ts';
import type { EncryptJob, JobResult, WireError } from './pgp-pool.ts';

const port = parentPort;
if (port === null) throw new Error('crypto/pgp-worker.ts runs as a worker thread of crypto/pgp-pool.ts');

const signingKeys = new Map<string, Promise<UnlockedKey>>();

function wire(error: unknown): WireError {
  if (error instanceof SealpostError) {
    return {
      name: error.name, code: error.code, message: error.message, stack: error.stack,
      ...(error instanceof PgpError && error.fingerprint !== undefined ? { fingerprint: error.fingerprint } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, code: null, message: error.message, stack: error.stack };
  return { name: 'Error', code: null, message: String(error), stack: undefined };
}

function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

async function run(job: EncryptJob, signingKey: Promise<UnlockedKey> | undefined): Promise<Uint8Array> {
  try {
    return await encryptMessage({ data: job.data, encryptionKeys: job.encryptionKeys, ...(signingKey === undefined ? {} : { signingKey: await signingKey }) });
  } finally {
    job.data.fill(0); // this thread's copy of the plaintext
  }
}

port.on('message', (job: EncryptJob | { stop: true }) => {
  // The pool's close(): no more jobs; the thread ends once what runs has finished.
  if ('stop' in job) {
    port.close();
    return;
  }
  // Everything that depends on the order of messages happens now, before any await:
  // a later message may forget or replace a key this job signs with.
  for (const fingerprint of job.forget) signingKeys.delete(fingerprint);
  if (job.key !== undefined && job.signingKey !== null) {
    const bytes = job.key;
    const imported = importUnlockedKey(bytes).finally(() => bytes.fill(0));
    imported.catch(() => undefined); // reported to the jobs that use it
    signingKeys.set(job.signingKey, imported);
  }
  const signingKey = job.signingKey === null ? undefined : (signingKeys.get(job.signingKey) ?? Promise.reject(new PgpError('PGP_BAD_KEY', 'the worker was not given this signing key', { fingerprint: job.signingKey })));
  (async () => {
    const first = await run(job, signingKey);
    // encryptMany: the rest of this share, one after another, answered together.
    const more: Uint8Array[] = [];
    for (const item of job.more ?? []) more.push(await run({ ...job, data: item.data, encryptionKeys: item.encryptionKeys }, undefined));
    return [first, ...more];
  })().then(
    (all) => {
      const [out, ...more] = all.map((data) => (ownsBuffer(data) ? data : new Uint8Array(data)));
      const result: JobResult = { id: job.id, ok: true, data: out as Uint8Array, ...(more.length === 0 ? {} : { more }) };
      port.postMessage(result, [out as Uint8Array, ...more].map((b) => b.buffer as ArrayBuffer));
    },
    (error: unknown) => {
      const result: JobResult = { id: job.id, ok: false, error: wire(error) };
      port.postMessage(result);
    },
  );
});
