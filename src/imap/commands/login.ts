// LOGIN (RFC 3501 §6.2.3) and AUTHENTICATE PLAIN / LOGIN (RFC 3501 §6.2.2,
// RFC 4616 PLAIN, SASL-IR RFC 4959). Plain-text credentials only after TLS or
// on loopback (RFC 3501 §11.1: LOGINDISABLED otherwise).
//   login        = "LOGIN" SP userid SP password
//   authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")] *(CRLF base64)
import { AuthError } from '../../errors/index.ts';
import type { Session } from '../session.ts';
import { astring, atomArg, expectArgs } from './util.ts';
import { bad, no, ok, type CommandContext, type CommandResult, type CommandSpec } from './types.ts';

async function finishLogin(ctx: CommandContext, user: string, pass: string): Promise<CommandResult> {
  const s: Session = ctx.session;
  let account;
  try {
    account = await s.shared.auth.authenticate(user, pass, s.io.remoteAddress);
  } catch (err) {
    if (err instanceof AuthError && err.code === 'AUTH_THROTTLED') return no('Too many failed logins, try again later', 'UNAVAILABLE');
    if (err instanceof AuthError) return no('Authentication failed', 'AUTHENTICATIONFAILED');
    throw err;
  }
  const refused = s.login(account);
  if (refused) return refused;
  s.log.info('logged in');
  return ok('Logged in', `CAPABILITY ${s.capabilities().join(' ')}`);
}

export const login: CommandSpec = {
  name: 'LOGIN',
  states: ['notauth'],
  async handler(ctx) {
    expectArgs(ctx.args, 2, 2, 'LOGIN user password');
    if (!ctx.session.plaintextAuthAllowed) return no('Use STARTTLS before LOGIN', 'PRIVACYREQUIRED');
    return finishLogin(ctx, astring(ctx.args[0], 'user name'), astring(ctx.args[1], 'password'));
  },
};

const CANCELLED = Symbol('cancelled');

/** Reads one SASL response line: base64, or "*" to cancel (RFC 3501 §6.2.2). */
async function readSasl(ctx: CommandContext, prompt: string): Promise<Buffer | typeof CANCELLED> {
  await ctx.continuation(prompt);
  const line = Buffer.from(await ctx.readLine()).toString('latin1').trim();
  if (line === '*') return CANCELLED;
  return decodeBase64(line);
}

function decodeBase64(text: string): Buffer {
  if (text === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new AuthError('AUTH_FAILED', 'Invalid base64 in SASL response');
  return Buffer.from(text, 'base64');
}

export const authenticate: CommandSpec = {
  name: 'AUTHENTICATE',
  states: ['notauth'],
  async handler(ctx) {
    expectArgs(ctx.args, 1, 2, 'AUTHENTICATE mechanism [initial-response]');
    const mech = atomArg(ctx.args[0], 'SASL mechanism');
    if (!ctx.session.plaintextAuthAllowed) return no('Use STARTTLS before AUTHENTICATE', 'PRIVACYREQUIRED');
    const initial = ctx.args[1] ? atomArg(ctx.args[1], 'initial response') : null;
    try {
      if (mech === 'PLAIN') {
        const resp = initial !== null ? decodeBase64(ctx.args[1]!.type === 'atom' ? ctx.args[1]!.value : '') : await readSasl(ctx, '');
        if (resp === CANCELLED) return bad('Authentication cancelled');
        // authzid NUL authcid NUL passwd (RFC 4616 §2); we do not support acting as another user.
        const parts = resp.toString('utf8').split('\0');
        if (parts.length !== 3) return bad('Malformed PLAIN response');
        const [authz, user, pass] = parts as [string, string, string];
        if (authz !== '' && authz.toLowerCase() !== user.toLowerCase()) return no('Proxy authorization is not supported', 'AUTHORIZATIONFAILED');
        return await finishLogin(ctx, user, pass);
      }
      if (mech === 'LOGIN') {
        const user = initial !== null ? decodeBase64(ctx.args[1]!.type === 'atom' ? ctx.args[1]!.value : '') : await readSasl(ctx, Buffer.from('Username:').toString('base64'));
        if (user === CANCELLED) return bad('Authentication cancelled');
        const pass = await readSasl(ctx, Buffer.from('Password:').toString('base64'));
        if (pass === CANCELLED) return bad('Authentication cancelled');
        return await finishLogin(ctx, user.toString('utf8'), pass.toString('utf8'));
      }
    } catch (err) {
      if (err instanceof AuthError && err.message.startsWith('Invalid base64')) return bad(err.message);
      throw err;
    }
    return no(`Unsupported authentication mechanism ${mech}`, 'CANNOT');
  },
};

