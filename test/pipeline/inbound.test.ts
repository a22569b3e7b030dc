// pipeline/inbound.ts on its memory doubles (mail store, block storage,
// ledger) with real OpenPGP keys and a real key directory file: a delivery
// waits for its ledger batch to be anchored; a plaintext that does not match
// its ledger record becomes a placeholder (X-Sealpost-Error), never content;
// and keys.autocrypt decides whether a sender's key is learnt from an
// Autocrypt header (Autocrypt Level 1 §2.3) — before that the signature
// shows as "unknown key", afterwards as valid.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { KeyRing } from '../../src/accounts/keyring.ts';
import { encryptMessage, generateAccountKey, unlockPrivateKey, type AccountKey, type UnlockedKey } from '../../src/crypto/pgp.ts';
import { autocryptHeader } from '../../src/keys/autocrypt.ts';
import { openKeyDirectory, type KeyDirectory } from '../../src/keys/directory.ts';
import { openMemoryLedger, type MemoryLedger } from '../../src/ledger/local.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryMailStore } from '../../src/mailstore/memory.ts';
import type { Account, MailboxId, MailStore } from '../../src/mailstore/types.ts';
import { createInboundPipeline, type InboundPipeline } from '../../src/pipeline/inbound.ts';
import { stripView } from '../../src/pipeline/view.ts';
import { rfc5322Date } from '../../src/smtp/received.ts';
import { createMemoryStorage } from '../../src/storage/memory.ts';

const BOB = 'bob@example.test';
const EXT = 'ext@outside.test';
const PASSPHRASE = 'bob-key-passphrase';

interface Sender { key: AccountKey; unlocked: UnlockedKey }

/** The outside sender's key pair, made once for the file. */
let extKey: Promise<Sender> | undefined;
function ext(): Promise<Sender> {
  extKey ??= (async () => {
    const key = await generateAccountKey({ name: 'Ext', address: EXT, passphrase: 'ext-pass' });
    return { key, unlocked: await unlockPrivateKey(key.privateKey, 'ext-pass') };
  })();
  return extKey;
}

interface Setup {
  store: MailStore;
  bob: Account;
  inbox: MailboxId;
  directory: KeyDirectory;
  ledger: MemoryLedger;
  inbound: InboundPipeline;
  /** seals `message` from ext to bob the way pipeline/outbound.ts does and queues it; `hash` overrides the recorded SHA-256 */
  queue(message: Uint8Array, options?: { hash?: string }): Promise<{ cid: string; seq: number }>;
  /** INBOX messages, oldest first */
  inboxMessages(): Promise<Buffer[]>;
}

async function setup(t: ExecutionContext, options: { autocrypt: boolean }): Promise<Setup> {
  const logger = silentLogger();
  const store = createMemoryMailStore();
  t.teardown(() => store.close());
  const keyring = new KeyRing({ store, logger });
  const bobKey = await generateAccountKey({ name: 'Bob', address: BOB, passphrase: PASSPHRASE });
  const bob = await store.createAccount({ address: BOB, name: 'Bob', passwordHash: 'unused-here', ...bobKey });
  await keyring.unlock(bob, PASSPHRASE);
  const inbox = (await store.getMailbox(bob.id, 'INBOX'))?.id;
  if (inbox === undefined) throw new Error('no INBOX');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-inbound-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const directory = openKeyDirectory({ path: path.join(dir, 'keys.db'), store });
  t.teardown(() => directory.close());
  const storage = createMemoryStorage();
  // Batches close only on flush(): the test decides when a record is anchored.
  const ledger = await openMemoryLedger({ batchIntervalMs: 3_600_000 });
  t.teardown(() => ledger.close());
  const inbound = createInboundPipeline({ store, keyring, directory, storage, ledger, autocrypt: options.autocrypt, logger });
  t.teardown(() => inbound.close());
  const sender = await ext();
  return {
    store, bob, inbox, directory, ledger, inbound,
    async queue(message, queueOptions = {}) {
      const ciphertext = await encryptMessage({ data: message, encryptionKeys: [bobKey.publicKey], signingKey: sender.unlocked });
      const cid = await storage.put(ciphertext);
      const hash = queueOptions.hash ?? createHash('sha256').update(message).digest('hex');
      const { seq } = await ledger.append({ cid, messageHash: hash, sender: sender.key.fingerprint, time: Date.now(), expires: null });
      await store.enqueueDeliveries([{ accountId: bob.id, cid, seq, messageId: null }]);
      return { cid, seq };
    },
    async inboxMessages() {
      const out: Buffer[] = [];
      for (const { uid } of await store.listMessages(inbox)) out.push(Buffer.from(await store.getBody(inbox, uid)));
      return out;
    },
  };
}

