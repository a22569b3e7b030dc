// APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 §3) and APPENDLIMIT (RFC 7889).
//   append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
import { parseDateTime } from '../protocol/datetime.ts';
import { ImapParseError, mailboxArg } from './util.ts';
import { parseFlagList } from './flags.ts';
import { no, ok, type CommandSpec } from './types.ts';

export const append: CommandSpec = {
  name: 'APPEND',
  states: ['auth', 'selected'],
  async handler(ctx) {
    const args = ctx.args;
    if (args.length < 2 || args.length > 4) throw new ImapParseError('Usage: APPEND mailbox [(flags)] [date-time] {size}');
    const name = mailboxArg(args[0]);
    const message = args[args.length - 1]!;
    if (message.type !== 'string') throw new ImapParseError('APPEND needs the message as a literal');
    let flags: string[] = [];
    let internalDate: Date | undefined;
    for (const opt of args.slice(1, -1)) {
      if (opt.type === 'list') flags = parseFlagList(opt);
      else if (opt.type === 'string') {
        try {
          internalDate = parseDateTime(Buffer.from(opt.value).toString('latin1'));
        } catch {
          throw new ImapParseError('Invalid date-time in APPEND');
        }
      } else throw new ImapParseError('Unexpected APPEND argument');
    }
    if (message.value.length === 0) return no('Cannot append an empty message', 'CANNOT');
    const s = ctx.session;
    const info = await s.store.getMailbox(s.account!.id, name);
    // TRYCREATE tells the client the mailbox is missing and CREATE may help (RFC 3501 §7.1).
    if (!info) return no(`Mailbox doesn't exist: ${name}`, 'TRYCREATE');
    const input = internalDate ? { raw: message.value, flags, internalDate } : { raw: message.value, flags };
    const r = await s.store.append(info.id, input);
    if (s.selected?.id === info.id) s.selected.dirty = true;
    return ok('Append completed', `APPENDUID ${r.uidValidity} ${r.uid}`);
  },
};
