// Hostile and malformed input over real sockets: random bytes and random
// arguments for every command. The server must answer (BAD/NO), never crash,
// never answer with SERVERBUG (an unhandled exception), and keep serving.
import test from 'ava';
import { startHarness } from './harness.ts';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const COMMANDS = [
  'CAPABILITY', 'NOOP', 'ID', 'ENABLE', 'SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE',
  'LIST', 'LSUB', 'STATUS', 'APPEND', 'NAMESPACE', 'CHECK', 'UNSELECT', 'FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE',
  'UID FETCH', 'UID STORE', 'UID SEARCH', 'UID COPY', 'UID MOVE', 'UID EXPUNGE', 'EXPUNGE',
];
const TOKENS = [
  '1', '*', '1:*', '0', '4294967296', '2:1', '$', 'INBOX', '"INBOX"', 'Sent', '"a b"', '()', '(', ')', '((', 'NIL', '""', '&', '&Jjo-', '&-x',
  '(FLAGS)', 'FLAGS', '+FLAGS', '-FLAGS.SILENT', '(\\Seen)', '\\Bogus', 'BODY[]', 'BODY.PEEK[HEADER.FIELDS (From)]', 'BODY[1.2.3.MIME]<0.5>',
  'BODY[HEADER.FIELDS ()]', 'BINARY[1]', 'ENVELOPE', 'BODYSTRUCTURE', 'ALL', 'FAST', 'FULL', 'RFC822', 'MODSEQ', '(CHANGEDSINCE 1)',
  '(UNCHANGEDSINCE 0)', '(VANISHED)', 'CHARSET', 'UTF-8', 'KOI8-R', 'OR', 'NOT', 'HEADER', 'SUBJECT', 'SINCE', '1-Jan-2020', '31-Feb-2020',
  'LARGER', '-1', 'UID', 'RETURN', '(MIN MAX)', '(CONDSTORE)', '(QRESYNC (1 1))', 'CONDSTORE', 'QRESYNC', '{3}', '~{2}', '"\\"', '%', '*%*',
];

test('random arguments to every command: only BAD/NO/OK, never SERVERBUG, and the session survives', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const c = await h.login();
  const raw = 'From: a@b.test\r\nSubject: fuzz\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n';
  await c.cmd(`APPEND INBOX {${raw.length}+}\r\n${raw}`);
  await c.cmd('SELECT INBOX');
  const rand = prng(7);
  const seen: Record<string, number> = {};
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  for (let i = 0; i < 1500; i++) {
    const args = Array.from({ length: Math.floor(rand() * 5) }, () => pick(TOKENS)).filter((tok) => !/\{\d+\}$/.test(tok));
    const cmd = `${pick(COMMANDS)} ${args.join(' ')}`.trim();
    const r = await c.cmd(cmd);
    const status = /^T\d+ (OK|NO|BAD)/.exec(r.tagged)?.[1] ?? 'other';
    seen[status] = (seen[status] ?? 0) + 1;
    t.notRegex(r.tagged, /SERVERBUG/, `command: ${cmd}\n${r.all}`);
    if (r.tagged.includes('SERVERBUG')) break;
    // Keep a mailbox selected so that selected-state commands get exercised too.
    if (!/^T\d+ OK/.test(r.tagged) && /^(SELECT|EXAMINE)/.test(cmd)) await c.cmd('SELECT INBOX');
    if (/^(UNSELECT|CLOSE)/.test(cmd)) await c.cmd('SELECT INBOX');
  }
  t.regex((await c.cmd('NOOP')).tagged, /OK/);
  // The mix must reach the handlers, not only the parser.
  t.true((seen['OK'] ?? 0) > 100 && (seen['NO'] ?? 0) > 10 && (seen['BAD'] ?? 0) > 100, JSON.stringify(seen));
});

test('random bytes on new connections never take the server down', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const rand = prng(99);
  for (let n = 0; n < 20; n++) {
    const c = await h.connect();
    const bytes = Buffer.alloc(2000, 0);
    for (let i = 0; i < bytes.length; i++) {
      const r = rand();
      bytes[i] = r < 0.05 ? 13 : r < 0.1 ? 10 : r < 0.13 ? 0x7b : r < 0.16 ? 0x7d : Math.floor(rand() * 256);
    }
    c.write(bytes);
    c.write('\r\nZ1 NOOP\r\n');
    await c.readUntil((text) => { const m = /Z1 (OK|BAD|NO)[^\r\n]*\r\n/.exec(text); return m ? m.index + m[0].length : -1; }, 5000).catch(() => '');
    c.end();
  }
  const ok = await h.login();
  t.regex((await ok.cmd('NOOP')).tagged, /OK/);
});
