// STORE and UID STORE (RFC 3501 §6.4.6) with UNCHANGEDSINCE and MODIFIED
// (RFC 7162 §3.1.3) and MODSEQ in the FETCH replies once CONDSTORE is on.
//   store = "STORE" SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-value ")"]
//           SP ("+" / "-") "FLAGS" [".SILENT"] SP (flag-list / (flag *(SP flag)))
import type { FlagMode, ModSeq } from '../../mailstore/types.ts';
import type { ResponseValue } from '../protocol/types.ts';
import { formatSequenceSet } from '../protocol/seqset.ts';
import { atomArg, ImapParseError, listArg, numberArg, requireSelected, resolveSet } from './util.ts';
import { parseFlagList } from './flags.ts';
import { atom, no, ok, type CommandSpec } from './types.ts';

export const store: CommandSpec = {
  name: 'STORE',
  states: ['selected'],
  uidForm: true,
  async handler(ctx) {
    const s = ctx.session;
    const selected = requireSelected(s);
    const args = ctx.args;
    let i = 1;
    let unchangedSince: number | undefined;
    if (args[1]?.type === 'list') {
      const mods = listArg(args[1], 'store modifiers');
      if (mods.length !== 2 || atomArg(mods[0], 'modifier') !== 'UNCHANGEDSINCE') throw new ImapParseError('Expected (UNCHANGEDSINCE modseq)');
      unchangedSince = numberArg(mods[1], 'UNCHANGEDSINCE');
      s.enabled.add('CONDSTORE'); // RFC 7162 §3.1: using a CONDSTORE modifier enables it
      i = 2;
    }
    const op = atomArg(args[i], 'FLAGS, +FLAGS or -FLAGS');
    const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
    if (!m) throw new ImapParseError(`Unknown STORE item ${op.slice(0, 30)}`);
    if (args.length < i + 2) throw new ImapParseError('STORE needs flags');
    // Flags may be a list or bare flags separated by spaces.
    const flags = args.length === i + 2 ? parseFlagList(args[i + 1]) : parseFlagList({ type: 'list', items: args.slice(i + 1) });
    const mode: FlagMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
    const silent = m[2] !== undefined;
    const uids = resolveSet(selected, atomArg(args[0], 'sequence set'), ctx.uid);
    if (selected.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
    if (uids.length === 0) return ok('Store completed');
    const r = await s.store.storeFlags(selected.id, uids, mode, flags, unchangedSince as ModSeq | undefined);
    selected.noteReported(r.changed);
    const reportAll = !silent;
    const states = reportAll ? [...r.changed, ...r.unchanged].sort((a, b) => a.uid - b.uid) : s.condstore && unchangedSince !== undefined ? r.changed : [];
    for (const st of states) {
      const seq = selected.seqOf(st.uid);
      if (seq === 0) continue;
      const items: ResponseValue[] = [];
      if (ctx.uid) items.push(atom('UID'), st.uid);
      if (reportAll) items.push(atom('FLAGS'), selected.flagList(st.uid, st.flags));
      if (s.condstore) items.push(atom('MODSEQ'), [st.modSeq]);
      await ctx.send([seq, atom('FETCH'), items]);
    }
    if (r.modified.length > 0) {
      const set = ctx.uid ? formatSequenceSet(r.modified) : formatSequenceSet(r.modified.map((u) => selected.seqOf(u)).filter((n) => n > 0));
      return ok('Conditional store completed', `MODIFIED ${set}`);
    }
    return ok('Store completed');
  },
};
