// Fixture messages (test/mime/fixtures/NAME.eml) against their hand-checked
// expectations (NAME.expected.json): the MIME tree (RFC 2045/2046), ENVELOPE
// (RFC 3501 §7.4.2), BODY[section] bytes (§6.4.5) and SEARCH text (§6.4.4).
// Sizes, line counts and envelopes were checked against Dovecot 2.3's FETCH
// output, kept in fixtures/DOVECOT-2.3-FETCH.txt. Deliberate differences:
// a garbage Content-Type is text/plain here (Dovecot sends "" ""); RFC 2231
// parameters are decoded here (Dovecot sends `name*` still encoded); parameter
// names are lowercased; text/* without parameters keeps [] (the IMAP layer
// adds ("charset" "us-ascii") as Dovecot does).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { normalizeCrlf } from '../../src/mime/normalize.ts';
import { parseMessage } from '../../src/mime/parse.ts';
import { extractSection } from '../../src/mime/section.ts';
import { bodyText, decodeHeaderValue } from '../../src/mime/text.ts';
import type { MimeNode, SectionSpec } from '../../src/mime/types.ts';

const dir = path.join(import.meta.dirname, 'fixtures');
const names = fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).map((f) => f.slice(0, -4)).sort();

interface Expected {
  tree: Record<string, unknown>;
  sections?: Record<string, string | null>;
  bodyText?: string;
  decoded?: Record<string, string>;
}

/** "2.HEADER.FIELDS (A B)" -> SectionSpec, as an IMAP client would write it. */
function parseSectionKey(key: string): SectionSpec {
  const m = /^([0-9.]*?)\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?(?: \((.*)\))?$/i.exec(key);
  if (!m) throw new Error(`bad section key ${key}`);
  const path = m[1] === '' || m[1] === undefined ? [] : m[1].split('.').map(Number);
  const text = (m[2]?.toUpperCase() ?? null) as SectionSpec['text'];
  return m[3] === undefined ? { path, text } : { path, text, fields: m[3].split(' ') };
}

/** The parts of `actual` that `expected` mentions (arrays keep their length). */
function pick(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return actual.map((a: unknown, i) => (i < expected.length ? pick(a, expected[i]) : a));
  }
  if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object' && !Array.isArray(actual)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(expected)) out[k] = pick((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]);
    return out;
  }
  return actual;
}

/** Structural invariants every tree must keep, whatever the input. */
function checkInvariants(node: MimeNode, lo: number, hi: number, where: string, errors: string[]): void {
  if (!(lo <= node.start && node.start <= node.bodyStart && node.bodyStart <= node.end && node.end <= hi)) {
    errors.push(`${where}: offsets ${node.start}/${node.bodyStart}/${node.end} outside [${lo},${hi}]`);
  }
  if (node.size !== node.end - node.bodyStart) errors.push(`${where}: size ${node.size} != end - bodyStart`);
  if (node.parts) {
    if (node.parts.length === 0) errors.push(`${where}: multipart without parts`);
    node.parts.forEach((p, i) => checkInvariants(p, node.bodyStart, node.end, `${where}.${i + 1}`, errors));
  }
  if (node.message) {
    if (node.message.start !== node.bodyStart) errors.push(`${where}: message.start != bodyStart`);
    if (!node.message.envelope) errors.push(`${where}: encapsulated message without envelope`);
    checkInvariants(node.message, node.bodyStart, node.end, `${where}.msg`, errors);
  }
}

for (const name of names) {
  test(`fixture ${name}`, (t) => {
    const raw = normalizeCrlf(fs.readFileSync(path.join(dir, `${name}.eml`)));
    const expected = JSON.parse(fs.readFileSync(path.join(dir, `${name}.expected.json`), 'utf8')) as Expected;
    const root = parseMessage(raw);

    t.deepEqual(pick(root, expected.tree), expected.tree, 'tree');
    const errors: string[] = [];
    checkInvariants(root, 0, raw.length, 'root', errors);
    t.deepEqual(errors, []);
    t.truthy(root.envelope, 'root envelope');
    // The tree is cached as JSON: it must survive a round trip unchanged.
    t.deepEqual(JSON.parse(JSON.stringify(root)), root);

    for (const [key, want] of Object.entries(expected.sections ?? {})) {
      const got = extractSection(raw, root, parseSectionKey(key));
      t.is(got === null ? null : Buffer.from(got).toString('utf8'), want, `BODY[${key}]`);
    }
    if (expected.bodyText !== undefined) t.is(bodyText(raw, root), expected.bodyText, 'bodyText');
    for (const [what, want] of Object.entries(expected.decoded ?? {})) {
      const value = what === 'subject' ? root.envelope?.subject : root.envelope?.from?.[0]?.name;
      t.is(decodeHeaderValue(value ?? ''), want, `decoded ${what}`);
    }
  });
}

test('every fixture has an expectation and the set is complete', (t) => {
  for (const name of names) t.true(fs.existsSync(path.join(dir, `${name}.expected.json`)), name);
  for (const must of ['simple-text', 'alternative', 'mixed-base64', 'forwarded', 'non-ascii-headers', 'rfc2231', 'groups',
    'broken-no-close', 'broken-no-blank-line', 'broken-garbage-ct', 'broken-no-boundary', 'digest', 'lf-only']) {
    t.true(names.includes(must), must);
  }
});

test('BODY[] is the whole message and BODY[HEADER] + BODY[TEXT] rebuild it', (t) => {
  for (const name of names) {
    const raw = normalizeCrlf(fs.readFileSync(path.join(dir, `${name}.eml`)));
    const root = parseMessage(raw);
    t.is(extractSection(raw, root, { path: [], text: null }), raw);
    const header = extractSection(raw, root, { path: [], text: 'HEADER' });
    const text = extractSection(raw, root, { path: [], text: 'TEXT' });
    t.deepEqual(Buffer.concat([header ?? new Uint8Array(), text ?? new Uint8Array()]), Buffer.from(raw), name);
  }
});
