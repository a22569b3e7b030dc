// Real mail clients pointed at a test gateway: imapflow and nodemailer, both
// trusting the gateway's self-signed certificate (as a user who accepted it would).
import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { SealpostServer } from './sealpost.ts';

export interface Login { user: string; password: string }

/** IMAP over implicit TLS (port imaps), or STARTTLS on the plain port with `implicit` false. */
export function imapClient(server: SealpostServer, who: Login, implicit = true): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: implicit ? server.ports.imaps : server.ports.imap,
    secure: implicit,
    doSTARTTLS: implicit ? undefined : true,
    tls: { ca: [fs.readFileSync(server.caFile)], servername: 'localhost' },
    auth: { user: who.user, pass: who.password },
    logger: false,
  } as ConstructorParameters<typeof ImapFlow>[0]);
}

/** SMTP submission with STARTTLS required, or implicit TLS (port smtps) with `implicit` true. */
export function smtpClient(server: SealpostServer, who: Login, implicit = false) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: implicit ? server.ports.smtps : server.ports.smtp,
    secure: implicit,
    requireTLS: !implicit,
    tls: { ca: [fs.readFileSync(server.caFile)], servername: 'localhost' },
    auth: { user: who.user, pass: who.password },
  });
}

/** Every INBOX message's source, in sequence order. */
export async function inboxSources(client: ImapFlow): Promise<Buffer[]> {
  const lock = await client.getMailboxLock('INBOX');
  try {
    const out: Buffer[] = [];
    for await (const m of client.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
    return out;
  } finally {
    lock.release();
  }
}

/**
 * Logs in, and waits until the INBOX holds `count` messages (asking with NOOP:
 * a client learns of new mail only when it talks) or `ms` have passed; returns
 * the sources it has then.
 */
export async function waitForInbox(server: SealpostServer, who: Login, count: number, ms = 20_000): Promise<Buffer[]> {
  const client = imapClient(server, who);
  await client.connect();
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const sources = await inboxSources(client);
      if (sources.length >= count || Date.now() > deadline) return sources;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.noop();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
}
