// Test helper: write messages straight into a Maildir++ folder the way
// Dovecot expects them (cur/ files with ":2,<flags>" info, mtime as
// INTERNALDATE, keywords through dovecot-keywords). Used to fill a Dovecot
// mailbox with thousands of messages in a second instead of minutes of APPEND.
import fs from 'node:fs';
import path from 'node:path';

export interface MaildirMessage {
  raw: Uint8Array;
  /** IMAP flags: system flags with backslash, anything else a keyword */
  flags?: readonly string[];
  /** becomes the file's mtime, which Dovecot reports as INTERNALDATE */
  internalDate?: Date;
}

/** Maildir info letters for IMAP system flags (they must appear sorted). */
const FLAG_LETTERS: Readonly<Record<string, string>> = {
  '\\Draft': 'D',
  '\\Flagged': 'F',
  '\\Answered': 'R',
  '\\Seen': 'S',
  '\\Deleted': 'T',
};

/** Dovecot sorts new files by the leading number of their name when it assigns
 *  UIDs, so a strictly increasing counter keeps UID order = array order. */
let sequence = Math.floor(Date.now() / 1000);

/**
 * Writes the messages, in order, into the Maildir folder at `root` (created if
 * needed). Later UIDs go to later messages. The caller fixes ownership.
 */
export function writeMaildirMessages(root: string, messages: readonly MaildirMessage[]): void {
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(root, sub), { recursive: true });
  // Dovecot marks a directory as a Maildir++ subfolder by this file.
  if (path.basename(root).startsWith('.')) fs.writeFileSync(path.join(root, 'maildirfolder'), '');
  const keywords = readKeywords(root);
  const keywordsBefore = keywords.length;
  for (const message of messages) {
    let letters = '';
    for (const flag of message.flags ?? []) {
      const system = FLAG_LETTERS[flag];
      if (system !== undefined) {
        letters += system;
        continue;
      }
      if (flag.startsWith('\\')) continue; // \Recent and unknown system flags cannot be stored
      let index = keywords.indexOf(flag);
      if (index < 0) {
        if (keywords.length >= 26) throw new Error(`flags: more than 26 keywords in ${root}`);
        index = keywords.push(flag) - 1;
      }
      letters += String.fromCharCode(0x61 + index);
    }
    letters = [...new Set(letters)].sort().join('');
    const size = message.raw.byteLength;
    // S= lets Dovecot answer RFC822.SIZE without stat; the raw text already has CRLF, so W= (virtual size) is the same.
    const name = `${sequence++}.M0P${process.pid}.sealpost-test,S=${size},W=${size}:2,${letters}`;
    const file = path.join(root, 'cur', name);
    fs.writeFileSync(file, message.raw);
    if (message.internalDate !== undefined) fs.utimesSync(file, message.internalDate, message.internalDate);
  }
  if (keywords.length !== keywordsBefore) {
    fs.writeFileSync(path.join(root, 'dovecot-keywords'), keywords.map((k, i) => `${i} ${k}\n`).join(''));
  }
}

function readKeywords(root: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, 'dovecot-keywords'), 'utf8');
  } catch {
    return [];
  }
  const keywords: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+) (\S+)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) keywords[Number(match[1])] = match[2];
  }
  return keywords;
}
