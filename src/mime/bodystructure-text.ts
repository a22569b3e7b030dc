// FETCH BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, §9 body, body-type-1part,
// body-type-basic, body-type-msg, body-type-text, body-type-mpart,
// body-ext-1part, body-ext-mpart) from the cached MIME tree.
//
// Choices, matching Dovecot 2.3 (test/mime/fixtures/DOVECOT-2.3-FETCH.txt):
// - media type, subtype, encoding and parameters are sent as the message
//   writes them (a default Content-Type is "text" "plain"); RFC 3501's
//   examples use upper case, but clients compare case-insensitively;
// - a text/* part without parameters gets ("charset" "us-ascii"), the
//   RFC 2045 §5.2 default; other parts without parameters get NIL;
// - the default encoding goes out as "7bit"; a non-ASCII parameter value
//   (decoded by the MIME parser) is re-encoded per RFC 2231 as "name*";
// - Content-Language is always a list; disposition parameters NIL when none;
// - BODY is the non-extensible form: no extension data at any depth;
// - a message/rfc822 part (node.message set) carries envelope, body and lines.
import type { MimeNode, MimeParams } from './types.ts';
import { EMPTY_ENVELOPE, envelopeText } from './envelope-text.ts';
import { imapNString, imapString } from './wire.ts';

const DEFAULT_TEXT_PARAMS = '("charset" "us-ascii")';
const ASCII = /^[\x00-\x7f]*$/;

/** RFC 2231 §4 extended value: utf-8''percent-encoded (attribute-char excludes * ' % ( ) and friends). */
function rfc2231(value: string): string {
  return `utf-8''${encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

function params(p: MimeParams, isText: boolean): string {
  if (p.length === 0) return isText ? DEFAULT_TEXT_PARAMS : 'NIL';
  let out = '(';
  for (let i = 0; i < p.length; i++) {
    const [name, value] = p[i]!;
    // The MIME parser decodes RFC 2231 values; a non-ASCII one goes back out
    // RFC 2231-encoded ("name*" "utf-8''%E2%82%AC") as Dovecot passes it, so
    // that BODYSTRUCTURE stays 7-bit for clients without UTF8=ACCEPT.
    out += ASCII.test(value)
      ? `${i === 0 ? '' : ' '}${imapString(name)} ${imapString(value)}`
      : `${i === 0 ? '' : ' '}${imapString(`${name}*`)} ${imapString(rfc2231(value))}`;
  }
  return out + ')';
}

/** The parser's default encoding is "7BIT"; Dovecot writes the default as "7bit". */
function encoding(node: MimeNode): string {
  return node.encoding === '7BIT' ? '"7bit"' : imapString(node.encoding);
}

function disposition(node: MimeNode): string {
  const d = node.disposition;
  if (d === null) return 'NIL';
  return `(${imapString(d.type)} ${params(d.params, false)})`;
}

function language(node: MimeNode): string {
  const l = node.language;
  if (l === null || l.length === 0) return 'NIL';
  return `(${l.map(imapString).join(' ')})`;
}

/** body-ext-1part / body-ext-mpart tail shared by both: disposition, language, location. */
function extTail(node: MimeNode): string {
  return `${disposition(node)} ${language(node)} ${imapNString(node.location)}`;
}

function write(node: MimeNode, extended: boolean): string {
  if (node.parts && node.parts.length > 0) {
    let out = '(';
    for (const part of node.parts) out += write(part, extended);
    out += ` ${imapString(node.subtype)}`;
    if (extended) out += ` ${params(node.params, false)} ${extTail(node)}`;
    return out + ')';
  }
  const isText = node.type.toLowerCase() === 'text';
  let out = `(${imapString(node.type)} ${imapString(node.subtype)} ${params(node.params, isText)} ${imapNString(node.id)} `
    + `${imapNString(node.description)} ${encoding(node)} ${node.size}`;
  if (node.message) {
    out += ` ${envelopeText(node.message.envelope ?? EMPTY_ENVELOPE)} ${write(node.message, extended)} ${node.lines}`;
  } else if (isText) {
    out += ` ${node.lines}`;
  }
  if (extended) out += ` ${imapNString(node.md5)} ${extTail(node)}`;
  return out + ')';
}

/** Protocol text of BODYSTRUCTURE (extended) or BODY (not extended). */
export function bodyStructureText(node: MimeNode, extended: boolean): string {
  return write(node, extended);
}

