// SELECT and EXAMINE (RFC 3501 §6.3.1-2) with the CONDSTORE select parameter
// (RFC 7162 §3.1.8) and QRESYNC (RFC 7162 §3.2.5: VANISHED (EARLIER) and
// changed flags since the client's last known MODSEQ).
//   select  = "SELECT" SP mailbox [SP "(" select-param *(SP select-param) ")"]
//   select-param = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
import type { ModSeq, Uid } from '../../mailstore/types.ts';
import { parseSequenceSet } from '../protocol/seqset.ts';
import type { ResponseValue, Token } from '../protocol/types.ts';
import { formatSequenceSet, sequenceSetMatcher } from '../protocol/seqset.ts';
import { SelectedMailbox } from '../selected.ts';
import { atomArg, ImapParseError, listArg, mailboxArg, numberArg, requireMailbox } from './util.ts';
import { atom, bad, ok, type CommandContext, type CommandResult, type CommandSpec } from './types.ts';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

interface QresyncParams {
  uidValidity: number;
  modSeq: number;
  knownUids: string | null;
}

function parseSelectParams(tokens: Token[]): { condstore: boolean; qresync: QresyncParams | null } {
  let condstore = false;
  let qresync: QresyncParams | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const name = atomArg(tokens[i], 'select parameter');
    if (name === 'CONDSTORE') condstore = true;
    else if (name === 'QRESYNC') {
      const items = listArg(tokens[++i], 'QRESYNC parameter');
      if (items.length < 2 || items.length > 4) throw new ImapParseError('QRESYNC needs (uidvalidity modseq [known-uids [seq-match]])');
      const knownTok = items[2];
      let knownUids: string | null = null;
      if (knownTok) {
        if (knownTok.type !== 'atom') throw new ImapParseError('Invalid known-uids');
        knownUids = knownTok.value;
        parseSequenceSet(knownUids); // validates
      }
      qresync = { uidValidity: numberArg(items[0], 'uidvalidity'), modSeq: numberArg(items[1], 'mod-sequence'), knownUids };
    } else throw new ImapParseError(`Unknown select parameter ${name}`);
  }
  return { condstore, qresync };
}

async function select(ctx: CommandContext, readOnly: boolean): Promise<CommandResult> {
  const s = ctx.session;
  if (ctx.args.length < 1 || ctx.args.length > 2) throw new ImapParseError(`Usage: ${ctx.name} mailbox [(params)]`);
  const name = mailboxArg(ctx.args[0]);
  const params = ctx.args[1] ? parseSelectParams(listArg(ctx.args[1], 'select parameters')) : { condstore: false, qresync: null };
  if (params.qresync && !s.qresync) return bad('QRESYNC must be enabled first (ENABLE QRESYNC)');
  // Selecting closes the current mailbox first, even if the new SELECT fails (RFC 3501 §6.3.1).
  if (s.selected) {
    s.deselect();
    await ctx.send([atom('OK'), { type: 'raw', value: '[CLOSED] Previous mailbox closed' }]);
  }
  const info = await requireMailbox(s, name);
  if (params.condstore) s.enabled.add('CONDSTORE');
  const mailbox = await SelectedMailbox.open(s.store, info, readOnly);
  s.selected = mailbox;
  s.state = 'selected';

  const keywords = new Set<string>();
  let firstUnseen = 0;
  mailbox.uids.forEach((uid, i) => {
    const flags = mailbox.flagsOf(uid);
    for (const f of flags) if (!f.startsWith('\\')) keywords.add(f);
    if (firstUnseen === 0 && !flags.includes('\\Seen')) firstUnseen = i + 1;
  });
  const flagList = [...SYSTEM_FLAGS, ...keywords].map(atom);
  await ctx.send([atom('FLAGS'), flagList]);
  const permanent = readOnly ? [] : [...flagList, atom('\\*')];
  await ctx.send([atom('OK'), { type: 'raw', value: `[PERMANENTFLAGS (${permanent.map((f) => (f as { value: string }).value).join(' ')})] Flags permitted` }]);
  await ctx.send([mailbox.exists, atom('EXISTS')]);
  await ctx.send([mailbox.recentCount, atom('RECENT')]);
  if (firstUnseen > 0) await ctx.send([atom('OK'), { type: 'raw', value: `[UNSEEN ${firstUnseen}] First unseen` }]);
  await ctx.send([atom('OK'), { type: 'raw', value: `[UIDVALIDITY ${mailbox.info.uidValidity}] UIDs valid` }]);
  await ctx.send([atom('OK'), { type: 'raw', value: `[UIDNEXT ${mailbox.info.uidNext}] Predicted next UID` }]);
  await ctx.send([atom('OK'), { type: 'raw', value: `[HIGHESTMODSEQ ${mailbox.knownModSeq}] Highest` }]);

  if (params.qresync && params.qresync.uidValidity === mailbox.info.uidValidity) {
    await sendQresync(ctx, mailbox, params.qresync);
  }
  return ok(`${readOnly ? 'Examine' : 'Select'} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

/** RFC 7162 §3.2.5.1: what changed since the client's MODSEQ, as VANISHED (EARLIER) and FETCH. */
async function sendQresync(ctx: CommandContext, mailbox: SelectedMailbox, q: QresyncParams): Promise<void> {
  const changes = await ctx.session.store.changesSince(mailbox.id, q.modSeq as ModSeq);
  let vanished: Uid[] = changes.expunged;
  if (q.knownUids !== null) {
    const inKnown = sequenceSetMatcher(parseSequenceSet(q.knownUids), mailbox.info.uidNext - 1);
    vanished = vanished.filter(inKnown);
  }
  if (vanished.length > 0) await ctx.send([atom('VANISHED'), [atom('EARLIER')], { type: 'raw', value: formatSequenceSet(vanished) }]);
  for (const m of changes.changed) {
    const seq = mailbox.seqOf(m.uid);
    if (seq === 0) continue;
    const items: ResponseValue[] = [atom('UID'), m.uid, atom('FLAGS'), mailbox.flagList(m.uid, m.flags), atom('MODSEQ'), [m.modSeq]];
    await ctx.send([seq, atom('FETCH'), items]);
  }
}

export const selectCommand: CommandSpec = {
  name: 'SELECT',
  states: ['auth', 'selected'],
  handler: (ctx) => select(ctx, false),
};

export const examineCommand: CommandSpec = {
  name: 'EXAMINE',
  states: ['auth', 'selected'],
  handler: (ctx) => select(ctx, true),
};
