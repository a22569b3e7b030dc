// The trace header a submission server prepends: `Received:` per RFC 5321
// §4.4 with the `with` protocol types of RFC 3848 (ESMTPSA = ESMTP, TLS and
// AUTH). The client's EHLO name and address are recorded, not its password or
// user name (which would leak the account behind an address).
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 §3.3 date-time in UTC, e.g. "Tue, 25 Nov 2025 09:00:00 +0000". */
export function rfc5322Date(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

export interface ReceivedInput {
  /** the EHLO/HELO argument */
  helo: string;
  remoteAddress: string;
  /** our host name */
  by: string;
  secure: boolean;
  authenticated: boolean;
  id: string;
  /** recorded only when there is exactly one recipient (RFC 5321 §4.4 "for") */
  recipients: readonly string[];
  date: Date;
}

/** The header field, folded, ending in CRLF. */
export function receivedHeader(input: ReceivedInput): string {
  const protocol = `ESMTP${input.secure ? 'S' : ''}${input.authenticated ? 'A' : ''}`;
  const helo = input.helo.replace(/[^\x21-\x7e]/g, '') || 'unknown';
  const ip = input.remoteAddress.includes(':') ? `IPv6:${input.remoteAddress}` : input.remoteAddress;
  const forClause = input.recipients.length === 1 ? `\r\n\tfor <${input.recipients[0]}>` : '';
  return `Received: from ${helo} ([${ip}])\r\n\tby ${input.by} (Sealpost) with ${protocol} id ${input.id}${forClause};\r\n\t${rfc5322Date(input.date)}\r\n`;
}
