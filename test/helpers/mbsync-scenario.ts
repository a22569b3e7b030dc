// Test scenario: isync's mbsync syncing a mailbox two ways with an IMAP server
// (new mail, flag changes, deletions, a folder created on each side). Written
// against an ImapPeer so the same steps prove Dovecot now and Sealpost later:
//   await mbsyncScenario(t, { host, port, user, pass, tls: 'none' });
import fs from 'node:fs';
import type { ExecutionContext } from 'ava';
import { RawImapClient, quote } from './imap-raw.ts';
import { addNearMessage, nearFolder, nearMessages, runMbsync, setNearFlags, writeMbsyncConfig, type ImapPeer, type MbsyncSetup } from './mbsync.ts';

function message(id: string, subject: string): Buffer {
  return Buffer.from(
    `From: Sender <sender@example.test>\r\nTo: someone@example.test\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${id}@mbsync.test>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n${subject}, body.\r\n`,
  );
}

const idOf = (raw: Buffer): string | undefined => /^Message-ID: <([^@>]+)@mbsync\.test>/im.exec(raw.toString('latin1'))?.[1];

/** Maps compare in insertion order: sort by key so that file or UID order does not matter. */
function sorted<V>(map: Map<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Message-ID (local part) -> flags, for every message of a far folder. */
async function farMessages(client: RawImapClient, folder: string): Promise<Map<string, string[]>> {
  await client.ok(`EXAMINE ${quote(folder)}`);
  const fetch = await client.ok('UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])');
  const result = new Map<string, string[]>();
  for (const response of fetch.responses) {
    const id = /Message-ID: <([^@>]+)@mbsync\.test>/i.exec(response.toString('latin1'))?.[1];
    const flags = /FLAGS \(([^)]*)\)/.exec(response.toString('latin1'))?.[1];
    if (id !== undefined && flags !== undefined) result.set(id, flags.split(' ').filter((f) => f !== '' && f !== '\\Recent').sort());
  }
  await client.ok('UNSELECT').catch(async () => client.ok('CLOSE'));
  return sorted(result);
}

/** Message-ID (local part) -> Maildir flags, for every message of a near folder. */
function nearIndex(setup: MbsyncSetup, folder: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const m of nearMessages(setup, folder)) {
    const id = idOf(m.raw);
    if (id !== undefined) result.set(id, m.flags);
  }
  return sorted(result);
}

function nearFind(setup: MbsyncSetup, folder: string, id: string) {
  const found = nearMessages(setup, folder).find((m) => idOf(m.raw) === id);
  if (found === undefined) throw new Error(`near ${folder} has no message ${id}`);
  return found;
}

/**
 * Runs the two-way sync scenario against `server`, whose account must have an
 * INBOX without messages whose Message-ID ends in "@mbsync.test" and no folders
 * named FarFolder or NearFolder.
 */
export async function mbsyncScenario(t: ExecutionContext, server: ImapPeer): Promise<void> {
  const setup = writeMbsyncConfig(server);
  const far = await RawImapClient.connect({ host: server.host, port: server.port });
  try {
    if (server.tls === 'starttls') t.is((await far.starttls()).status, 'OK', 'STARTTLS');
    t.is((await far.login(server.user, server.pass)).status, 'OK', 'far LOGIN');

    // 1. mail on the server reaches the Maildir, flags included
    await far.ok([`APPEND INBOX (\\Seen) `, { literal: message('m1', 'first') }]);
    await far.ok([`APPEND INBOX () `, { literal: message('m2', 'second') }]);
    await far.ok([`APPEND INBOX () `, { literal: message('m3', 'third') }]);
    await runMbsync(setup);
    t.deepEqual(nearIndex(setup, 'INBOX'), new Map([['m1', 'S'], ['m2', ''], ['m3', '']]), 'first sync: near INBOX');
    const m1 = nearFind(setup, 'INBOX', 'm1');
    // mbsync stores Maildir files with LF line ends and adds its own X-TUID
    // header (to find the copy again); the bytes are otherwise the server's
    t.is(m1.raw.toString('latin1').replace(/^X-TUID: .*\n/m, ''), message('m1', 'first').toString('latin1').replaceAll('\r\n', '\n'), 'body of m1');

    // 2. changes on both sides
    addNearMessage(setup, 'INBOX', message('m4', 'written near'), 'm4');
    setNearFlags(nearFind(setup, 'INBOX', 'm2'), 'F');
    fs.rmSync(nearFind(setup, 'INBOX', 'm3').file);
    addNearMessage(setup, 'NearFolder', message('m5', 'in a near folder'), 'm5');
    await far.ok('SELECT INBOX');
    await far.ok('STORE 1 +FLAGS (\\Answered)');
    await far.ok('UNSELECT').catch(async () => far.ok('CLOSE'));
    await far.ok([`APPEND INBOX () `, { literal: message('m6', 'sent far') }]);
    await far.ok('CREATE FarFolder');
    await far.ok([`APPEND FarFolder (\\Flagged) `, { literal: message('m7', 'in a far folder') }]);
    await runMbsync(setup);

    t.deepEqual(await farMessages(far, 'INBOX'), new Map([
      ['m1', ['\\Answered', '\\Seen']],
      ['m2', ['\\Flagged']],
      ['m4', []],
      ['m6', []],
    ]), 'second sync: far INBOX (near add, near flag, near deletion)');
    t.deepEqual(await farMessages(far, 'NearFolder'), new Map([['m5', []]]), 'folder created near exists far');
    t.deepEqual(nearIndex(setup, 'INBOX'), new Map([['m1', 'RS'], ['m2', 'F'], ['m4', ''], ['m6', '']]), 'second sync: near INBOX');
    t.deepEqual(nearIndex(setup, 'FarFolder'), new Map([['m7', 'F']]), 'folder created far exists near');

    // 3. a deletion and a flag removal on the server reach the Maildir
    await far.ok('SELECT INBOX');
    const search = await far.ok('UID SEARCH HEADER Message-ID "m6@mbsync.test"');
    const uid = /^\* SEARCH (\d+)/m.exec(search.untagged.toString())?.[1];
    t.truthy(uid, 'far finds m6');
    await far.ok(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
    await far.ok('EXPUNGE');
    await far.ok('STORE 1 -FLAGS.SILENT (\\Seen)');
    await far.ok('UNSELECT').catch(async () => far.ok('CLOSE'));
    await runMbsync(setup);
    t.deepEqual(nearIndex(setup, 'INBOX'), new Map([['m1', 'R'], ['m2', 'F'], ['m4', '']]), 'third sync: near INBOX');
    t.true(fs.existsSync(nearFolder(setup, 'NearFolder')));

    // 4. nothing left to do: a further sync changes nothing on either side
    await runMbsync(setup);
    t.deepEqual(nearIndex(setup, 'INBOX'), new Map([['m1', 'R'], ['m2', 'F'], ['m4', '']]), 'idempotent near');
    t.is((await farMessages(far, 'INBOX')).size, 3, 'idempotent far');
  } finally {
    await far.logout();
    setup.remove();
  }
}
