// Test harness: a real submission server (smtp-server) on 127.0.0.1 port 0
// over the fake store, with two accounts and a generated certificate.
import type { AddressInfo } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { AccountService } from '../../src/accounts/service.ts';
import { generateTlsCertificate, type TlsMaterial } from '../../src/crypto/tls.ts';
import { silentLogger } from '../../src/log.ts';
import { createSubmissionServer, type SubmissionServerOptions } from '../../src/smtp/server.ts';
import { createFakeStore, type FakeStore } from '../helpers/fake-store.ts';
import { createLocalSubmitter } from './local-submitter.ts';

let tlsPromise: Promise<TlsMaterial> | undefined;
export function testTls(): Promise<TlsMaterial> {
  tlsPromise ??= generateTlsCertificate();
  return tlsPromise;
}

export const ALICE = { address: 'alice@example.org', password: 'alice-password' };
export const BOB = { address: 'bob@example.org', password: 'bob-password' };

export interface Harness {
  port: number;
  store: FakeStore;
  tls: TlsMaterial;
  server: SMTPServer;
  close(): Promise<void>;
  /** the raw messages in the INBOX / Sent of an account */
  folder(address: string, name: string): Promise<string[]>;
}

export async function startSubmission(options: Partial<Pick<SubmissionServerOptions, 'implicitTls' | 'maxMessageSize'>> & { maxFailuresPerUser?: number } = {}): Promise<Harness> {
  const store = createFakeStore();
  const accounts = new AccountService({
    store,
    logger: silentLogger(),
    limits: { failureDelayMs: 0, ...(options.maxFailuresPerUser !== undefined ? { maxFailuresPerUser: options.maxFailuresPerUser } : {}) },
  });
  await accounts.createAccount(ALICE);
  await accounts.createAccount(BOB);
  const tls = await testTls();
  const server = createSubmissionServer({
    submitter: createLocalSubmitter(store),
    auth: accounts,
    logger: silentLogger(),
    tls,
    implicitTls: options.implicitTls ?? false,
    ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
    closeTimeoutMs: 100,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    store,
    tls,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
    async folder(address, name) {
      const account = await store.getAccount(address);
      if (account === null) throw new Error(`no account ${address}`);
      const box = await store.getMailbox(account.id, name);
      if (box === null) throw new Error(`no mailbox ${name}`);
      return (store.messages.get(box.id) ?? []).map((m) => Buffer.from(m).toString('utf8'));
    },
  };
}
