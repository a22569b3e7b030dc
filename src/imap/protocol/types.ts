// Tokens of an IMAP command as the parser sees them (RFC 3501 §9, formal
// syntax; RFC 7888 for LITERAL+), and values the compiler turns into response
// bytes. The protocol layer is generic: each command interprets its own
// arguments from these tokens.

/** An atom: any run of ATOM-CHARs, plus the "[...]" section and "<...>"
 *  partial that FETCH attributes carry: BODY.PEEK[HEADER.FIELDS (A B)]<0.100>
 *  is { type:'atom', value:'BODY.PEEK', section:[atom HEADER.FIELDS, list [A,B]], partial:{start:0,length:100} }.
 *  Sequence sets ("1:*,5"), flags ("\\Seen") and NIL are atoms too. */
export interface AtomToken {
  type: 'atom';
  value: string;
  /** present (maybe empty) when the atom was followed by "[...]" */
  section?: Token[];
  /** present when "<start>" or "<start.length>" followed the section */
  partial?: { start: number; length?: number };
}

/** A quoted string or a literal ({n} / {n+} / ~{n}); bytes as received. */
export interface StringToken {
  type: 'string';
  value: Uint8Array;
  literal: boolean;
}

/** A parenthesised list. */
export interface ListToken {
  type: 'list';
  items: Token[];
}

export type Token = AtomToken | StringToken | ListToken;

export interface ParsedCommand {
  tag: string;
  /** upper-cased command name; UID commands are joined: "UID FETCH" */
  name: string;
  args: Token[];
}

/** Response values for the compiler. */
export type ResponseValue =
  | { type: 'atom'; value: string }
  /** compiled as a quoted string when safe and short, otherwise as a literal */
  | { type: 'string'; value: string | Uint8Array }
  /** always compiled as a literal */
  | { type: 'literal'; value: Uint8Array }
  /** compiled verbatim (already-valid protocol text, e.g. a cached BODYSTRUCTURE) */
  | { type: 'raw'; value: string | Uint8Array }
  | number
  | bigint
  | null
  | ResponseValue[];

/** One response line: untagged ("*"), continuation ("+") or tagged. */
export interface Response {
  tag: string; // '*' | '+' | command tag
  /** e.g. 'OK', 'NO', 'BAD', 'BYE', 'PREAUTH', or a number for "* 3 EXISTS" style */
  values: ResponseValue[];
}
