// IMAP URLs (RFC 5092) as the IMAP reader's ids: a message is
// imap://USER@HOST:PORT/MAILBOX;UIDVALIDITY=V/;UID=N (§6, "imessagepart"), which
// names it for as long as the server keeps that UIDVALIDITY (RFC 3501 §2.3.1.1),
// so an import can be resumed and repeated without duplicates. The user and the
// mailbox are percent-encoded as UTF-8 (§3.2, §5; RFC 5092 uses UTF-8, not the
// modified UTF-7 of the wire), keeping the characters enc-user (achar) and
// enc-mailbox (bchar: achar plus ":", "@" and "/") allow. The port is always
// written, the host in lower case, so one server has one spelling.
import net from 'node:net';

export interface ImapServerRef {
  user: string;
  host: string;
  port: number;
}

// achar = ALPHA / DIGIT / "-" / "." / "_" / "~" / "!" / "$" / "'" / "(" / ")" / "*" / "+" / "," / "&" / "="
const ACHAR = /[A-Za-z0-9\-._~!$'()*+,&=]/;
const BCHAR = /[A-Za-z0-9\-._~!$'()*+,&=:@/]/;

function percentEncode(s: string, keep: RegExp): string {
  let out = '';
  for (const ch of s) {
    if (keep.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** imap://USER@HOST:PORT: the server and account part every id of one source starts with. */
export function imapServerUrl(server: ImapServerRef): string {
  const host = server.host.toLowerCase();
  return `imap://${percentEncode(server.user, ACHAR)}@${net.isIPv6(host) ? `[${host}]` : host}:${server.port}`;
}

/** The mailbox part: "/MAILBOX;UIDVALIDITY=V". `mailbox` is the decoded server path. */
export function imapMailboxUrl(server: ImapServerRef, mailbox: string, uidValidity: number): string {
  return `${imapServerUrl(server)}/${percentEncode(mailbox, BCHAR)};UIDVALIDITY=${uidValidity}`;
}

/** The message's id: imap://USER@HOST:PORT/MAILBOX;UIDVALIDITY=V/;UID=N. */
export function imapMessageUrl(server: ImapServerRef, mailbox: string, uidValidity: number, uid: number): string {
  return `${imapMailboxUrl(server, mailbox, uidValidity)}/;UID=${uid}`;
}
