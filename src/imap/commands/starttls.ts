// STARTTLS (RFC 3501 §6.2.1): upgrade after the tagged OK; the connection
// discards anything the client pipelined behind the command.
//   starttls = "STARTTLS"
import { expectArgs } from './util.ts';
import { bad, ok, type CommandSpec } from './types.ts';

export const starttls: CommandSpec = {
  name: 'STARTTLS',
  states: ['notauth'],
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'STARTTLS');
    const s = ctx.session;
    if (!s.shared.starttls || s.io.secure) return bad('TLS is already active');
    s.afterReply = () => s.io.startTls();
    return ok('Begin TLS negotiation now');
  },
};
