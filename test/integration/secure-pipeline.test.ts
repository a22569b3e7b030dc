// The secure pipeline end to end on loopback with real clients and real
// parts (embedded Helia, the local Merkle ledger, GnuPG, the CLI):
// nodemailer submits, imapflow reads; the recipient's copy is the original
// byte for byte; nothing in the data directory holds the plaintext; the
// stored object decrypts with gpg and the recipient's exported key; and
// `sealpost verify` proves a saved .eml, and fails for an altered message,
// an altered ledger record and an altered block.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { stripView } from '../../src/pipeline/view.ts';
import type { Cid } from '../../src/storage/types.ts';
import { blockFile } from '../helpers/blocks.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { gpgHome } from '../helpers/gpg.ts';
import { imapClient as imap, inboxSources, smtpClient as smtp } from '../helpers/clients.ts';
import { startSealpost, type SealpostServer } from '../helpers/sealpost.ts';

const alice = { user: 'alice@example.test', password: 'alice-secret-1' };
const bob = { user: 'bob@example.test', password: 'bob-secret-22' };
const carol = { user: 'carol@example.test', password: 'carol-secret-333' };



/** Builds the exact bytes a client would send, so the recipient's copy can be compared byte for byte. */
async function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

/**
 * Files under `dir` holding `needle`, found with grep(1) in its own process:
 * reading SQLite files from this process would drop the gateway's POSIX
 * locks on them (closing any descriptor of a file releases all of a
 * process's locks on it), which SQLite forbids.
 */
function filesContaining(dir: string, needle: string): string[] {
  const run = spawnSync('grep', ['-r', '-l', '-a', '-F', '--', needle, dir], { encoding: 'utf8' });
  if (run.status === 1) return [];
  if (run.status !== 0) throw new Error(`grep failed: ${run.stderr}`);
  return run.stdout.split('\n').filter((l) => l !== '');
}


