// The IMAP listener: accepts connections (plain with STARTTLS, or implicit
// TLS as on port 993, RFC 8314 §3.2), enforces the connection limits and hands
// each socket to an ImapConnection.
import net from 'node:net';
import tls from 'node:tls';
import type { Account, AccountId } from '../mailstore/types.ts';
import { ImapConnection } from './connection.ts';
import type { SessionShared } from './session.ts';
import { DEFAULT_IMAP_LIMITS, type ImapLimits, type ImapServerOptions } from './types.ts';

export interface ImapServer extends net.Server {
  /** closes the listener and ends every open session with BYE */
  shutdown(): Promise<void>;
}

export function createImapServer(options: ImapServerOptions): ImapServer {
  const limits: ImapLimits = { ...DEFAULT_IMAP_LIMITS, ...options.limits };
  const perAccount = new Map<AccountId, number>();
  const connections = new Set<ImapConnection>();
  const log = options.logger.child({ proto: 'imap', tls: options.implicitTls ? 'implicit' : 'starttls' });

  const shared: SessionShared = {
    store: options.store,
    auth: options.auth,
    logger: log,
    limits,
    starttls: !options.implicitTls,
    acquireAccountSlot(account: Account): boolean {
      const n = perAccount.get(account.id) ?? 0;
      if (n >= limits.maxConnectionsPerAccount) return false;
      perAccount.set(account.id, n + 1);
      return true;
    },
    releaseAccountSlot(account: Account): void {
      const n = (perAccount.get(account.id) ?? 1) - 1;
      if (n <= 0) perAccount.delete(account.id);
      else perAccount.set(account.id, n);
    },
  };

  const onSocket = (socket: net.Socket): void => {
    socket.setNoDelay(true);
    const conn = new ImapConnection(socket, {
      shared,
      tls: options.tls,
      log: log.child({ remote: socket.remoteAddress }),
      onClose: () => connections.delete(conn),
    });
    if (connections.size >= limits.maxConnections) {
      void conn.bye('Too many connections, try again later');
      return;
    }
    connections.add(conn);
    void conn.greet();
  };

  const server = (options.implicitTls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, onSocket)
    : net.createServer(onSocket)) as ImapServer;
  if (options.implicitTls) {
    // A failed handshake must not take the process down.
    server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  }
  server.shutdown = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const c of connections) void c.bye('Server shutting down').finally(() => c.destroy());
    });
  };
  return server;
}
