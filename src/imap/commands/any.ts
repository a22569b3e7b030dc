// Commands valid in any state: CAPABILITY, NOOP, LOGOUT (RFC 3501 §6.1) and
// ID (RFC 2971).
//   capability = "CAPABILITY"
//   command-any = "CAPABILITY" / "LOGOUT" / "NOOP" / x-command / id
//   id = "ID" SP id-params-list
import { expectArgs } from './util.ts';
import { atom, ok, str, type CommandSpec } from './types.ts';
import type { ResponseValue } from '../protocol/types.ts';

const ALL_STATES = ['notauth', 'auth', 'selected'] as const;

export const capability: CommandSpec = {
  name: 'CAPABILITY',
  states: ALL_STATES,
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'CAPABILITY');
    await ctx.send([atom('CAPABILITY'), ...ctx.session.capabilities().map(atom)]);
    return ok('Capability completed');
  },
};

// NOOP and CHECK exist to poll for updates; the session sends them after every command.
export const noop: CommandSpec = {
  name: 'NOOP',
  states: ALL_STATES,
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'NOOP');
    if (ctx.session.selected) ctx.session.selected.dirty = true;
    return ok('NOOP completed');
  },
};

export const logout: CommandSpec = {
  name: 'LOGOUT',
  states: ALL_STATES,
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'LOGOUT');
    await ctx.send([atom('BYE'), { type: 'raw', value: 'Sealpost logging out' }]);
    ctx.session.deselect();
    ctx.session.closing = true;
    return ok('Logout completed');
  },
};

/** RFC 2971 §3.3: we log what the client says about itself (useful in bug reports) and name ourselves. */
export const id: CommandSpec = {
  name: 'ID',
  states: ALL_STATES,
  async handler(ctx) {
    expectArgs(ctx.args, 1, 1, 'ID (params) | ID NIL');
    const arg = ctx.args[0]!;
    if (arg.type === 'list') {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < arg.items.length && i < 60; i += 2) {
        const k = arg.items[i]!;
        const v = arg.items[i + 1]!;
        if (k.type === 'string' && v.type === 'string') fields[Buffer.from(k.value).toString('utf8').slice(0, 30)] = Buffer.from(v.value).toString('utf8').slice(0, 100);
      }
      ctx.session.log.info({ client: fields }, 'client ID');
    }
    const ours: ResponseValue[] = [str('name'), str('Sealpost'), str('vendor'), str('Sealpost'), str('support-url'), str('https://sealpost.invalid/')];
    await ctx.send([atom('ID'), ours]);
    return ok('ID completed');
  },
};
