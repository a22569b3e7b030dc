// Splits a client byte stream into whole IMAP commands: lines joined with
// their literals (RFC 3501 §4.3 "{n}" synchronising literals, RFC 7888 "{n+}"
// non-synchronising literals, RFC 3516 "~{n}" literal8). Enforces the line
// and literal limits and, after refusing a command, skips exactly the bytes
// the client will still send for it so that the next command is read intact.
import { isValidTag } from './errors.ts';

export interface LiteralInfo {
  tag: string | null;
  size: number;
  sync: boolean;
  /** the command so far, up to and including the literal marker (no CRLF) */
  commandSoFar: Uint8Array;
}

export interface FramerOptions {
  /** limit on the non-literal octets of one command (all its lines, without CRLFs) */
  maxLineLength: number;
  /** limit on one literal, and on all literals of one command together */
  maxLiteralSize: number;
  /** called when a line ends with a literal marker, before any literal byte is read.
   *  Return null to accept, or a string reason to refuse. */
  onLiteral?: (info: LiteralInfo) => string | null;
}

export interface FramerError {
  tag: string | null;
  kind: 'line-too-long' | 'literal-too-big' | 'literal-refused';
  reason: string;
  /** true when the refused literal was synchronising (the client is waiting for "+") */
  sync: boolean;
}

export interface FramerHandlers {
  /** one whole command: all lines + literal bytes, final CRLF stripped */
  frame(bytes: Uint8Array): void;
  /** a sync literal was accepted: the session must send "+ Ready for literal data" */
  continuation(): void;
  error(e: FramerError): void;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
/** enough to hold "~{4294967295+}\r" with some slack */
const TAIL = 32;
const MARKER = /~?\{(\d{1,20})(\+?)\}\r?$/;
const latin1 = new TextDecoder('latin1');

type Mode = 'line' | 'literal';

export class CommandFramer {
  private readonly opts: FramerOptions;
  private readonly handlers: FramerHandlers;
  private mode: Mode = 'line';
  /** the command being collected; grows by doubling, or exactly for a literal */
  private buf = new Uint8Array(256);
  private len = 0;
  /** where the current line starts in buf */
  private lineStart = 0;
  /** non-literal octets of this command (lines only) */
  private lineBytes = 0;
  /** literal octets of this command */
  private literalBytes = 0;
  /** literal octets still to read (or skip, when dropping) */
  private remaining = 0;
  /** true while skipping the rest of a refused command */
  private dropping = false;
  /** last few bytes of the line being skipped, to spot a literal marker at its end */
  private tail = '';
  /** tag of the current command, known once its first line ended or an error needed it */
  private tag: string | null = null;
  private firstLine = true;

  constructor(opts: FramerOptions, handlers: FramerHandlers) {
    if (!(opts.maxLineLength > 0) || !(opts.maxLiteralSize >= 0)) {
      throw new RangeError('FramerOptions: maxLineLength must be > 0 and maxLiteralSize >= 0');
    }
    this.opts = opts;
    this.handlers = handlers;
  }

