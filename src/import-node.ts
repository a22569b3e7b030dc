// Where `sealpost import` sends its messages: to the process that owns the
// data directory. When the gateway runs, that is the gateway (over the control
// socket), so that only one process ever writes the ledger and storage and
// connected clients see the messages arrive (IDLE). When it does not, this
// process opens the node itself (storage, ledger, mail store, OpenPGP
// workers) and holds the control socket meanwhile, so that a gateway started
// during the import refuses instead of writing beside it.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { openLedger, openNode, openStorage } from './app.ts';
import { dataPaths } from './config/paths.ts';
import { loadConfig } from './config/config.ts';
import { connectControl, type ControlClient } from './control/client.ts';
import { importRoutes } from './control/import-routes.ts';
import { encodeImportBatch } from './control/import-wire.ts';
import { startControlServer } from './control/server.ts';
import { createPgpPool } from './crypto/pgp-pool.ts';
import type { ImportTarget } from './migrate/run.ts';
import { createImporter, type ImportOutcome } from './pipeline/import.ts';
import type { FollowSource } from './pipeline/follow.ts';

export interface ImportSession {
  target: ImportTarget;
  /** the running gateway keeps following an old IMAP account (absent without a gateway) */
  follow?: (source: FollowSource) => Promise<void>;
  /** who does the work: the running gateway, or this process */
  via: 'gateway' | 'offline';
  close(): Promise<void>;
}

function remoteTarget(client: ControlClient, account: string): ImportTarget {
  // Batches may be in flight together; the gateway hands them to its importer in this order.
  const session = randomUUID();
  let seq = 0;
  return {
    folder: async (target) => (await client.call<{ name: string }>('/v1/import/folder', { account, ...target })).name,
    known: async (sources) => new Set((await client.call<{ known: string[] }>('/v1/import/known', { account, sources })).known),
    importBatch: async (items) => (await client.call<{ outcomes: ImportOutcome[] }>('/v1/import/batch', encodeImportBatch(items), { account, session, seq: String(seq++) })).outcomes,
  };
}

/**
 * Opens an import into `account`, unlocked with its password.
 * @throws NotFoundError (not initialised, no such account), AuthError (wrong password),
 *   ControlBusyError (the directory's owner stopped answering mid-way)
 */
export async function openImportSession(options: { dataDir: string; account: string; password: string; logger: Logger }): Promise<ImportSession> {
  const paths = dataPaths(options.dataDir);
  await loadConfig(paths.config); // a clear "not initialised" before anything else
  const client = await connectControl(paths.controlSocket, { maxSockets: 2 });
  if (client !== null) {
    try {
      await client.call('/v1/import/unlock', { account: options.account, password: options.password });
    } catch (error) {
      client.close();
      throw error;
    }
    return {
      target: remoteTarget(client, options.account), via: 'gateway', close: async () => client.close(),
      follow: async (source) => {
        await client.call('/v1/import/follow', { account: options.account, source });
      },
    };
  }

  const node = await openNode({ dataDir: options.dataDir, logger: options.logger });
  const closers: Array<() => Promise<void>> = [() => node.close()];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (error) {
        options.logger.error({ err: error }, 'error while closing the import');
      }
    }
  };
  try {
    // The lock first: nothing is opened for writing while a gateway could start.
    const routes: Parameters<typeof startControlServer>[0]['routes'] = { '/v1/ping': async () => ({ ok: true, kind: 'import' }) };
    const control = await startControlServer({ path: paths.controlSocket, dir: paths.dir, routes, logger: node.logger });
    closers.push(() => control.close());
    const storage = await openStorage(node.paths, node.config, node.logger);
    closers.push(() => storage.close());
    const ledger = await openLedger(node.paths, node.config, node.logger);
    // Imported messages are anchored before the command ends (a closed ledger anchors its open batch only at the next start).
    closers.push(async () => {
      try {
        await ledger.anchor();
      } catch (error) {
        node.logger.warn({ err: (error as Error).message }, 'the last imported messages could not be anchored yet; the gateway anchors them when it starts');
      }
      await ledger.close();
    });
    // As many workers as CPUs: this process serves nobody else, and its main
    // thread mostly waits on them (measured: 415 → 560 messages/s on 2 cores).
    const pool = createPgpPool({ size: os.availableParallelism() });
    closers.push(() => pool.close());
    const importer = createImporter({ store: node.store, keyring: node.keyring, storage, ledger, logger: node.logger, encrypt: pool.encrypt, encryptMany: pool.encryptMany });
    Object.assign(routes, importRoutes({ store: node.store, accounts: node.accounts, importer, kind: 'import' }));
    await node.accounts.authenticate(options.account, options.password, 'cli');
    const account = await node.store.getAccount(options.account);
    if (account === null) throw new Error('BUG: an authenticated account is gone');
    return {
      via: 'offline',
      target: {
        folder: async (target) => (await importer.folder(account.id, target)).name,
        known: (sources) => importer.known(account.id, sources),
        importBatch: (items) => importer.importBatch(account.id, items),
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
