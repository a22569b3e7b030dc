// mbsync (Debian's isync) syncing a Sealpost mailbox two ways: the same
// scenario the harness proves against Dovecot (test/helpers/mbsync.test.ts).
import test from 'ava';
import { mbsyncScenario } from '../helpers/mbsync-scenario.ts';
import { startSealpost } from '../helpers/sealpost.ts';

const user = 'sync@example.test';
const pass = 'p"ss w\\rd';

test('mbsync syncs two ways with Sealpost over STARTTLS', async (t) => {
  const server = await startSealpost({ users: [{ user, password: pass }] });
  try {
    await mbsyncScenario(t, { host: server.host, port: server.ports.imap, user, pass, tls: 'starttls', caFile: server.caFile });
  } finally {
    await server.stop();
  }
});

test('mbsync syncs two ways with Sealpost without TLS on loopback', async (t) => {
  const server = await startSealpost({ users: [{ user, password: pass }] });
  try {
    await mbsyncScenario(t, { host: server.host, port: server.ports.imap, user, pass, tls: 'none' });
  } finally {
    await server.stop();
  }
});
