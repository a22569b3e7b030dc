// Sender-defined expiry on the reading side (DESIGN.md "Expiry headers"):
// - the expiry clock expunges expiring messages from every mailbox at their
//   instant (the store tells IDLE sessions, which send EXPUNGE, RFC 3501 §7.4.1);
// - the copy a sender's client APPENDs to Sent (RFC 3501 §6.3.11) expires
//   with the message it sent.
// Messages are timed by this node's own clock; `now` is injectable for tests.
import type { Logger } from 'pino';
import type { AppendInput, MailboxId, MailStore } from '../mailstore/types.ts';
import { headerFields, headerValue, messageIdOf, parseRelative } from './message.ts';

export interface ExpiryClock {
  /** Expunges what is due now; resolves with how many messages went. */
  tick(): Promise<number>;
  close(): Promise<void>;
}

export interface ExpiryClockOptions {
  store: Pick<MailStore, 'expireMessages' | 'nextExpiry'>;
  logger: Logger;
  now?: () => number;
  /** longest sleep between looks at the next expiry, ms (default 1000): a
   *  message stored meanwhile with an earlier expiry waits at most this long */
  intervalMs?: number;
}

/** Starts the clock; its timer does not keep the process alive. */
export function startExpiryClock(options: ExpiryClockOptions): ExpiryClock {
  const { store } = options;
  const log = options.logger.child({ part: 'expiry' });
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 1000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let closed = false;

  async function run(): Promise<number> {
    const next = await store.nextExpiry();
    if (next === null || next > now()) return 0;
    const count = await store.expireMessages(now());
    if (count > 0) log.info({ messages: count }, 'expired messages removed');
    return count;
  }

  function tick(): Promise<number> {
    // One pass at a time: a second caller waits for the running one, then looks again.
    const previous = running ?? Promise.resolve(0);
    const pass = previous.catch(() => 0).then(run);
    running = pass.finally(() => {
      if (running === pass) running = null;
    });
    return pass;
  }

  async function schedule(): Promise<void> {
    if (closed) return;
    let wait = interval;
    try {
      await tick();
      const next = await store.nextExpiry();
      if (next !== null) wait = Math.max(0, Math.min(interval, next - now()));
    } catch (error) {
      log.error({ err: error }, 'expiring messages failed; trying again');
    }
    if (closed) return;
    timer = setTimeout(() => void schedule(), wait);
    timer.unref();
  }
  void schedule();

  return {
    tick,
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/**
 * The expiry of a message a client APPENDs: the one remembered for a message
 * this account sent (same Message-ID), else a "[expires …]" subject tag
 * counted from the message's Date:. A plain Expires: header is NOT honoured
 * here: on an old newsletter dragged into a folder it would delete mail the
 * user meant to keep.
 */
export async function appendedExpiry(store: Pick<MailStore, 'sentExpiry'>, accountId: Parameters<MailStore['sentExpiry']>[0], raw: Uint8Array): Promise<number | null> {
  const fields = headerFields(raw);
  const messageId = messageIdOf(fields);
  if (messageId !== null) {
    const remembered = await store.sentExpiry(accountId, messageId);
    if (remembered !== null) return remembered;
  }
  const tag = /\[expires\s+([^\]]*)\]/i.exec(headerValue(fields, 'subject') ?? '');
  const relative = tag === null ? null : parseRelative(tag[1] as string);
  if (relative === null) return null;
  const date = Date.parse(headerValue(fields, 'date') ?? '');
  return Number.isNaN(date) ? null : date + relative;
}

/**
 * The store as IMAP sessions should see it: APPEND gives the message its
 * expiry (appendedExpiry) unless the caller set one. Everything else is the
 * store itself.
 */
export function withAppendExpiry<S extends MailStore>(store: S): S {
  const append = async (id: MailboxId, input: AppendInput) => {
    if (input.expires !== undefined && input.expires !== null) return store.append(id, input);
    const box = await store.getMailboxById(id);
    const expires = box === null ? null : await appendedExpiry(store, box.accountId, input.raw);
    return store.append(id, expires === null ? input : { ...input, expires });
  };
  return { ...store, append };
}
