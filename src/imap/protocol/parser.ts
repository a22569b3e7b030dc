// Parses one framed command into tag, name and argument tokens (RFC 3501 §9
// formal syntax: tag, atom, quoted, literal, parenthesised lists; RFC 7888
// "{n+}"; RFC 3516 "~{n}"; FETCH's "BODY[section]<partial>" per §6.4.5).
// Generic: it knows no command's grammar beyond "UID <command>".
import { ImapParseError, isValidTag } from './errors.ts';
import type { AtomToken, ListToken, ParsedCommand, Token } from './types.ts';

const SP = 0x20;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const TILDE = 0x7e;
const LT = 0x3c;
const GT = 0x3e;
const CR = 0x0d;
const LF = 0x0a;

/** Deeper nesting than any real command uses; bounds recursion on hostile input. */
const MAX_DEPTH = 64;
const MAX_LITERAL_DIGITS = 10;
const MAX_LITERAL = 0xffffffff;

/** Atoms whose "[" opens a FETCH section (RFC 3501 §6.4.5, RFC 3516 §4.2). */
const SECTION_ATOMS = new Set(['BODY', 'BODY.PEEK', 'BINARY', 'BINARY.PEEK', 'BINARY.SIZE']);

/** ATOM-CHAR (RFC 3501 §9) plus "\" (flags), "*" and "%" (LIST wildcards) and "]" (ASTRING-CHAR). */
const ATOM_CHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) ATOM_CHAR[c] = 1;
for (const c of [LPAREN, RPAREN, LBRACE, DQUOTE]) ATOM_CHAR[c] = 0;

const latin1 = new TextDecoder('latin1');

/** Why the command could not be parsed, with the tag when known.
 * @throws {ImapParseError} on any malformed input; never anything else. */
export function parseCommand(bytes: Uint8Array): ParsedCommand {
  const p = new Parser(bytes);
  try {
    return p.command();
  } catch (err) {
    if (err instanceof ImapParseError) throw err;
    // A bug in the parser must still be a BAD, not a crash of the session.
    throw new ImapParseError('Invalid command', p.tag, { cause: err });
  }
}

class Parser {
  private readonly b: Uint8Array;
  private pos = 0;
  tag: string | null = null;
  /** inside "[...]": atoms end at "]" */
  private inSection = false;

  constructor(bytes: Uint8Array) {
    this.b = bytes;
  }

  private fail(message: string): never {
    throw new ImapParseError(message, this.tag);
  }

  command(): ParsedCommand {
    const b = this.b;
    let end = b.indexOf(SP);
    if (end === -1) end = b.length;
    const tagText = latin1.decode(b.subarray(0, end));
    if (!isValidTag(tagText)) this.fail(b.length === 0 ? 'Empty command' : 'Invalid tag');
    this.tag = tagText;
    this.pos = end;
    if (this.pos >= b.length) this.fail('Missing command name');
    this.pos++;
    let name = this.commandName();
    if (name === 'UID') {
      if (b[this.pos] !== SP) this.fail('Missing command after UID');
      this.pos++;
      name = `UID ${this.commandName()}`;
    }
    const args: Token[] = [];
    if (this.pos < b.length) {
      if (b[this.pos] !== SP) this.fail(`Unexpected character after ${name}`);
      this.items(args, 0, -1);
    }
    return { tag: tagText, name, args };
  }

