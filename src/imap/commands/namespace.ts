// NAMESPACE (RFC 2342) and ENABLE (RFC 5161).
//   namespace = "NAMESPACE"
//   enable    = "ENABLE" 1*(SP capability)
import { atomArg, expectArgs } from './util.ts';
import { atom, ok, type CommandSpec } from './types.ts';

export const namespace: CommandSpec = {
  name: 'NAMESPACE',
  states: ['auth', 'selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 0, 0, 'NAMESPACE');
    // One personal namespace with "/" as delimiter; no shared or other users' namespaces.
    await ctx.send([atom('NAMESPACE'), { type: 'raw', value: '(("" "/")) NIL NIL' }]);
    return ok('Namespace completed');
  },
};

const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC']);

export const enable: CommandSpec = {
  name: 'ENABLE',
  states: ['auth', 'selected'],
  async handler(ctx) {
    expectArgs(ctx.args, 1, 32, 'ENABLE capability...');
    const s = ctx.session;
    const now: string[] = [];
    for (const t of ctx.args) {
      const cap = atomArg(t, 'capability');
      // Unknown capabilities are ignored (RFC 5161 §3.1); QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
      if (!ENABLEABLE.has(cap) || s.enabled.has(cap)) continue;
      s.enabled.add(cap);
      now.push(cap);
    }
    await ctx.send([atom('ENABLED'), ...now.map(atom)]);
    return ok('Enabled');
  },
};
