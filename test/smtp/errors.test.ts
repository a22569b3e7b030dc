// smtp/errors.ts: the one table from error codes to SMTP replies.
import test from 'ava';
import { AuthError, LimitError, NotFoundError, SealpostError } from '../../src/errors/index.ts';
import { pino } from 'pino';
import { toSmtpError } from '../../src/smtp/errors.ts';

function capture() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

test('known codes map to their replies without logging a bug', (t) => {
  const { log, lines } = capture();
  const cases: Array<[Error, number, RegExp]> = [
    [new AuthError('AUTH_FAILED', 'x'), 535, /^5\.7\.8 /],
    [new AuthError('AUTH_THROTTLED', 'x'), 454, /^4\.7\.0 /],
    [new LimitError('x'), 552, /^5\.3\.4 /],
    [new NotFoundError('account'), 550, /^5\.1\.1 /],
  ];
  for (const [error, code, text] of cases) {
    const reply = toSmtpError(error, log);
    t.is(reply.responseCode, code);
    t.regex(reply.message, text);
  }
  t.deepEqual(lines, []);
});

test('anything else is 451 4.3.0 and logged as a bug, without leaking its message to the client', (t) => {
  const { log, lines } = capture();
  for (const error of [new Error('disk on fire'), new SealpostError('WEIRD', 'odd'), 'a string']) {
    const reply = toSmtpError(error, log);
    t.is(reply.responseCode, 451);
    t.is(reply.message, '4.3.0 Local error in processing, try again later');
  }
  t.is(lines.length, 3);
  t.regex(lines[0] ?? '', /BUG/);
});
