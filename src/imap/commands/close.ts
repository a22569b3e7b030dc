// CHECK, CLOSE, UNSELECT, EXPUNGE and UID EXPUNGE (RFC 3501 §6.4.1-3,
// RFC 3691 UNSELECT, RFC 4315 §2.1 UID EXPUNGE).
import { atomArg, expectArgs, requireSelected, resolveSet } from './util.ts';
import { no, ok, type CommandSpec } from './types.ts';

export const check: CommandSpec = {
  name: 'CHECK',
  states: ['selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'CHECK');
    requireSelected(ctx.session).dirty = true;
    return ok('Check completed');
  },
};

export const close: CommandSpec = {
  name: 'CLOSE',
  states: ['selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'CLOSE');
    const s = ctx.session;
    const selected = requireSelected(s);
    // CLOSE expunges silently (no EXPUNGE responses) unless the mailbox is read-only.
    if (!selected.readOnly) await s.store.expunge(selected.id);
    s.deselect();
    return ok('Close completed');
  },
};

export const unselect: CommandSpec = {
  name: 'UNSELECT',
  states: ['selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'UNSELECT');
    ctx.session.deselect();
    return ok('Unselect completed');
  },
};

export const expunge: CommandSpec = {
  name: 'EXPUNGE',
  states: ['selected'],
  uidForm: true,
  async handler(ctx) {
    const s = ctx.session;
    const selected = requireSelected(s);
    if (ctx.uid) expectArgs(ctx.args, 1, 1, 'UID EXPUNGE sequence-set');
    else expectArgs(ctx.args, 0, 0, 'EXPUNGE');
    if (selected.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    const only = ctx.uid ? resolveSet(selected, atomArg(ctx.args[0], 'UID set'), true) : undefined;
    if (only && only.length === 0) return ok('Expunge completed (nothing matched)');
    // Report other sessions' changes first so that sequence numbers line up.
    await s.flushUpdates(true);
    const gone = await s.store.expunge(selected.id, only);
    for (const u of selected.expungedBySelf(gone, s.syncOptions(true))) await ctx.send(u);
    return ok('Expunge completed');
  },
};