  private commandName(): string {
    const start = this.pos;
    const b = this.b;
    while (this.pos < b.length && isLetterOrDigit(b[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail('Missing command name');
    if (this.pos < b.length && b[this.pos] !== SP) this.fail('Invalid command name');
    return latin1.decode(b.subarray(start, this.pos)).toUpperCase();
  }

  /**
   * Reads space-separated tokens into `out` until `close` (")" or "]") or, with
   * close -1, the end of the command. Leaves pos after the closing byte.
   */
  private items(out: Token[], depth: number, close: number): void {
    const b = this.b;
    if (depth > MAX_DEPTH) this.fail('Too deeply nested');
    for (;;) {
      // Tolerate runs of spaces and a trailing space; some clients send them.
      const before = this.pos;
      while (b[this.pos] === SP) this.pos++;
      if (this.pos >= b.length) {
        if (close === -1) return;
        this.fail(close === RPAREN ? 'Unbalanced parentheses: missing ")"' : 'Missing "]" after section');
      }
      const c = b[this.pos]!;
      if (c === close) {
        this.pos++;
        return;
      }
      if (out.length > 0 && this.pos === before) this.fail('Expected a space between arguments');
      out.push(this.token(depth));
    }
  }

  private token(depth: number): Token {
    const b = this.b;
    const c = b[this.pos]!;
    if (c === LPAREN) {
      this.pos++;
      const list: ListToken = { type: 'list', items: [] };
      this.items(list.items, depth + 1, RPAREN);
      return list;
    }
    if (c === RPAREN) this.fail('Unbalanced parentheses: unexpected ")"');
    if (c === DQUOTE) return this.quoted();
    if (c === LBRACE || (c === TILDE && b[this.pos + 1] === LBRACE)) return this.literal();
    return this.atom(depth);
  }

  private quoted(): Token {
    const b = this.b;
    this.pos++;
    let runStart = this.pos;
    let chunks: Uint8Array[] | null = null;
    for (;;) {
      if (this.pos >= b.length) this.fail('Unterminated quoted string');
      const c = b[this.pos]!;
      if (c === DQUOTE) break;
      if (c === CR || c === LF || c === 0) this.fail('Invalid character in quoted string');
      if (c === BACKSLASH) {
        const next = b[this.pos + 1];
        if (next !== DQUOTE && next !== BACKSLASH) this.fail('Invalid escape in quoted string');
        chunks ??= [];
        chunks.push(b.subarray(runStart, this.pos), Uint8Array.of(next));
        this.pos += 2;
        runStart = this.pos;
        continue;
      }
      this.pos++;
    }
    let value: Uint8Array;
    if (chunks) {
      chunks.push(b.subarray(runStart, this.pos));
      value = concat(chunks);
    } else {
      value = b.slice(runStart, this.pos);
    }
    this.pos++;
    return { type: 'string', value, literal: false };
  }

  private literal(): Token {
    const b = this.b;
    if (b[this.pos] === TILDE) this.pos++;
    this.pos++; // "{"
    const start = this.pos;
    while (this.pos < b.length && isDigit(b[this.pos]!)) this.pos++;
    const digits = this.pos - start;
    if (digits === 0 || digits > MAX_LITERAL_DIGITS) this.fail('Invalid literal size');
    const size = Number(latin1.decode(b.subarray(start, this.pos)));
    if (size > MAX_LITERAL) this.fail('Invalid literal size');
    if (b[this.pos] === 0x2b) this.pos++; // "+" (RFC 7888)
    if (b[this.pos] !== RBRACE) this.fail('Invalid literal marker');
    this.pos++;
    if (b[this.pos] === CR) this.pos++;
    if (b[this.pos] !== LF) this.fail('Literal marker must end the line');
    this.pos++;
    if (this.pos + size > b.length) this.fail('Literal shorter than announced');
    const value = b.slice(this.pos, this.pos + size);
    this.pos += size;
    return { type: 'string', value, literal: true };
  }

  private atom(depth: number): AtomToken {
    const b = this.b;
    const start = this.pos;
    let sectionOpen = -1;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (!ATOM_CHAR[c]) break;
      // "]" ends the atom inside a section; "[" opens one only after BODY/BINARY names.
      if (c === RBRACKET && this.inSection) break;
      if (c === LBRACKET && !this.inSection && SECTION_ATOMS.has(latin1.decode(b.subarray(start, this.pos)).toUpperCase())) {
        sectionOpen = this.pos;
        break;
      }
      this.pos++;
    }
    if (this.pos === start) this.fail(`Invalid character in command: 0x${b[this.pos]!.toString(16).padStart(2, '0')}`);
    const token: AtomToken = { type: 'atom', value: latin1.decode(b.subarray(start, this.pos)) };
    if (sectionOpen === -1) return token;
    this.pos++; // "["
    const section: Token[] = [];
    this.inSection = true;
    this.items(section, depth + 1, RBRACKET);
    this.inSection = false;
    token.section = section;
    if (b[this.pos] === LT) token.partial = this.partial();
    return token;
  }

  /** "<" number ["." nz-number] ">" (RFC 3501 §6.4.5; the ".length" form is the command syntax). */
  private partial(): { start: number; length?: number } {
    const b = this.b;
    this.pos++;
    const start = this.number();
    if (b[this.pos] === 0x2e) {
      this.pos++;
      const length = this.number();
      if (length === 0 || b[this.pos] !== GT) this.fail('Invalid partial range');
      this.pos++;
      return { start, length };
    }
    if (b[this.pos] !== GT) this.fail('Invalid partial range');
    this.pos++;
    return { start };
  }

  private number(): number {
    const b = this.b;
    const start = this.pos;
    while (this.pos < b.length && isDigit(b[this.pos]!)) this.pos++;
    if (this.pos === start || this.pos - start > 10) this.fail('Invalid number');
    const n = Number(latin1.decode(b.subarray(start, this.pos)));
    if (n > MAX_LITERAL) this.fail('Number out of range');
    return n;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetterOrDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
