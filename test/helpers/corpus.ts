// Test helper: a deterministic generator of realistic RFC 5322 messages
// (seeded PRNG): plain text, multipart/alternative, multipart/mixed with
// base64 attachments, RFC 2047 encoded-word subjects and names, threads with
// In-Reply-To/References (RFC 5322 §3.6.4), quoted-printable UTF-8 bodies.
// Same seed gives byte-identical messages (message i does not depend on n;
// only the newest 20 are left unread), so Dovecot and Sealpost can be fed the
// same mailbox and tests can name a message by index.

export interface CorpusMessage {
  /** the message with CRLF line endings */
  raw: Buffer;
  flags: string[];
  internalDate: Date;
  /** the Message-ID without angle brackets */
  messageId: string;
  /** the decoded Subject */
  subject: string;
}

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PEOPLE: ReadonlyArray<readonly [name: string, address: string]> = [
  ['Alice Martin', 'alice@example.org'],
  ['Bob Stone', 'bob@example.net'],
  ['Chloé Dubois', 'chloe@exemple.fr'],
  ['Jürgen Groß', 'juergen@beispiel.de'],
  ['Ольга Петрова', 'olga@example.ru'],
  ['山田 太郎', 'taro@example.jp'],
  ['Dana O\'Neil', 'dana@example.com'],
  ['Ernesto Peña', 'ernesto@ejemplo.es'],
  ['', 'noreply@notifications.example.com'],
  ['Fatima Zahra', 'fatima@example.ma'],
];

const WORDS = (
  'the project meeting report budget invoice schedule review draft release server client message mailbox ' +
  'quarterly update please find attached notes agenda follow question answer thanks regards tomorrow today ' +
  'week month plan design issue change request approve deploy test result summary customer order shipping ' +
  'payment contract proposal travel lunch coffee team office holiday birthday photo document spreadsheet'
).split(' ');

const UNICODE_SUBJECTS = ['Grüße aus München', 'Réunion de l’équipe', 'Привет из Москвы', '会議の議事録', 'Ñandú — año nuevo', 'Ελληνικά νέα'];

/** Encodes a header value as RFC 2047 B encoded-words when it is not ASCII, folded so no line exceeds 76 octets. */
export function encodeWords(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const char of value) {
    if (Buffer.byteLength(chunk + char) > 36) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

function mailbox([name, address]: readonly [string, string]): string {
  if (name === '') return address;
  const display = /^[\x20-\x7e]*$/.test(name) ? (/[^\w ]/.test(name) ? `"${name.replaceAll('"', '\\"')}"` : name) : encodeWords(name);
  return `${display} <${address}>`;
}

/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text with CRLF hard breaks. */
function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\r\n')) {
    let encoded = '';
    let lineLength = 0;
    for (const byte of Buffer.from(line)) {
      const piece = (byte >= 33 && byte <= 126 && byte !== 61) || byte === 32 ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      if (lineLength + piece.length > 75) {
        encoded += '=\r\n';
        lineLength = 0;
      }
      encoded += piece;
      lineLength += piece.length;
    }
    if (encoded.endsWith(' ')) encoded = `${encoded.slice(0, -1)}=20`;
    out.push(encoded);
  }
  return out.join('\r\n');
}

function base64Lines(bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n');
}

/**
 * `n` messages from `seed`, oldest first. Sizes run from about 1 KB to 100 KB,
 * most of them small, with about 1 in 200 carrying a 300–600 KB attachment.
 */
