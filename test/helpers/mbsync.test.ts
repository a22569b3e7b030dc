// Proves the mbsync scenario (two-way sync with isync) against a real Dovecot,
// in plain text and with STARTTLS, so that a failure against Sealpost points
// at Sealpost, not at the harness.
import test from 'ava';
import { startDovecot } from './dovecot.ts';
import { mbsyncScenario } from './mbsync-scenario.ts';

const user = 'sync@example.test';
const pass = 'p"ss w\\rd';

test('mbsync syncs two ways with Dovecot (no TLS)', async (t) => {
  const server = await startDovecot({ users: [{ user, password: pass }] });
  try {
    await mbsyncScenario(t, { host: server.host, port: server.port, user, pass, tls: 'none' });
  } finally {
    await server.stop();
  }
});

test('mbsync syncs two ways with Dovecot over STARTTLS', async (t) => {
  const server = await startDovecot({ users: [{ user, password: pass }], tls: true });
  try {
    await mbsyncScenario(t, { host: server.host, port: server.port, user, pass, tls: 'starttls', caFile: server.caFile ?? '' });
  } finally {
    await server.stop();
  }
});
