// STATUS (RFC 3501 §6.3.10), with HIGHESTMODSEQ (RFC 7162 §3.1.6) and SIZE (RFC 8438).
//   status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
import type { MailboxStatus } from '../../mailstore/types.ts';
import type { ResponseValue, Token } from '../protocol/types.ts';
import { atomArg, ImapParseError, expectArgs, listArg, mailboxArg, requireMailbox, wireMailboxName } from './util.ts';
import { atom, ok, str, type CommandSpec } from './types.ts';

const ITEMS = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'SIZE'] as const;
type StatusItem = (typeof ITEMS)[number];

export function parseStatusItems(tokens: Token[]): StatusItem[] {
  if (tokens.length === 0) throw new ImapParseError('STATUS needs at least one item');
  return tokens.map((t) => {
    const name = atomArg(t, 'status item');
    if (!(ITEMS as readonly string[]).includes(name)) throw new ImapParseError(`Unknown STATUS item ${name}`);
    return name as StatusItem;
  });
}

export function statusItems(items: readonly StatusItem[], st: MailboxStatus): ResponseValue[] {
  const out: ResponseValue[] = [];
  for (const item of items) {
    const value = {
      MESSAGES: st.messages,
      RECENT: st.recent,
      UIDNEXT: st.uidNext,
      UIDVALIDITY: st.uidValidity,
      UNSEEN: st.unseen,
      HIGHESTMODSEQ: st.highestModSeq,
      SIZE: st.size,
    }[item];
    out.push(atom(item), value);
  }
  return out;
}

export const status: CommandSpec = {
  name: 'STATUS',
  states: ['auth', 'selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 2, 2, 'STATUS mailbox (items)');
    const name = mailboxArg(ctx.args[0]);
    const items = parseStatusItems(listArg(ctx.args[1], 'status items'));
    const info = await requireMailbox(ctx.session, name);
    const st = await ctx.session.store.status(info.id);
    await ctx.send([atom('STATUS'), str(wireMailboxName(name)), statusItems(items, st)]);
    return ok('Status completed');
  },
};
