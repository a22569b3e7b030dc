// Token helpers for command handlers: astring, NIL, atom and list checks.
import test from 'ava';
import { expectAtom, expectAtomToken, expectList, expectString, isNil, tokenText } from '../../../src/imap/protocol/args.ts';
import { ImapParseError } from '../../../src/imap/protocol/errors.ts';
import { parseCommand } from '../../../src/imap/protocol/parser.ts';

const args = (s: string) => parseCommand(Buffer.from(s)).args;

test('reads atoms, strings and lists', (t) => {
  const [a, q, l, list, nil, body] = args('a X INBOX "Sent Items" {4}\r\nDocs (A B) nil BODY[TEXT]');
  t.is(tokenText(a), 'INBOX');
  t.is(tokenText(q), 'Sent Items');
  t.is(expectString(l, 'mailbox'), 'Docs');
  t.is(expectString(a, 'mailbox'), 'INBOX');
  t.is(expectAtom(a, 'mailbox'), 'INBOX');
  t.is(expectList(list, 'flag list').length, 2);
  t.true(isNil(nil));
  t.false(isNil(q));
  t.is(expectAtomToken(body, 'fetch attribute').value, 'BODY');
  t.is(tokenText(parseCommand(Buffer.from('a X "台北"')).args[0]), '台北');
});

test('names what was expected when the token is wrong', (t) => {
  const [q, list] = args('a X "str" (A)');
  const e1 = t.throws(() => expectAtom(q, 'a sequence set'), { instanceOf: ImapParseError });
  t.regex(e1!.message, /a sequence set/);
  t.throws(() => expectList(q, 'flag list'), { instanceOf: ImapParseError });
  t.throws(() => expectString(list, 'mailbox'), { instanceOf: ImapParseError });
  t.throws(() => tokenText(list), { instanceOf: ImapParseError });
  t.throws(() => expectString(undefined, 'mailbox'), { instanceOf: ImapParseError });
  t.throws(() => expectAtom(args('a FETCH BODY[]')[0], 'atom'), { instanceOf: ImapParseError });
});
