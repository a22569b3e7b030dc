// LIST and LSUB (RFC 3501 §6.3.8-9), with LIST-EXTENDED selection and return
// options (RFC 5258), SPECIAL-USE attributes (RFC 6154) and CHILDREN (RFC 3348).
//   list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
//   lsub = "LSUB" SP mailbox SP list-mailbox
import { MAILBOX_DELIMITER as D, type MailboxInfo } from '../../mailstore/types.ts';
import type { ResponseValue, Token } from '../protocol/types.ts';
import { decodeMailboxName } from '../protocol/utf7.ts';
import { astring, atomArg, canonicalMailboxName, ImapParseError, listArg, wireMailboxName } from './util.ts';
import { atom, ok, str, type CommandContext, type CommandSpec } from './types.ts';
import { statusItems, parseStatusItems } from './status.ts';

/** Turns a LIST pattern into a matcher: "*" matches anything, "%" anything but the delimiter. */
export function patternMatcher(reference: string, pattern: string): (name: string) => boolean {
  let full = pattern;
  if (reference !== '' && !pattern.startsWith(D)) full = reference.endsWith(D) ? reference + pattern : reference + D + pattern;
  full = canonicalMailboxName(full);
  const source = full
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '%' ? `[^${D}]*` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, 'su');
  return (name) => re.test(name);
}

function decodePattern(t: Token | undefined, what: string): string {
  const wire = astring(t, what);
  try {
    return decodeMailboxName(wire);
  } catch {
    throw new ImapParseError(`${what} is not valid modified UTF-7`);
  }
}

interface ListRequest {
  reference: string;
  patterns: string[];
  selectSubscribed: boolean;
  selectSpecialUse: boolean;
  returnSubscribed: boolean;
  returnSpecialUse: boolean;
  returnStatus: ReturnType<typeof parseStatusItems> | null;
}

function parseList(args: Token[]): ListRequest {
  let i = 0;
  const req: ListRequest = { reference: '', patterns: [], selectSubscribed: false, selectSpecialUse: false, returnSubscribed: false, returnSpecialUse: false, returnStatus: null };
  if (args[0]?.type === 'list') {
    for (const t of args[0].items) {
      const opt = atomArg(t, 'selection option');
      if (opt === 'SUBSCRIBED') req.selectSubscribed = req.returnSubscribed = true;
      else if (opt === 'SPECIAL-USE') req.selectSpecialUse = req.returnSpecialUse = true;
      else if (opt !== 'RECURSIVEMATCH' && opt !== 'REMOTE') throw new ImapParseError(`Unknown LIST selection option ${opt}`);
    }
    i = 1;
  }
  req.reference = decodePattern(args[i], 'reference');
  const pat = args[i + 1];
  if (pat?.type === 'list') req.patterns = pat.items.map((p) => decodePattern(p, 'pattern'));
  else req.patterns = [decodePattern(pat, 'pattern')];
  let j = i + 2;
  if (args[j]) {
    if (atomArg(args[j], 'RETURN') !== 'RETURN') throw new ImapParseError('Expected RETURN');
    const opts = listArg(args[j + 1], 'return options');
    for (let k = 0; k < opts.length; k++) {
      const opt = atomArg(opts[k], 'return option');
      if (opt === 'SUBSCRIBED') req.returnSubscribed = true;
      else if (opt === 'SPECIAL-USE') req.returnSpecialUse = true;
      else if (opt === 'CHILDREN') continue; // always returned
      else if (opt === 'STATUS') req.returnStatus = parseStatusItems(listArg(opts[++k], 'STATUS items'));
      else throw new ImapParseError(`Unknown LIST return option ${opt}`);
    }
    j += 2;
  }
  if (args.length !== j) throw new ImapParseError('Usage: LIST [(options)] reference pattern [RETURN (options)]');
  return req;
}

function attributes(m: MailboxInfo, all: MailboxInfo[], subscribed: Set<string>, req: { returnSubscribed: boolean; returnSpecialUse: boolean }): string[] {
  const attrs: string[] = [];
  const hasChildren = all.some((o) => o.name.startsWith(m.name + D));
  attrs.push(hasChildren ? '\\HasChildren' : '\\HasNoChildren');
  // RFC 6154 §2 lets a server always include special-use attributes; Outlook and Thunderbird look for them in plain LIST.
  if (m.specialUse) attrs.push(m.specialUse);
  if (req.returnSubscribed && subscribed.has(m.name)) attrs.push('\\Subscribed');
  return attrs;
}

async function list(ctx: CommandContext, lsub: boolean): Promise<void> {
  const s = ctx.session;
  const req = lsub ? { ...parseList(ctx.args.slice(0, 2)), selectSubscribed: true } : parseList(ctx.args);
  if (lsub && ctx.args.length !== 2) throw new ImapParseError('Usage: LSUB reference pattern');
  const command = lsub ? 'LSUB' : 'LIST';
  // LIST "" "" asks for the delimiter and root (RFC 3501 §6.3.8).
  if (req.patterns.length === 1 && req.patterns[0] === '') {
    await ctx.send([atom(command), [atom('\\Noselect')], str(D), str('')]);
    return;
  }
  const accountId = s.account!.id;
  const all = await s.store.listMailboxes(accountId);
  const subscribed = new Set(await s.store.listSubscriptions(accountId));
  const matchers = req.patterns.map((p) => patternMatcher(req.reference, p));
  const matches = (name: string): boolean => matchers.some((m) => m(name));
  const byName = new Map(all.map((m) => [m.name, m]));
  for (const m of all) {
    if (!matches(m.name)) continue;
    if (req.selectSubscribed && !subscribed.has(m.name)) continue;
    if (req.selectSpecialUse && !m.specialUse) continue;
    const attrs = attributes(m, all, subscribed, lsub ? { returnSubscribed: false, returnSpecialUse: true } : req);
    await ctx.send([atom(command), attrs.map(atom), str(D), str(wireMailboxName(m.name))]);
    if (req.returnStatus) {
      const st = await s.store.status(m.id);
      await ctx.send([atom('STATUS'), str(wireMailboxName(m.name)), statusItems(req.returnStatus, st)]);
    }
  }
  // Subscribed names without a mailbox: \Noselect in LSUB, \NonExistent in LIST (SUBSCRIBED) (RFC 5258 §3.4).
  if (req.selectSubscribed) {
    for (const name of subscribed) {
      if (byName.has(name) || !matches(name)) continue;
      const attrs: ResponseValue[] = lsub ? [atom('\\Noselect')] : [atom('\\NonExistent'), atom('\\Subscribed')];
      await ctx.send([atom(command), attrs, str(D), str(wireMailboxName(name))]);
    }
  }
}

export const listCommand: CommandSpec = {
  name: 'LIST',
  states: ['auth', 'selected'],
  async handler(ctx) {
    await list(ctx, false);
    return ok('List completed');
  },
};

export const lsubCommand: CommandSpec = {
  name: 'LSUB',
  states: ['auth', 'selected'],
  async handler(ctx) {
    await list(ctx, true);
    return ok('Lsub completed');
  },
};