test('a message is sealed, stored and anchored; the recipient reads the original; verify proves it', async (t) => {
  const server = await startSealpost({ users: [alice, bob, carol] });
  t.teardown(() => server.stop());
  const phrase = `purple-giraffe-${crypto.randomBytes(6).toString('hex')}`;
  const original = await compose({
    from: alice.user,
    to: bob.user,
    subject: 'Board minutes',
    text: `The board decided: ${phrase}.\r\nKeep it between us.\r\n`,
    attachments: [{ filename: 'minutes.txt', content: `attached ${phrase} too\n` }],
  });
  const sent = await smtp(server, alice).sendMail({ envelope: { from: alice.user, to: [bob.user] }, raw: original });
  t.deepEqual(sent.accepted, [bob.user]);
  t.regex(sent.response, /^250 2\.0\.0 Ok: queued as baf/);

  // Bob logs in: his key unlocks, the message is decrypted into INBOX.
  const bobImap = imap(server, bob);
  await bobImap.connect();
  t.teardown(() => bobImap.logout().catch(() => undefined));
  const [source] = await inboxSources(bobImap);
  if (source === undefined) return t.fail('no message in INBOX');
  const view = stripView(source);
  const { fields, removed } = view;
  const stored = Buffer.from(view.original);
  t.is(removed, 3);
  // What Sealpost keeps is the submitted message with its Received: field in front.
  t.is(stored.subarray(0, 9).toString(), 'Received:', 'Received: field first');
  const at = stored.indexOf(original);
  t.true(at > 0 && at + original.length === stored.length, 'then the submitted bytes, unchanged, to the end');
  t.regex(stored.subarray(0, at).toString(), /^Received: [^]*\r\n$/);
  const cid = fields.get('x-sealpost-cid') ?? '';
  t.regex(cid, /^baf[a-z2-7]+$/);
  t.regex(fields.get('x-sealpost-signature') ?? '', new RegExp(`^valid; signer=${alice.user}; fingerprint=[0-9A-F]{40}$`));
  t.regex(fields.get('x-sealpost-anchor') ?? '', /^local checkpoint \d+; signer=ed25519:\S+; root=[0-9a-f]{64}; record=1$/);

  // Nothing in the data directory holds the plaintext, while the gateway runs...
  t.deepEqual(filesContaining(server.dir, phrase), []);

  // ...the stored object is OpenPGP that GnuPG decrypts with Bob's exported key...
  const ciphertext = await server.gateway.storage.get(cid as Cid);
  const exported = await sealpostCli(['keys', 'export', '--data-dir', server.dir, '--address', bob.user, '--secret']);
  t.is(exported.code, 0, exported.stderr);
  const gpg = gpgHome(t);
  gpg.ok(['--pinentry-mode', 'loopback', '--passphrase', bob.password, '--import'], exported.stdout);
  const alicePub = await sealpostCli(['keys', 'export', '--data-dir', server.dir, '--address', alice.user]);
  gpg.ok(['--import'], alicePub.stdout);
  const decrypted = gpg.run(['--pinentry-mode', 'loopback', '--passphrase', bob.password, '--decrypt'], ciphertext);
  t.is(decrypted.code, 0, decrypted.stderr);
  t.true(decrypted.stdout.equals(stored), 'gpg --decrypt gives the original message');
  t.regex(decrypted.status, /GOODSIG/);

  // ...and verify proves the saved .eml.
  const eml = path.join(server.dir, '..', `${path.basename(server.dir)}-saved.eml`);
  fs.writeFileSync(eml, source);
  t.teardown(() => fs.rmSync(eml, { force: true }));
  const ok = await sealpostCli(['verify', '--data-dir', server.dir, eml]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  for (const step of ['message', 'record', 'ciphertext', 'merkle', 'anchor']) t.regex(ok.stdout, new RegExp(`^ok +${step} `, 'm'));
  t.regex(ok.stdout, /^verified: this exact message was recorded on /m);
  // Saved with Unix line endings, as some clients do: still verifies.
  fs.writeFileSync(eml, source.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  t.is((await sealpostCli(['verify', '--data-dir', server.dir, eml])).code, 0);
  // By Message-ID and by CID too.
  const messageId = /^Message-ID: <([^>]+)>/im.exec(original.toString())?.[1] ?? '';
  t.is((await sealpostCli(['verify', '--data-dir', server.dir, '--message-id', messageId])).code, 0);
  t.is((await sealpostCli(['verify', '--data-dir', server.dir, '--cid', cid])).code, 0);

  // An altered message fails at the record step, naming why.
  fs.writeFileSync(eml, Buffer.from(source.toString('latin1').replace('decided', 'declined'), 'latin1'));
  const altered = await sealpostCli(['verify', '--data-dir', server.dir, eml]);
  t.is(altered.code, 1);
  t.regex(altered.stdout, /^FAILED record .*ALTERED/m);

  // Carol has never logged in; her copy waits queued, sealed. Its block is then damaged on disk.
  const toCarol = await smtp(server, alice).sendMail({ from: alice.user, to: carol.user, subject: 'for carol', text: `secret ${phrase}\r\n` });
  const carolCid = /queued as (\S+)/.exec(toCarol.response)?.[1] ?? '';
  const file = blockFile(path.join(server.dir, 'ipfs'), carolCid);
  const block = fs.readFileSync(file);
  const middle = block.length >> 1;
  block[middle] = (block[middle] ?? 0) ^ 0xff;
  fs.writeFileSync(file, block);
  const status = await sealpostCli(['status', '--data-dir', server.dir]);
  t.regex(status.stdout, new RegExp(`${carol.user}\\n.*\\n {4}1 message waiting to be decrypted into INBOX`));
  // Two messages, plus the mailbox snapshots of the accounts that logged in (pipeline/snapshots.ts).
  const records = Number(/^Ledger: local checkpoints signed by the node key; (\d+) records in \d+ batch/m.exec(status.stdout)?.[1]);
  t.true(records >= 2, status.stdout);
  const corrupt = await sealpostCli(['verify', '--data-dir', server.dir, '--cid', carolCid]);
  t.is(corrupt.code, 1);
  t.regex(corrupt.stdout, /^FAILED ciphertext .*corrupt/m);
  // Carol sees a clear error message in place of the body, never wrong content.
  const carolImap = imap(server, carol);
  await carolImap.connect();
  t.teardown(() => carolImap.logout().catch(() => undefined));
  const [placeholder] = await inboxSources(carolImap);
  t.truthy(placeholder);
  t.regex(placeholder?.toString() ?? '', /^X-Sealpost-Error: block \S+ is corrupted/m);
  t.regex(placeholder?.toString() ?? '', /Subject: \[Sealpost\] A message could not be read/);

  // A record altered in the ledger fails verify.
  const db = new DatabaseSync(path.join(server.dir, 'ledger.db'));
  try {
    db.exec('DROP TRIGGER IF EXISTS records_immutable');
    const row = db.prepare('SELECT record FROM records WHERE seq = 1').get() as { record: string };
    const forged = row.record.replace(/"time":(\d+)/, (_m, n: string) => `"time":${Number(n) - 86_400_000}`);
    t.not(forged, row.record);
    db.prepare('UPDATE records SET record = ? WHERE seq = 1').run(forged);
  } finally {
    db.close();
  }
  const tampered = await sealpostCli(['verify', '--data-dir', server.dir, '--cid', cid]);
  t.is(tampered.code, 1);
  t.regex(tampered.stdout, /^FAILED (record|merkle) /m);
  t.regex(tampered.stdout, /^NOT verified/m);

  // And still no plaintext on disk after the gateway stops (WAL checkpointed).
  await server.gateway.close();
  t.deepEqual(filesContaining(server.dir, phrase), []);
});

test('verify gives a clear reason for a message it does not know', async (t) => {
  const server = await startSealpost({ users: [alice] });
  t.teardown(() => server.stop());
  const run = await sealpostCli(['verify', '--data-dir', server.dir, '--message-id', 'nobody@nowhere.test']);
  t.is(run.code, 1);
  t.regex(run.stdout, /^FAILED message +no message with Message-ID <nobody@nowhere\.test> was delivered/m);
  const usage = await sealpostCli(['verify', '--data-dir', server.dir]);
  t.is(usage.code, 2);
});