export function generateCorpus(n: number, seed = 1): CorpusMessage[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`n: expected a non-negative integer, got ${n}`);
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const text = (bytes: number): string => {
    const lines: string[] = [];
    let total = 0;
    let line = '';
    while (total < bytes) {
      const word = pick(WORDS);
      if (line.length + word.length + 1 > 72) {
        lines.push(line);
        total += line.length + 2;
        line = random() < 0.1 ? '' : word;
        if (line === '') lines.push('');
        continue;
      }
      line = line === '' ? word : `${line} ${word}`;
    }
    if (line !== '') lines.push(line);
    return lines.join('\r\n');
  };
  const randomBytes = (size: number): Buffer => {
    const bytes = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4) bytes.writeUInt32LE(Math.floor(random() * 0x100000000), Math.min(i, size - 4));
    return bytes;
  };

  const start = Date.UTC(2024, 0, 1);
  const messages: CorpusMessage[] = [];
  for (let i = 0; i < n; i++) {
    const date = new Date(start + i * 3_600_000 + Math.floor(random() * 3_000_000));
    const messageId = `${seed}.${i}@corpus.sealpost.test`;
    const from = pick(PEOPLE);
    const to = pick(PEOPLE);
    const parent = i > 0 && random() < 0.3 ? messages[Math.floor(random() * messages.length)] : undefined;
    const baseSubject = random() < 0.15 ? pick(UNICODE_SUBJECTS) : `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} #${i}`;
    const subject = parent !== undefined ? `Re: ${parent.subject.replace(/^(Re: )+/, '')}` : baseSubject;
    // Most mail is small: 1 KB * 100^(u^2) gives a median near 3 KB and a tail to 100 KB.
    const bodySize = Math.floor(1024 * 100 ** (random() ** 2));
    const header = [
      `Return-Path: <${from[1]}>`,
      `Message-ID: <${messageId}>`,
      `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
      `From: ${mailbox(from)}`,
      `To: ${mailbox(to)}`,
      ...(random() < 0.2 ? [`Cc: ${mailbox(pick(PEOPLE))}, ${mailbox(pick(PEOPLE))}`] : []),
      `Subject: ${encodeWords(subject)}`,
      ...(parent !== undefined ? [`In-Reply-To: <${parent.messageId}>`, `References: <${parent.messageId}>`] : []),
      'MIME-Version: 1.0',
    ];
    const unicodeBody = random() < 0.2;
    const bodyText = unicodeBody ? `${pick(UNICODE_SUBJECTS)}\r\n\r\n${text(bodySize)}` : text(bodySize);
    const textPart = unicodeBody
      ? ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(bodyText)]
      : ['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit', '', bodyText];
    const kind = random();
    let body: string[];
    if (kind < 0.5) {
      body = textPart;
    } else if (kind < 0.8) {
      const boundary = `alt-${seed}-${i}`;
      const html = `<html><body>${bodyText.split('\r\n\r\n').map((p) => `<p>${p}</p>`).join('\r\n')}</body></html>`;
      body = [
        `Content-Type: multipart/alternative; boundary="${boundary}"`, '', 'This is a multi-part message in MIME format.',
        `--${boundary}`, ...textPart,
        `--${boundary}`, 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(html),
        `--${boundary}--`, '',
      ];
    } else {
      const boundary = `mixed-${seed}-${i}`;
      const big = random() < 0.025;
      const attachmentSize = big ? 300_000 + Math.floor(random() * 300_000) : 500 + Math.floor(random() * bodySize);
      const [filename, type] = pick([['report.pdf', 'application/pdf'], ['photo.jpg', 'image/jpeg'], ['data.zip', 'application/zip'], ['Übersicht.pdf', 'application/pdf']] as const);
      const encodedName = encodeWords(filename);
      body = [
        `Content-Type: multipart/mixed; boundary="${boundary}"`, '',
        `--${boundary}`, ...textPart,
        `--${boundary}`, `Content-Type: ${type}; name="${encodedName}"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${encodedName}"`, '',
        base64Lines(randomBytes(attachmentSize)),
        `--${boundary}--`, '',
      ];
    }
    const flags: string[] = [];
    const seen = random() < 0.8; // always drawn, so message i is the same whatever n is
    if (seen && i < n - 20) flags.push('\\Seen'); // the newest few stay unread, as in a real inbox
    if (random() < 0.08) flags.push('\\Flagged');
    if (random() < 0.1) flags.push('\\Answered');
    if (random() < 0.03) flags.push('$Forwarded');
    const raw = Buffer.from(`${header.join('\r\n')}\r\n${body.join('\r\n')}\r\n`);
    messages.push({ raw, flags, internalDate: new Date(date.getTime() + 5000), messageId, subject });
  }
  return messages;
}
