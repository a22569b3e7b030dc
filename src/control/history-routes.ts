// Control requests about an account's history (control/server.ts), served by
// the running gateway: `sealpost status` asks how many copies replicas hold,
// `sealpost backup` asks for a fresh snapshot first.
import { NotFoundError } from '../errors/index.ts';
import { jsonBody, textField } from './body.ts';
import type { History } from '../history-node.ts';
import type { MailStore } from '../mailstore/types.ts';
import type { ControlHandler } from './server.ts';

function addressOf(body: Uint8Array): string {
  return textField(jsonBody(body)['account'], 'account');
}

export function historyRoutes(options: { store: MailStore; history: History }): Record<string, ControlHandler> {
  const { store, history } = options;
  const find = async (address: string) => {
    const account = await store.getAccount(address);
    if (account === null) throw new NotFoundError('account', `no account ${address} on this node`);
    return account;
  };
  return {
    /** the latest snapshot and, in a network, what each replica holds */
    '/v1/history/status': async (body) => {
      const account = await find(addressOf(body));
      const latest = history.state.latest(account.address);
      const copies = history.replication === null ? null : await history.replication.copies((await store.getSecrets(account.id)).fingerprint);
      return { snapshot: latest, copies };
    },
    /** takes a snapshot now (the account must be unlocked: logged in since the gateway started) */
    '/v1/history/snapshot': async (body) => {
      const account = await find(addressOf(body));
      return { snapshot: await history.snapshotter.take(account.id, { force: false }) };
    },
  };
}
