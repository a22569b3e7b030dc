// The control requests of an import (control/server.ts), served by the
// process that owns the data directory: the running gateway, so that clients
// see imported messages arrive, or `sealpost import` itself when no gateway
// runs. The account is named by address; its password unlocks it once.
import type { AccountService } from '../accounts/service.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import type { AccountId, MailStore, SpecialUse } from '../mailstore/types.ts';
import type { Importer } from '../pipeline/import.ts';
import type { Follows, FollowSource } from '../pipeline/follow.ts';
import { jsonBody, textField } from './body.ts';
import type { ControlHandler } from './server.ts';
import { decodeImportBatch } from './import-wire.ts';

const SPECIAL_USES: ReadonlySet<string> = new Set(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);

/** Hands numbered requests of a session on in order (a request waits at most 60 s for its predecessor). */
function createTurns(): { wait(session: string, seq: number): Promise<void>; done(session: string, seq: number): void } {
  const next = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  return {
    wait(session, seq) {
      if ((next.get(session) ?? 0) >= seq) return Promise.resolve();
      return new Promise((resolve) => {
        const key = `${session}#${seq}`;
        const timer = setTimeout(() => {
          waiting.delete(key);
          resolve();
        }, 60_000);
        waiting.set(key, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    done(session, seq) {
      next.set(session, Math.max(next.get(session) ?? 0, seq + 1));
      const key = `${session}#${seq + 1}`;
      waiting.get(key)?.();
      waiting.delete(key);
    },
  };
}

export function importRoutes(options: { store: MailStore; accounts: AccountService; importer: Importer; follows?: Follows; kind: 'gateway' | 'import' }): Record<string, ControlHandler> {
  const { store, accounts, importer } = options;
  const turns = createTurns();
  const account = async (address: unknown): Promise<AccountId> => {
    const found = await store.getAccount(textField(address, 'account'));
    if (found === null) throw new NotFoundError('account', `no account ${String(address)} on this node`);
    return found.id;
  };
  return {
    '/v1/ping': async () => ({ ok: true, kind: options.kind }),
    '/v1/import/unlock': async (body) => {
      const { account: address, password } = jsonBody(body);
      await accounts.authenticate(textField(address, 'account'), textField(password, 'password'), 'control-socket');
      return { ok: true };
    },
    '/v1/import/folder': async (body) => {
      const { account: address, name, specialUse, subscribed } = jsonBody(body);
      if (specialUse !== null && specialUse !== undefined && !SPECIAL_USES.has(String(specialUse))) throw new ValidationError('specialUse', 'must be an RFC 6154 special use or null');
      const box = await importer.folder(await account(address), {
        name: textField(name, 'name'), specialUse: (specialUse ?? null) as SpecialUse | null, subscribed: subscribed !== false,
      });
      return { name: box.name };
    },
    '/v1/import/known': async (body) => {
      const { account: address, sources } = jsonBody(body);
      if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) throw new ValidationError('sources', 'must be a list of source ids');
      return { known: [...(await importer.known(await account(address), sources as string[]))] };
    },
    /** the gateway keeps following an old IMAP account (the account must be unlocked: /v1/import/unlock first) */
    '/v1/import/follow': async (body) => {
      if (options.follows === undefined) throw new NotFoundError('route', 'only a running gateway follows an old account');
      const { account: address, source } = jsonBody(body);
      const s = source as Partial<FollowSource> | undefined;
      if (s === undefined || typeof s.host !== 'string' || typeof s.port !== 'number' || typeof s.user !== 'string' || typeof s.password !== 'string' ||
        !['tls', 'starttls', 'plain'].includes(String(s.security))) throw new ValidationError('source', 'must name host, port, security, user and password');
      await options.follows.add(await account(address), s as FollowSource);
      return { ok: true };
    },
    '/v1/import/batch': async (body, query) => {
      const id = await account(query.get('account'));
      const items = decodeImportBatch(body);
      // A client with batches in flight numbers them (session, seq); each is
      // handed to the importer only after the one before it, which keeps the
      // commit order (and so the UIDs) in the source's order.
      const session = query.get('session');
      const seq = Number(query.get('seq'));
      if (session === null || !Number.isSafeInteger(seq) || seq < 0) return { outcomes: await importer.importBatch(id, items) };
      await turns.wait(session, seq);
      const outcome = importer.importBatch(id, items);
      turns.done(session, seq);
      return { outcomes: await outcome };
    },
  };
}