/** A message from ext to bob carrying ext's Autocrypt header. */
async function fromExt(text: string, date = new Date()): Promise<Uint8Array> {
  const sender = await ext();
  return Buffer.from([
    `From: Ext <${EXT}>`,
    `To: <${BOB}>`,
    `Subject: ${text}`,
    `Date: ${rfc5322Date(date)}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@outside.test>`,
    `Autocrypt: ${autocryptHeader(EXT, sender.key.publicKey)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `${text}`,
    '',
  ].join('\r\n'));
}

/** Resolves once `check` holds, polling; fails after `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

for (const autocrypt of [true, false]) {
  test(`keys.autocrypt ${autocrypt ? 'on' : 'off'}: the sender's key is ${autocrypt ? '' : 'not '}learnt from the Autocrypt header; until then the signature is "unknown key"`, async (t) => {
    const s = await setup(t, { autocrypt });
    const sender = await ext();
    t.is(await s.directory.lookup(EXT), null);

    const first = await fromExt('first contact', new Date(Date.now() - 60_000));
    await s.queue(first);
    await s.ledger.anchor();
    await s.inbound.drain([s.bob.id]);
    const [delivered] = await s.inboxMessages();
    if (delivered === undefined) return t.fail('not delivered');
    const view = stripView(delivered);
    t.true(Buffer.from(view.original).equals(Buffer.from(first)), 'the original, byte for byte');
    t.regex(view.fields.get('x-sealpost-signature') ?? '', /^unknown key; keyid=[0-9A-F]{16}$/, 'the key was not known when the message was checked');

    const learnt = await s.directory.lookup(EXT);
    if (autocrypt) {
      t.is(learnt?.source, 'autocrypt');
      t.is(learnt?.fingerprint, sender.key.fingerprint);
    } else {
      t.is(learnt, null);
    }

    // The next message from ext: its signature now checks out only if the key was learnt.
    await s.queue(await fromExt('second message'));
    await s.ledger.anchor();
    await s.inbound.drain([s.bob.id]);
    const messages = await s.inboxMessages();
    t.is(messages.length, 2);
    const second = stripView(messages[1] ?? Buffer.alloc(0)).fields.get('x-sealpost-signature') ?? '';
    if (autocrypt) t.is(second, `valid; signer=${EXT}; fingerprint=${sender.key.fingerprint}`);
    else t.regex(second, /^unknown key; keyid=[0-9A-F]{16}$/);
  });
}

test('a plaintext that does not match its ledger record is delivered as a placeholder with X-Sealpost-Error', async (t) => {
  const s = await setup(t, { autocrypt: true });
  const phrase = `secret-${randomBytes(6).toString('hex')}`;
  const message = await fromExt(phrase);
  const { cid, seq } = await s.queue(message, { hash: createHash('sha256').update('some other message').digest('hex') });
  await s.ledger.anchor();
  await s.inbound.drain([s.bob.id]);
  const [placeholder] = await s.inboxMessages();
  if (placeholder === undefined) return t.fail('nothing delivered');
  const text = placeholder.toString('utf8');
  t.regex(text, /^X-Sealpost-Error: .*hash.*\r\n/m);
  t.regex(text, new RegExp(`^X-Sealpost-CID: ${cid}\r\n`, 'm'));
  t.regex(text, /^Subject: \[Sealpost\] A message could not be read\r\n/m);
  t.regex(text, new RegExp(`Ledger record: +${seq}\r\n`));
  t.false(text.includes(phrase), 'never the content');
  t.is(await s.directory.lookup(EXT), null, 'nothing learnt from a message that failed its check');
  t.deepEqual(await s.store.pendingDeliveries(s.bob.id, 10), [], 'the delivery is done, not retried forever');
});

test('a delivery whose record is not anchored yet waits; anchoring (ledger.flush) delivers it', async (t) => {
  const s = await setup(t, { autocrypt: false });
  const message = await fromExt('waiting for the anchor');
  await s.queue(message);
  await s.inbound.drain([s.bob.id]);
  t.deepEqual(await s.inboxMessages(), [], 'not delivered before its batch is anchored');
  t.is((await s.store.pendingDeliveries(s.bob.id, 10)).length, 1, 'still queued');
  await s.inbound.drainAll();
  t.deepEqual(await s.inboxMessages(), []);

  // No drain call from here: the anchoring itself brings the pipeline back.
  const batches = await s.ledger.anchor();
  t.is(batches.length, 1);
  t.true(await eventually(async () => (await s.inboxMessages()).length === 1), 'delivered once anchored');
  const [delivered] = await s.inboxMessages();
  const view = stripView(delivered ?? Buffer.alloc(0));
  t.true(Buffer.from(view.original).equals(Buffer.from(message)));
  t.regex(view.fields.get('x-sealpost-anchor') ?? '', /^local checkpoint \d+; signer=ed25519:\S+; root=[0-9a-f]{64}; record=1$/);
  t.deepEqual(await s.store.pendingDeliveries(s.bob.id, 10), []);
});
