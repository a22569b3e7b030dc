// IDLE (RFC 2177): push EXISTS/EXPUNGE/FETCH to the client as changes are
// committed, until the client sends DONE.
//   idle = "IDLE" CRLF "DONE"
import { expectArgs } from './util.ts';
import { bad, ok, type CommandSpec } from './types.ts';

export const idle: CommandSpec = {
  name: 'IDLE',
  states: ['auth', 'selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'IDLE');
    const s = ctx.session;
    const selected = s.selected;
    // Updates are flushed one batch at a time so that no change is reported twice.
    let chain: Promise<void> = Promise.resolve();
    const push = (): void => {
      chain = chain.then(() => s.flushUpdates(true)).then(() => s.io.flush()).catch((err: unknown) => s.log.error({ err }, 'IDLE update failed'));
    };
    await ctx.continuation('idling');
    if (selected) {
      selected.setChangeListener(push);
      push();
    }
    let line: Uint8Array;
    try {
      line = await ctx.readLine();
    } finally {
      selected?.setChangeListener(null);
    }
    await chain;
    const text = Buffer.from(line).toString('latin1').trim().toUpperCase();
    return text === 'DONE' ? ok('Idle completed') : bad('Expected DONE');
  },
};
