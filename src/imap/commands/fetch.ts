// FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2) with the CHANGEDSINCE and
// VANISHED modifiers (RFC 7162 §3.1.4.1, §3.2.6). Loads what the items need in
// batches (cached header/structure, the body only when asked for), sets \Seen
// for non-PEEK body fetches, and streams one FETCH response per message.
import type { MessageRecord, ModSeq, Uid } from '../../mailstore/types.ts';
import { fetchNeeds, parseFetchItems, type FetchItem } from '../fetch/items.ts';
import { renderFetch } from '../fetch/render.ts';
import { formatSequenceSet, sequenceSetMatcher } from '../protocol/seqset.ts';
import type { Token } from '../protocol/types.ts';
import { atomArg, ImapParseError, listArg, numberArg, requireSelected, resolveSet, sequenceSetArg } from './util.ts';
import { atom, ok, type CommandSpec } from './types.ts';

/** Messages loaded per store round trip: bounds memory for big mailboxes. */
const BATCH = 250;

interface Modifiers {
  changedSince: number | null;
  vanished: boolean;
}

function parseModifiers(t: Token | undefined): Modifiers {
  const mods: Modifiers = { changedSince: null, vanished: false };
  if (!t) return mods;
  const items = listArg(t, 'fetch modifiers');
  for (let i = 0; i < items.length; i++) {
    const name = atomArg(items[i], 'fetch modifier');
    if (name === 'CHANGEDSINCE') mods.changedSince = numberArg(items[++i], 'CHANGEDSINCE');
    else if (name === 'VANISHED') mods.vanished = true;
    else throw new ImapParseError(`Unknown FETCH modifier ${name}`);
  }
  return mods;
}

export const fetch: CommandSpec = {
  name: 'FETCH',
  states: ['selected'],
  uidForm: true,
  async handler(ctx) {
    if (ctx.args.length < 2 || ctx.args.length > 3) throw new ImapParseError(`Usage: ${ctx.name} sequence-set items [(modifiers)]`);
    const s = ctx.session;
    const selected = requireSelected(s);
    const items: FetchItem[] = parseFetchItems(ctx.args[1]!);
    const mods = parseModifiers(ctx.args[2]);
    if (mods.vanished && (!ctx.uid || !s.qresync || mods.changedSince === null)) {
      throw new ImapParseError('VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled');
    }
    if (mods.changedSince !== null) s.enabled.add('CONDSTORE');
    const setText = atomArg(ctx.args[0], 'sequence set');
    const uids = resolveSet(selected, setText, ctx.uid);
    const needs = fetchNeeds(items);
    // UID FETCH always reports UID; CHANGEDSINCE and CONDSTORE flag reports carry MODSEQ (RFC 7162 §3.1.4.1).
    const withUid = ctx.uid;
    const withModSeq = mods.changedSince !== null || needs.modSeq;

    if (mods.vanished && mods.changedSince !== null) {
      const changes = await s.store.changesSince(selected.id, mods.changedSince as ModSeq);
      // RFC 7162 §3.2.6: expunged UIDs that fall inside the requested UID set.
      const inSet = sequenceSetMatcher(sequenceSetArg(setText), selected.info.uidNext - 1);
      const gone = changes.expunged.filter(inSet);
      if (gone.length > 0) await ctx.send([atom('VANISHED'), [atom('EARLIER')], { type: 'raw', value: formatSequenceSet(gone) }]);
    }

    const markSeen = needs.setsSeen && !selected.readOnly;
    for (let i = 0; i < uids.length; i += BATCH) {
      const batch = uids.slice(i, i + BATCH);
      let records: MessageRecord[] = await s.store.getMessages(selected.id, batch, { structure: needs.structure, header: needs.header, summary: needs.summary });
      if (mods.changedSince !== null) records = records.filter((r) => r.modSeq > mods.changedSince!);
      let seenNow = new Set<Uid>();
      if (markSeen) {
        const unseen = records.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
        if (unseen.length > 0) {
          const res = await s.store.storeFlags(selected.id, unseen, 'add', ['\\Seen']);
          selected.noteReported(res.changed);
          const byUid = new Map(res.changed.map((c) => [c.uid, c]));
          records = records.map((r) => {
            const c = byUid.get(r.uid);
            return c ? { ...r, flags: c.flags, modSeq: c.modSeq } : r;
          });
          seenNow = new Set(byUid.keys());
        }
      }
      for (const r of records) {
        const seq = selected.seqOf(r.uid);
        if (seq === 0) continue;
        const body = needs.body ? await s.store.getBody(selected.id, r.uid) : undefined;
        const input = {
          uid: r.uid,
          flags: r.flags,
          recent: selected.isRecent(r.uid),
          internalDate: r.internalDate,
          size: r.size,
          modSeq: r.modSeq,
          ...(r.structure ? { structure: r.structure } : {}),
          ...(r.header ? { header: r.header } : {}),
          ...(r.summary ? { summary: r.summary } : {}),
          ...(body ? { body } : {}),
        };
        const values = renderFetch(items, input, { uid: withUid, modSeq: withModSeq || s.condstore && seenNow.has(r.uid), flags: seenNow.has(r.uid) });
        await ctx.send([seq, atom('FETCH'), values]);
      }
    }
    return ok('Fetch completed');
  },
};
