// The SEARCH program (RFC 3501 §6.4.4 search keys, RFC 7162 §3.1.5 MODSEQ,
// RFC 4731 ESEARCH RETURN options) as plain data: parse.ts builds it from
// command tokens, evaluate.ts runs it against one message at a time.
import type { SeqRange } from '../protocol/seqset.ts';

export type SearchKey =
  /** ALL, and the empty AND */
  | { type: 'all' }
  /** a parenthesised list, or the implicit AND of the top level */
  | { type: 'and'; keys: SearchKey[] }
  | { type: 'or'; a: SearchKey; b: SearchKey }
  | { type: 'not'; key: SearchKey }
  /** ANSWERED/DELETED/DRAFT/FLAGGED/SEEN, KEYWORD x (set true) and their UN- forms (set false);
   *  `flag` is lower-cased ("\\seen", "$forwarded") as flags compare case-insensitively */
  | { type: 'flag'; flag: string; set: boolean }
  /** RECENT (set true), OLD (set false); NEW is AND(RECENT, UNSEEN) */
  | { type: 'recent'; set: boolean }
  /** FROM/TO/CC/BCC/SUBJECT and HEADER name value: `field` lower-cased, `value` as given */
  | { type: 'header'; field: string; value: string }
  | { type: 'body'; value: string }
  | { type: 'text'; value: string }
  /** BEFORE/ON/SINCE (INTERNALDATE) and SENTBEFORE/SENTON/SENTSINCE (Date: header);
   *  `day` is the date's day number: days since 1970-01-01 */
  | { type: 'date'; field: 'internal' | 'sent'; op: 'before' | 'on' | 'since'; day: number }
  | { type: 'size'; op: 'larger' | 'smaller'; size: number }
  /** a sequence set, resolved against the selected mailbox ("*" = ctx.maxSeq) */
  | { type: 'seq'; ranges: SeqRange[] }
  /** UID set ("*" = ctx.maxUid) */
  | { type: 'uid'; ranges: SeqRange[] }
  /** MODSEQ n: messages whose mod-sequence is >= n (RFC 7162 §3.1.5) */
  | { type: 'modseq'; modSeq: number };

/** ESEARCH result options (RFC 4731 §3.1). */
export interface SearchReturn {
  min: boolean;
  max: boolean;
  count: boolean;
  all: boolean;
}

export interface SearchProgram {
  /** the CHARSET argument upper-cased, null when none was given */
  charset: string | null;
  key: SearchKey;
  /** present when RETURN (...) was given: answer with ESEARCH; RETURN () means ALL */
  returnOpts?: SearchReturn;
}