  /** Feeds bytes from the socket. The chunk is copied; the caller may reuse it. */
  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.mode === 'literal') {
        const n = Math.min(this.remaining, end - pos);
        if (!this.dropping) {
          this.buf.set(chunk.subarray(pos, pos + n), this.len);
          this.len += n;
        }
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.startLine();
        continue;
      }
      const lf = chunk.indexOf(LF, pos);
      const segEnd = lf === -1 ? end : lf;
      const seg = chunk.subarray(pos, segEnd);
      pos = lf === -1 ? end : lf + 1;
      if (this.dropping) {
        this.addTail(seg);
      } else if (this.lineBytes + seg.length > this.opts.maxLineLength + 1) {
        // +1: the CR of CRLF arrives as a line byte and is only stripped at LF.
        this.lineTooLong(seg);
      } else {
        this.append(seg);
        this.lineBytes += seg.length;
      }
      if (lf !== -1) this.endLine();
    }
  }

  private startLine(): void {
    this.mode = 'line';
    this.lineStart = this.len;
    this.tail = '';
  }

  private resetCommand(): void {
    this.buf = new Uint8Array(256);
    this.len = 0;
    this.lineBytes = 0;
    this.literalBytes = 0;
    this.dropping = false;
    this.tag = null;
    this.firstLine = true;
    this.startLine();
  }

  /** Switches to skipping the rest of this command, remembering the line's tail. */
  private drop(): void {
    this.tail = latin1.decode(this.buf.subarray(Math.max(this.lineStart, this.len - TAIL), this.len));
    this.dropping = true;
    this.buf = new Uint8Array(0);
    this.len = 0;
    this.lineStart = 0;
  }

  private lineTooLong(seg: Uint8Array): void {
    this.knowTag(false, seg);
    this.drop();
    this.addTail(seg);
    this.handlers.error({ tag: this.tag, kind: 'line-too-long', reason: `Command line too long (max ${this.opts.maxLineLength} octets)`, sync: false });
  }

  private addTail(seg: Uint8Array): void {
    const from = Math.max(0, seg.length - TAIL);
    this.tail = (this.tail + latin1.decode(seg.subarray(from))).slice(-TAIL);
  }

  private endLine(): void {
    if (this.dropping) return this.endDroppedLine();
    // Strip the CR of CRLF (a bare LF is tolerated).
    if (this.len > this.lineStart && this.buf[this.len - 1] === CR) {
      this.len--;
      this.lineBytes--;
    }
    if (this.lineBytes > this.opts.maxLineLength) {
      this.knowTag(true);
      this.drop();
      this.handlers.error({ tag: this.tag, kind: 'line-too-long', reason: `Command line too long (max ${this.opts.maxLineLength} octets)`, sync: false });
      return this.endDroppedLine();
    }
    if (this.firstLine) this.knowTag(true);
    this.firstLine = false;
    const tailText = latin1.decode(this.buf.subarray(Math.max(this.lineStart, this.len - TAIL), this.len));
    const m = MARKER.exec(tailText);
    if (!m) {
      const frame = this.buf.subarray(0, this.len);
      const empty = this.len === 0;
      this.resetCommand();
      // A blank line is not a command; ignoring it is what clients expect.
      if (!empty) this.handlers.frame(frame);
      return;
    }
    const size = Number(m[1]);
    const sync = m[2] !== '+';
    const limit = this.opts.maxLiteralSize;
    let refusal: { kind: 'literal-too-big' | 'literal-refused'; reason: string } | null = null;
    if (size > limit || this.literalBytes + size > limit) {
      refusal = { kind: 'literal-too-big', reason: `Literal too big (max ${limit} octets)` };
    } else if (this.opts.onLiteral) {
      const reason = this.opts.onLiteral({ tag: this.tag, size, sync, commandSoFar: this.buf.subarray(0, this.len) });
      if (reason !== null) refusal = { kind: 'literal-refused', reason };
    }
    if (refusal) {
      const tag = this.tag;
      if (sync) {
        // No "+" goes out, so the client sends nothing more of this command.
        this.resetCommand();
      } else {
        // RFC 7888 §4: the literal is coming anyway; read and discard it and the rest of the command.
        this.drop();
        this.expectLiteral(size);
      }
      this.handlers.error({ tag, kind: refusal.kind, reason: refusal.reason, sync });
      return;
    }
    // Room for the literal and a short closing line, so the literal is copied once.
    this.ensure(this.len + 2 + size + 256);
    this.buf[this.len++] = CR;
    this.buf[this.len++] = LF;
    this.literalBytes += size;
    this.expectLiteral(size);
    if (sync) this.handlers.continuation();
  }

  /** A skipped line ended: a non-sync literal marker means more bytes of this command follow. */
  private endDroppedLine(): void {
    const m = MARKER.exec(this.tail);
    if (m && m[2] === '+') {
      this.expectLiteral(Number(m[1]));
      return;
    }
    // No marker, or a sync one the client will wait on forever: the command is over.
    this.resetCommand();
  }

  private expectLiteral(size: number): void {
    this.remaining = size;
    this.mode = 'literal';
    this.tail = '';
    if (size === 0) this.startLine();
  }

  /** Reads the tag from the start of the command; `lineEnded` lets a tag-only line count. */
  private knowTag(lineEnded: boolean, more?: Uint8Array): void {
    if (!this.firstLine || this.tag !== null) return;
    let head = this.buf.subarray(0, Math.min(this.len, 65));
    if (more && head.length < 65) {
      // The tag may sit in the segment that was never stored.
      const joined = new Uint8Array(Math.min(65, head.length + more.length));
      joined.set(head);
      joined.set(more.subarray(0, joined.length - head.length), head.length);
      head = joined;
    }
    const sp = head.indexOf(SP);
    if (sp === -1 && !(lineEnded && this.len <= 64)) return;
    const candidate = latin1.decode(head.subarray(0, sp === -1 ? head.length : sp));
    if (isValidTag(candidate)) this.tag = candidate;
  }

  private append(seg: Uint8Array): void {
    if (seg.length === 0) return;
    this.ensure(this.len + seg.length);
    this.buf.set(seg, this.len);
    this.len += seg.length;
  }

  /** Grows the buffer to hold `need` octets: doubling for lines, exact for a literal. */
  private ensure(need: number): void {
    if (need <= this.buf.length) return;
    const grown = Math.max(need, Math.min(this.buf.length * 2, need + this.opts.maxLineLength + 2));
    const next = new Uint8Array(grown);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}
