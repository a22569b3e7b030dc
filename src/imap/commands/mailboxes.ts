// CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 3501 §6.3.3-7).
//   create = "CREATE" SP mailbox
//   delete = "DELETE" SP mailbox
//   rename = "RENAME" SP mailbox SP mailbox
//   subscribe = "SUBSCRIBE" SP mailbox ; unsubscribe = "UNSUBSCRIBE" SP mailbox
import { MAILBOX_DELIMITER as D } from '../../mailstore/types.ts';
import type { Session } from '../session.ts';
import { expectArgs, mailboxArg, requireMailbox } from './util.ts';
import { no, ok, type CommandSpec } from './types.ts';

/** Creates the superiors of `name` that do not exist yet (RFC 3501 §6.3.3 SHOULD). */
async function createParents(s: Session, name: string): Promise<void> {
  const parts = name.split(D);
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join(D);
    if (!(await s.store.getMailbox(s.account!.id, parent))) await s.store.createMailbox(s.account!.id, parent);
  }
}

export const create: CommandSpec = {
  name: 'CREATE',
  states: ['auth', 'selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 1, 1, 'CREATE mailbox');
    let name = mailboxArg(ctx.args[0]);
    // A trailing delimiter only declares the intent to create children (RFC 3501 §6.3.3).
    while (name.endsWith(D)) name = name.slice(0, -1);
    const s = ctx.session;
    if (name === '') return no('Empty mailbox name', 'CANNOT');
    if (await s.store.getMailbox(s.account!.id, name)) return no('Mailbox already exists', 'ALREADYEXISTS');
    await createParents(s, name);
    await s.store.createMailbox(s.account!.id, name);
    return ok('Create completed');
  },
};

export const deleteCommand: CommandSpec = {
  name: 'DELETE',
  states: ['auth', 'selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 1, 1, 'DELETE mailbox');
    const name = mailboxArg(ctx.args[0]);
    const s = ctx.session;
    if (name === 'INBOX') return no('INBOX cannot be deleted', 'CANNOT');
    const info = await requireMailbox(s, name);
    const all = await s.store.listMailboxes(s.account!.id);
    // Like Dovecot: refuse rather than leave a \Noselect placeholder behind.
    if (all.some((m) => m.name.startsWith(name + D))) return no('Mailbox has children, delete them first', 'HASCHILDREN');
    if (s.selected?.id === info.id) s.deselect();
    await s.store.deleteMailbox(info.id);
    return ok('Delete completed');
  },
};

export const rename: CommandSpec = {
  name: 'RENAME',
  states: ['auth', 'selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 2, 2, 'RENAME from to');
    const from = mailboxArg(ctx.args[0]);
    let to = mailboxArg(ctx.args[1]);
    while (to.endsWith(D)) to = to.slice(0, -1);
    const s = ctx.session;
    const info = await requireMailbox(s, from);
    if (to === '') return no('Empty mailbox name', 'CANNOT');
    if (to === from) return no('Source and destination are the same', 'ALREADYEXISTS');
    if (to.startsWith(from + D)) return no('Cannot move a mailbox into itself', 'CANNOT');
    if (await s.store.getMailbox(s.account!.id, to)) return no('Destination mailbox already exists', 'ALREADYEXISTS');
    await createParents(s, to);
    await s.store.renameMailbox(info.id, to);
    return ok('Rename completed');
  },
};

// RFC 3501 §6.3.6 lets a server refuse to subscribe unknown names; Dovecot accepts them, so do we.
function subscription(name: 'SUBSCRIBE' | 'UNSUBSCRIBE', subscribed: boolean): CommandSpec {
  return {
    name,
    states: ['auth', 'selected'],
    async handler(ctx) {
      expectArgs(ctx.args, 1, 1, `${name} mailbox`);
      await ctx.session.store.setSubscribed(ctx.session.account!.id, mailboxArg(ctx.args[0]), subscribed);
      return ok(`${name === 'SUBSCRIBE' ? 'Subscribe' : 'Unsubscribe'} completed`);
    },
  };
}

export const subscribe = subscription('SUBSCRIBE', true);
export const unsubscribe = subscription('UNSUBSCRIBE', false);
