// One IMAP session (RFC 3501 §3, §5.1): its state, the logged-in account, the
// selected mailbox and enabled extensions; runs one command at a time, checks
// state, maps errors to replies and appends the untagged updates a command is
// allowed to carry (RFC 3501 §7.4.1, §5.5).
import type { Logger } from 'pino';
import type { Authenticator } from '../accounts/types.ts';
import type { Account, MailStore } from '../mailstore/types.ts';
import { findCommand } from './commands/index.ts';
import type { CommandContext, CommandResult, SessionState } from './commands/types.ts';
import { errorToResult } from './errors.ts';
import { parseCommand } from './protocol/parser.ts';
import type { ResponseValue } from './protocol/types.ts';
import type { SelectedMailbox, SyncOptions } from './selected.ts';
import type { ImapLimits } from './types.ts';

/** What the session needs from its connection. */
export interface SessionIO {
  /** queues a response; tagged and continuation responses are written at once */
  send(tag: string, values: ResponseValue[]): Promise<void>;
  /** writes queued untagged responses now (IDLE updates) */
  flush(): Promise<void>;
  readLine(): Promise<Uint8Array>;
  startTls(): Promise<void>;
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly loopback: boolean;
}

/** Server-wide state shared by sessions: connection counts per account. */
export interface SessionShared {
  store: MailStore;
  auth: Authenticator;
  logger: Logger;
  limits: ImapLimits;
  /** claims a connection slot for the account; false when over the limit */
  acquireAccountSlot(account: Account): boolean;
  releaseAccountSlot(account: Account): void;
  /** true when the server offers STARTTLS (plain listener) */
  starttls: boolean;
}

/** Commands during which EXPUNGE must not be sent (RFC 3501 §7.4.1). */
const NO_EXPUNGE = new Set(['FETCH', 'STORE', 'SEARCH']);

export class Session {
  state: SessionState = 'notauth';
  account: Account | null = null;
  selected: SelectedMailbox | null = null;
  readonly enabled = new Set<string>();
  readonly shared: SessionShared;
  readonly io: SessionIO;
  log: Logger;
  /** set by LOGOUT: the connection closes after the tagged reply */
  closing = false;
  /** run once the tagged reply is written (STARTTLS upgrades the socket here) */
  afterReply: (() => Promise<void>) | null = null;

  constructor(shared: SessionShared, io: SessionIO, log: Logger) {
    this.shared = shared;
    this.io = io;
    this.log = log;
  }

  get store(): MailStore {
    return this.shared.store;
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  syncOptions(allowExpunge: boolean): SyncOptions {
    return { allowExpunge, condstore: this.condstore, qresync: this.qresync };
  }

  /** LOGIN/AUTHENTICATE may be used: after TLS, or on a loopback connection. */
  get plaintextAuthAllowed(): boolean {
    return this.io.secure || this.io.loopback;
  }

  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE'];
    if (this.state === 'notauth') {
      if (this.shared.starttls && !this.io.secure) caps.push('STARTTLS');
      if (this.plaintextAuthAllowed) caps.push('AUTH=PLAIN', 'AUTH=LOGIN');
      else caps.push('LOGINDISABLED');
      return caps;
    }
    caps.push(
      'NAMESPACE', 'UNSELECT', 'UIDPLUS', 'MOVE', 'CHILDREN', 'SPECIAL-USE', 'LIST-EXTENDED',
      'CONDSTORE', 'QRESYNC', 'ESEARCH', `APPENDLIMIT=${this.shared.limits.maxLiteralSize}`,
    );
    return caps;
  }

  /** Marks the session authenticated as `account`, or refuses when over the connection limit. */
  login(account: Account): CommandResult | null {
    if (!this.shared.acquireAccountSlot(account)) {
      return { status: 'NO', code: 'LIMIT', text: 'Too many connections for this account' };
    }
    this.account = account;
    this.state = 'auth';
    this.log = this.log.child({ account: account.address });
    return null;
  }

  /** Leaves the selected state (CLOSE, UNSELECT, a new SELECT). */
  deselect(): void {
    this.selected?.close();
    this.selected = null;
    if (this.state === 'selected') this.state = 'auth';
  }

  /** Ends the session: releases the account slot and the mailbox. */
  end(): void {
    this.deselect();
    if (this.account) this.shared.releaseAccountSlot(this.account);
    this.account = null;
    this.state = 'logout';
  }

  /** Runs one framed command and writes its responses. Never throws. */
  async run(frame: Uint8Array): Promise<void> {
    let tag = '*';
    try {
      const parsed = parseCommand(frame);
      tag = parsed.tag;
      const spec = findCommand(parsed.name);
      if (!spec) return await this.reply(tag, { status: 'BAD', text: `Unknown command ${parsed.name.slice(0, 40)}` });
      if (!spec.states.includes(this.state)) {
        return await this.reply(tag, { status: 'BAD', text: `${parsed.name} not allowed ${stateText(this.state)}` });
      }
      const uid = parsed.name.startsWith('UID ');
      const ctx: CommandContext = {
        session: this,
        tag,
        name: parsed.name,
        uid,
        args: parsed.args,
        send: (values) => this.io.send('*', values),
        continuation: (text) => this.io.send('+', [{ type: 'raw', value: text }]),
        readLine: () => this.io.readLine(),
      };
      let result: CommandResult;
      try {
        result = await spec.handler(ctx);
      } catch (err) {
        result = errorToResult(err, this.log, parsed.name);
      }
      await this.flushUpdates(!NO_EXPUNGE.has(parsed.name));
      await this.reply(tag, result);
      const after = this.afterReply;
      this.afterReply = null;
      if (after) await after();
    } catch (err) {
      // Parse errors and anything thrown before the handler ran.
      const errTag = (err as { tag?: unknown }).tag;
      if (tag === '*' && typeof errTag === 'string') tag = errTag;
      await this.reply(tag, errorToResult(err, this.log, 'parse'));
    }
  }

  /** Sends the untagged updates for the selected mailbox. */
  async flushUpdates(allowExpunge: boolean): Promise<void> {
    if (!this.selected) return;
    const updates = await this.selected.sync(this.syncOptions(allowExpunge));
    for (const u of updates) await this.io.send('*', u);
  }

  async reply(tag: string, r: CommandResult): Promise<void> {
    const text = r.code ? `[${r.code}] ${r.text}` : r.text;
    await this.io.send(tag, [{ type: 'atom', value: r.status }, { type: 'raw', value: text }]);
  }
}

function stateText(state: SessionState): string {
  switch (state) {
    case 'notauth':
      return 'before login';
    case 'auth':
      return 'without a selected mailbox';
    case 'selected':
      return 'with a mailbox selected';
    case 'logout':
      return 'after logout';
  }
}
