// COPY and MOVE with their UID forms (RFC 3501 §6.4.7, RFC 6851 MOVE,
// RFC 4315 §3 COPYUID).
//   copy = "COPY" SP sequence-set SP mailbox ; move = "MOVE" SP sequence-set SP mailbox
import { formatSequenceSet } from '../protocol/seqset.ts';
import { atomArg, expectArgs, mailboxArg, requireSelected, resolveSet } from './util.ts';
import { atom, no, ok, type CommandContext, type CommandResult, type CommandSpec } from './types.ts';

async function copyOrMove(ctx: CommandContext, move: boolean): Promise<CommandResult> {
  expectArgs(ctx.args, 2, 2, `${ctx.name} sequence-set mailbox`);
  const s = ctx.session;
  const selected = requireSelected(s);
  const uids = resolveSet(selected, atomArg(ctx.args[0], 'sequence set'), ctx.uid);
  const name = mailboxArg(ctx.args[1]);
  const dest = await s.store.getMailbox(s.account!.id, name);
  if (!dest) return no(`Mailbox doesn't exist: ${name}`, 'TRYCREATE');
  if (move && selected.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
  if (uids.length === 0) return ok(`${move ? 'Move' : 'Copy'} completed (nothing matched)`);
  // Copies into the selected mailbox itself must show up as EXISTS in this reply.
  if (dest.id === selected.id) selected.dirty = true;
  if (!move) {
    const r = await s.store.copy(selected.id, uids, dest.id);
    if (r.map.length === 0) return ok('Copy completed');
    return ok('Copy completed', `COPYUID ${r.uidValidity} ${formatSequenceSet(r.map.map((p) => p[0]))} ${formatSequenceSet(r.map.map((p) => p[1]))}`);
  }
  await s.flushUpdates(true);
  const r = await s.store.move(selected.id, uids, dest.id);
  if (r.map.length > 0) {
    // RFC 6851 §4.3: COPYUID comes in an untagged OK before the expunges.
    const code = `[COPYUID ${r.uidValidity} ${formatSequenceSet(r.map.map((p) => p[0]))} ${formatSequenceSet(r.map.map((p) => p[1]))}]`;
    await ctx.send([atom('OK'), { type: 'raw', value: `${code} Moved` }]);
  }
  for (const u of selected.expungedBySelf(r.map.map((p) => p[0]), s.syncOptions(true))) await ctx.send(u);
  return ok('Move completed');
}

export const copy: CommandSpec = { name: 'COPY', states: ['selected'], uidForm: true, handler: (ctx) => copyOrMove(ctx, false) };
export const move: CommandSpec = { name: 'MOVE', states: ['selected'], uidForm: true, handler: (ctx) => copyOrMove(ctx, true) };
