// The shape of an IMAP command module: data plus one function (STYLE.md §3).
// The session checks the state and looks the command up; the handler gets its
// arguments as tokens and returns the tagged result. Untagged responses go
// through ctx.send, which applies socket back-pressure.
import type { Account } from '../../mailstore/types.ts';
import type { Token, ResponseValue } from '../protocol/types.ts';
import type { Session } from '../session.ts';

export type SessionState = 'notauth' | 'auth' | 'selected' | 'logout';

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  /** response code without brackets, e.g. "READ-WRITE" or "APPENDUID 3 7" */
  code?: string;
  text: string;
}

export interface CommandContext {
  session: Session;
  tag: string;
  /** full command name, e.g. "UID FETCH" */
  name: string;
  /** true for the UID form of FETCH/STORE/SEARCH/COPY/MOVE/EXPUNGE */
  uid: boolean;
  args: Token[];
  /** send an untagged response ("* ..."); await it for back-pressure in long loops */
  send(values: ResponseValue[]): Promise<void>;
  /** send a continuation request ("+ text") */
  continuation(text: string): Promise<void>;
  /** wait for the client's next line (AUTHENTICATE, IDLE DONE) */
  readLine(): Promise<Uint8Array>;
}

export interface CommandSpec {
  /** upper-case name as in ParsedCommand.name, e.g. "FETCH" (the UID form is registered by the same spec) */
  name: string;
  states: readonly SessionState[];
  /** whether a UID form exists (UID FETCH, ...) */
  uidForm?: boolean;
  handler(ctx: CommandContext): Promise<CommandResult>;
}

export const ok = (text: string, code?: string): CommandResult => (code === undefined ? { status: 'OK', text } : { status: 'OK', code, text });
export const no = (text: string, code?: string): CommandResult => (code === undefined ? { status: 'NO', text } : { status: 'NO', code, text });
export const bad = (text: string, code?: string): CommandResult => (code === undefined ? { status: 'BAD', text } : { status: 'BAD', code, text });

export { atom, str } from '../protocol/compiler.ts';

export type { Account };
