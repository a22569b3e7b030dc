// SEARCH and UID SEARCH (RFC 3501 §6.4.4), with MODSEQ results (RFC 7162
// §3.1.5) and ESEARCH RETURN options (RFC 4731). Metadata decides first; the
// cached header, and the body only when a key needs it, are loaded per batch
// for the messages metadata could not decide.
import type { MessageRecord } from '../../mailstore/types.ts';
import { compileSearch, searchNeeds, type SearchInput } from '../search/evaluate.ts';
import { parseSearch, type SearchKey } from '../search/parse.ts';
import { formatSequenceSet } from '../protocol/seqset.ts';
import type { ResponseValue } from '../protocol/types.ts';
import { requireSelected } from './util.ts';
import { atom, ok, str, type CommandSpec } from './types.ts';

const BATCH = 2000;

function usesModSeq(key: SearchKey): boolean {
  switch (key.type) {
    case 'modseq': return true;
    case 'and': return key.keys.some(usesModSeq);
    case 'or': return usesModSeq(key.a) || usesModSeq(key.b);
    case 'not': return usesModSeq(key.key);
    default: return false;
  }
}

/** A text every matching message's decoded header must contain, when the
 *  search requires one (a header key, alone or in an AND): the store then
 *  rules out the other messages in SQL. */
function requiredHeaderText(key: SearchKey): string | null {
  if (key.type === 'header' && key.value !== '') return key.value.toLowerCase();
  if (key.type === 'and') {
    for (const k of key.keys) {
      const text = requiredHeaderText(k);
      if (text !== null) return text;
    }
  }
  return null;
}

export const search: CommandSpec = {
  name: 'SEARCH',
  states: ['selected'],
  uidForm: true,
  async handler(ctx) {
    const s = ctx.session;
    const selected = requireSelected(s);
    const program = parseSearch(ctx.args, { utf8: false });
    const withModSeq = usesModSeq(program.key);
    if (withModSeq) s.enabled.add('CONDSTORE');
    const needs = searchNeeds(program.key);
    const uids = selected.uids;
    const searchCtx = { maxSeq: uids.length, maxUid: uids.length > 0 ? uids[uids.length - 1]! : 0 };
    const compiled = compileSearch(program.key, searchCtx);
    const headerText = requiredHeaderText(program.key);
    const hits: number[] = [];
    let highest = 0;
    for (let i = 0; i < uids.length; i += BATCH) {
      const batch = uids.slice(i, i + BATCH);
      const records: MessageRecord[] = await s.store.getMessages(selected.id, batch, {
        header: needs.header,
        structure: needs.structure,
        ...(headerText !== null ? { headerContains: headerText } : {}),
      });
      for (const r of records) {
        const seq = selected.seqOf(r.uid);
        if (seq === 0) continue;
        const input: SearchInput = {
          seq, uid: r.uid, flags: r.flags, recent: selected.isRecent(r.uid), internalDate: r.internalDate, size: r.size, modSeq: r.modSeq,
          ...(r.header ? { header: r.header } : {}),
          ...(r.structure ? { structure: r.structure } : {}),
        };
        let hit = compiled.prematch(input);
        if (hit === null) {
          if (needs.body) input.body = await s.store.getBody(selected.id, r.uid);
          hit = compiled.matches(input);
        }
        if (hit) {
          hits.push(ctx.uid ? r.uid : seq);
          if (r.modSeq > highest) highest = r.modSeq;
        }
      }
    }
    if (program.returnOpts) {
      // RFC 4731 §3.1: ESEARCH carries the tag, UID when it was UID SEARCH, and the asked-for results.
      const out: ResponseValue[] = [atom('ESEARCH'), [atom('TAG'), str(ctx.tag)]];
      if (ctx.uid) out.push(atom('UID'));
      const r = program.returnOpts;
      if (hits.length > 0) {
        if (r.min) out.push(atom('MIN'), hits[0]!);
        if (r.max) out.push(atom('MAX'), hits[hits.length - 1]!);
        if (r.all) out.push(atom('ALL'), { type: 'raw', value: formatSequenceSet(hits) });
      }
      if (r.count) out.push(atom('COUNT'), hits.length);
      if (withModSeq && hits.length > 0) out.push(atom('MODSEQ'), highest);
      await ctx.send(out);
    } else {
      const out: ResponseValue[] = [atom('SEARCH'), ...hits];
      // RFC 7162 §3.1.5: with MODSEQ in the criteria, the highest mod-sequence of the result follows.
      if (withModSeq && hits.length > 0) out.push([atom('MODSEQ'), highest]);
      await ctx.send(out);
    }
    return ok('Search completed');
  },
};
