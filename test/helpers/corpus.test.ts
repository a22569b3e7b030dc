// Checks the benchmark/test corpus: deterministic, RFC 5322 line rules
// (CRLF only, lines <= 998 octets, §2.1.1), RFC 2047 subjects that decode back.
import test from 'ava';
import { encodeWords, generateCorpus } from './corpus.ts';

const corpus = generateCorpus(300, 42);

test('the same seed gives the same bytes, whatever n is', (t) => {
  const again = generateCorpus(120, 42);
  for (let i = 0; i < again.length; i++) t.true(again[i]!.raw.equals(corpus[i]!.raw), `message ${i}`);
  t.false(generateCorpus(1, 43)[0]!.raw.equals(corpus[0]!.raw));
});

test('every line ends in CRLF and fits in 998 octets', (t) => {
  for (const { raw } of corpus) {
    const text = raw.toString('latin1');
    t.true(text.endsWith('\r\n'));
    t.false(/[^\r]\n|\r[^\n]/.test(text), 'no bare LF or CR');
    t.true(text.split('\r\n').every((line) => line.length <= 998));
  }
});

test('a realistic mix: multiparts, attachments, threads, non-ASCII, sizes', (t) => {
  const texts = corpus.map((m) => m.raw.toString('latin1'));
  t.true(texts.some((s) => s.includes('multipart/alternative')));
  t.true(texts.some((s) => s.includes('Content-Transfer-Encoding: base64')));
  t.true(texts.some((s) => /^In-Reply-To: <.+>\r$/m.test(s)));
  t.true(texts.some((s) => s.includes('=?UTF-8?B?')));
  t.true(corpus.some((m) => m.flags.includes('\\Seen')) && corpus.some((m) => !m.flags.includes('\\Seen')));
  const sizes = corpus.map((m) => m.raw.length);
  t.true(Math.min(...sizes) >= 1000);
  t.true(Math.max(...sizes) > 100_000);
  // dates ascend with the index, so UID order = date order
  t.true(corpus.every((m, i) => i === 0 || m.internalDate > corpus[i - 1]!.internalDate));
});

test('encoded-word subjects decode to the subject', (t) => {
  const decode = (value: string): string =>
    value.replace(/\r\n /g, '').replace(/=\?UTF-8\?B\?([^?]*)\?=/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
  for (const message of corpus) {
    const header = /^Subject: (.*(?:\r\n .*)*)\r$/m.exec(message.raw.toString('latin1'))?.[1];
    t.is(decode(header ?? ''), message.subject);
  }
  const long = encodeWords('Привет из Москвы и ещё очень длинная тема письма');
  t.true(long.split('\r\n').every((line) => line.length <= 76));
});
