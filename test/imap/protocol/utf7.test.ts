// Modified UTF-7 mailbox names: RFC 3501 §5.1.3 examples, strictness, round trips.
import test from 'ava';
import { ImapParseError } from '../../../src/imap/protocol/errors.ts';
import { decodeMailboxName, encodeMailboxName } from '../../../src/imap/protocol/utf7.ts';

const VECTORS: Array<[string, string]> = [
  ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
  ['&', '&-'],
  ['Tom & Jerry', 'Tom &- Jerry'],
  ['INBOX', 'INBOX'],
  ['Entwürfe', 'Entw&APw-rfe'],
  ['Gesendete Objekte', 'Gesendete Objekte'],
  ['Корзина', '&BBoEPgRABDcEOAQ9BDA-'],
  ['😀', '&2D3eAA-'],
  ['a\tb', 'a&AAk-b'],
  ['', ''],
];

test('RFC 3501 §5.1.3 and other known vectors, both ways', (t) => {
  for (const [unicode, wire] of VECTORS) {
    t.is(encodeMailboxName(unicode), wire, unicode);
    t.is(decodeMailboxName(wire), unicode, wire);
  }
});

test('invalid encodings are rejected', (t) => {
  const bad = [
    '&U,BTFw', // "&" not closed
    '&U,B!Fw-', // not base64
    '&U/BTFw-', // "/" is not the modified alphabet
    '&AGE-', // encodes "a", which must be sent directly
    '&U,BTFw-&ZeVnLIqe-', // two adjacent runs: the encoder merges them
    '&APw', // unclosed
    '&AP-', // 12 bits: not a whole UTF-16 unit
    '&APx-', // padding bits set
    '&2D0-', // lone high surrogate
    '&3gA-', // lone low surrogate
    'Entwürfe', // raw 8-bit character
    'a\tb', // raw control character
  ];
  for (const wire of bad) {
    const err = t.throws(() => decodeMailboxName(wire), { instanceOf: ImapParseError }, wire);
    t.is(err?.code, 'IMAP_PARSE');
  }
});

test('encode rejects lone surrogates', (t) => {
  t.throws(() => encodeMailboxName('a\ud800b'), { name: 'ValidationError' });
});

test('round trip on random Unicode, astral characters included', (t) => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pools = [
    () => 0x20 + rnd(0x5f), // printable ASCII, "&" included
    () => 0x26, // "&"
    () => rnd(0x20), // controls
    () => 0x80 + rnd(0x780), // Latin and friends
    () => 0x4e00 + rnd(0x5000), // CJK
    () => 0x10000 + rnd(0xfffff), // astral
  ];
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const len = rnd(12);
    for (let k = 0; k < len; k++) {
      let cp = pools[rnd(pools.length)]!();
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
      s += String.fromCodePoint(cp);
    }
    const wire = encodeMailboxName(s);
    t.true(/^[\x20-\x7e]*$/.test(wire), wire);
    if (decodeMailboxName(wire) !== s) {
      t.fail(`round trip failed for ${JSON.stringify(s)} -> ${wire}`);
      return;
    }
  }
  t.pass();
});
