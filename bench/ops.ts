// Benchmark helper: the timed IMAP operations (issue 2, "Benchmark"), run
// identically against each server with the raw client, plus a check value per
// run so that a fast wrong answer cannot pass for a fast right one.
import { RawImapClient, quote } from '../test/helpers/imap-raw.ts';
import type { Target } from './servers.ts';

export interface Operation {
  name: string;
  /** the timed part; resolves with something both servers must agree on */
  run(target: Target, session: () => Promise<RawImapClient>): Promise<string>;
}

export async function openSession(target: Target, select = true): Promise<RawImapClient> {
  const client = await RawImapClient.connect({ host: target.host, port: target.port, timeoutMs: 300_000 });
  if (target.starttls) {
    const tls = await client.starttls();
    if (tls.status !== 'OK') throw new Error(`${target.name}: STARTTLS refused: ${tls.tagged}`);
  }
  const login = await client.login(target.user, target.pass);
  if (login.status !== 'OK') {
    throw new Error(`${target.name}: LOGIN refused: ${login.tagged}${target.starttls ? '' : ' (try --starttls)'}`);
  }
  if (select) await client.ok('SELECT INBOX');
  return client;
}

function count(responses: readonly Buffer[]): string {
  return `${responses.length} responses`;
}

function searchResult(untagged: Buffer): string {
  const line = /^\* SEARCH([ \d]*)\r?$/m.exec(untagged.toString('latin1'))?.[1] ?? '';
  const uids = line.trim().split(' ').filter((s) => s !== '');
  return uids.length <= 5 ? `uids ${uids.join(',')}` : `${uids.length} uids`;
}

export function operations(options: { messages: number; messageId: string; subjectWord: string; chunk: number }): Operation[] {
  return [
    {
      name: 'connect + LOGIN + SELECT INBOX',
      async run(target) {
        const client = await openSession(target, false);
        const select = await client.ok('SELECT INBOX');
        client.close();
        return /^\* (\d+) EXISTS/m.exec(select.untagged.toString())?.[1] ?? '?';
      },
    },
    {
      name: 'UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)',
      async run(_target, session) {
        const client = await session();
        const fetch = await client.ok('UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)');
        return count(fetch.responses);
      },
    },
    {
      name: 'UID SEARCH HEADER Message-ID <id>',
      async run(_target, session) {
        const client = await session();
        return searchResult((await client.ok(`UID SEARCH HEADER Message-ID ${quote(options.messageId)}`)).untagged);
      },
    },
    {
      name: `UID SEARCH SUBJECT "${options.subjectWord}"`,
      async run(_target, session) {
        const client = await session();
        return searchResult((await client.ok(`UID SEARCH SUBJECT ${quote(options.subjectWord)}`)).untagged);
      },
    },
    {
      name: `download every body (UID FETCH BODY.PEEK[], ${options.chunk} UIDs a command)`,
      async run(_target, session) {
        const client = await session();
        let bytes = 0;
        let responses = 0;
        for (let first = 1; first <= options.messages; first += options.chunk) {
          const fetch = await client.ok(`UID FETCH ${first}:${Math.min(first + options.chunk - 1, options.messages)} (BODY.PEEK[])`);
          bytes += fetch.untagged.length;
          responses += fetch.responses.length;
        }
        // response framing differs by a few bytes between servers (UID item order); count messages and MB
        return `${responses} messages, ${(bytes / 1e6).toFixed(0)} MB`;
      },
    },
  ];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
