// Flags from mbox status headers and Maildir info letters (RFC 3501 §2.3.2
// flags; Maildir info per cr.yp.to/proto/maildir.html and Dovecot).
import test from 'ava';
import { isKeyword, maildirInfoFlags, mboxHeaderFlags, parseDovecotKeywords } from '../../src/migrate/flags.ts';
import { splitMaildirName } from '../../src/migrate/maildir.ts';
import { splitHeader } from '../../src/mime/headers.ts';

const fields = (text: string) => splitHeader(Buffer.from(text.replace(/\n/g, '\r\n')));
const sorted = (flags: string[]): string[] => [...flags].sort();

test('Status and X-Status letters', (t) => {
  t.deepEqual(sorted(mboxHeaderFlags(fields('Status: RO\nX-Status: AFDT\n'))), sorted(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft']));
  t.deepEqual(mboxHeaderFlags(fields('Status: O\n')), []);
  t.deepEqual(mboxHeaderFlags(fields('status: R\nSTATUS: R\n')), ['\\Seen']);
  t.deepEqual(mboxHeaderFlags(fields('Subject: RAFDT\n')), []);
});

test('Thunderbird X-Mozilla-Status bits and X-Mozilla-Keys', (t) => {
  t.deepEqual(sorted(mboxHeaderFlags(fields('X-Mozilla-Status: 000f\n'))), sorted(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted']));
  t.deepEqual(mboxHeaderFlags(fields('X-Mozilla-Status: 1000\nX-Mozilla-Keys: $label1  NonJunk   \n')), ['$Forwarded', '$label1', 'NonJunk']);
  t.deepEqual(mboxHeaderFlags(fields('X-Mozilla-Status: zz01\n')), []);
});

test('keywords: spaces or commas; anything that is not an IMAP atom is dropped', (t) => {
  t.deepEqual(mboxHeaderFlags(fields('X-Keywords: a, b c,,d\n')), ['a', 'b', 'c', 'd']);
  t.deepEqual(mboxHeaderFlags(fields('Keywords: good (bad) \\Seen w%ld "q" ünïcode x]\n')), ['good']);
  t.deepEqual(mboxHeaderFlags(fields('X-Keywords: Work\nKeywords: work\n')), ['Work']);
  t.true(isKeyword('$Label1'));
  t.false(isKeyword('\\Seen'));
  t.false(isKeyword(''));
});

test('Maildir info letters; P is ignored; lowercase letters through dovecot-keywords', (t) => {
  const keywords = parseDovecotKeywords('0 $Label1\n1 Work\n3 bad(one)\nnot a line\n25 Last\n26 TooFar\n');
  t.is(keywords[0], '$Label1');
  t.is(keywords[1], 'Work');
  t.is(keywords[3], undefined);
  t.is(keywords[25], 'Last');
  t.is(keywords.length, 26);
  t.deepEqual(maildirInfoFlags('DFPRST', keywords), ['\\Draft', '\\Flagged', '\\Answered', '\\Seen', '\\Deleted']);
  t.deepEqual(maildirInfoFlags('Sabcdz', keywords), ['\\Seen', '$Label1', 'Work', 'Last']);
  t.deepEqual(maildirInfoFlags('abc', []), []);
  t.deepEqual(maildirInfoFlags('', keywords), []);
});

test('Maildir file names: unique part and info', (t) => {
  t.deepEqual(splitMaildirName('1577959200.M1P100.mail,S=120,W=125:2,RS'), { unique: '1577959200.M1P100.mail,S=120,W=125', info: 'RS' });
  t.deepEqual(splitMaildirName('1577959200.M1P100.mail:2,'), { unique: '1577959200.M1P100.mail', info: '' });
  t.deepEqual(splitMaildirName('1577959200.M1P100.mail;2,S'), { unique: '1577959200.M1P100.mail', info: 'S' });
  t.deepEqual(splitMaildirName('1577959200.M1P100.mail!2,S'), { unique: '1577959200.M1P100.mail', info: 'S' });
  t.deepEqual(splitMaildirName('1577959200.M1P100.mail:1,x'), { unique: '1577959200.M1P100.mail', info: null });
  t.deepEqual(splitMaildirName('1577959200.M1P100.mail'), { unique: '1577959200.M1P100.mail', info: null });
});
