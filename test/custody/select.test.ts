// Custodian selection by rendezvous hashing (custody/select.ts): determinism,
// independence from list order, exclusion, minimal disruption, uniformity.
import { createHash } from 'node:crypto';
import test from 'ava';
import { selectCustodians } from '../../src/custody/select.ts';
import { CustodyError } from '../../src/custody/errors.ts';

const hashOf = (text: string): Uint8Array => new Uint8Array(createHash('sha256').update(text).digest());
const nodes = (count: number): { id: string }[] => Array.from({ length: count }, (_, i) => ({ id: `node-${i}` }));
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

test('the set is SHA-256(messageHash | id) highest first', (t) => {
  const hash = hashOf('m');
  const registry = nodes(10);
  const expected = registry
    .map(({ id }) => ({ id, score: createHash('sha256').update(hash).update(id).digest('hex') }))
    .sort((a, b) => (a.score < b.score ? 1 : -1))
    .slice(0, 4)
    .map((x) => x.id);
  t.deepEqual(selectCustodians(hash, registry, 4), expected);
});

test('deterministic and independent of the registry order; duplicates count once', (t) => {
  const registry = nodes(30);
  for (let m = 0; m < 20; m++) {
    const hash = hashOf(`message ${m}`);
    const chosen = selectCustodians(hash, registry, 5);
    t.is(new Set(chosen).size, 5);
    t.deepEqual(selectCustodians(hash, registry, 5), chosen);
    t.deepEqual(selectCustodians(hash, shuffled(registry), 5), chosen);
    t.deepEqual(selectCustodians(hash, shuffled([...registry, ...registry]), 5), chosen);
  }
  t.notDeepEqual(selectCustodians(hashOf('a'), registry, 5), selectCustodians(hashOf('b'), registry, 5));
});

test('excluded ids never win, and the rest is as if they were not registered', (t) => {
  const registry = nodes(12);
  for (let m = 0; m < 20; m++) {
    const hash = hashOf(`x${m}`);
    const first = selectCustodians(hash, registry, 3);
    const exclude = [first[0]!, 'not-registered'];
    const chosen = selectCustodians(hash, registry, 3, exclude);
    t.false(chosen.includes(first[0]!));
    t.deepEqual(chosen, selectCustodians(hash, registry.filter((n) => n.id !== first[0]), 3));
  }
});

test('a node leaving moves only its own share (rendezvous hashing)', (t) => {
  const registry = nodes(20);
  for (let m = 0; m < 20; m++) {
    const hash = hashOf(`leave ${m}`);
    const chosen = selectCustodians(hash, registry, 5);
    const bystander = registry.find((n) => !chosen.includes(n.id))!;
    t.deepEqual(selectCustodians(hash, registry.filter((n) => n !== bystander), 5), chosen);
    const leaver = chosen[2]!;
    const after = selectCustodians(hash, registry.filter((n) => n.id !== leaver), 5);
    t.deepEqual(after.filter((id) => chosen.includes(id)), chosen.filter((id) => id !== leaver));
  }
});

test('roughly uniform over many message hashes (chi-square, 19 degrees of freedom)', (t) => {
  const registry = nodes(20);
  const counts = new Map<string, number>(registry.map((n) => [n.id, 0]));
  const messages = 6000;
  const n = 3;
  for (let m = 0; m < messages; m++) {
    for (const id of selectCustodians(hashOf(`uniform ${m}`), registry, n)) counts.set(id, counts.get(id)! + 1);
  }
  const expected = (messages * n) / registry.length;
  let chi2 = 0;
  for (const count of counts.values()) chi2 += (count - expected) ** 2 / expected;
  // the 99.9999th percentile of chi-square(19) is about 60; the hashes are fixed, so this cannot flake
  t.true(chi2 < 60, `chi2 = ${chi2.toFixed(1)}`);
});

test('too few eligible nodes: CUSTODY_TOO_FEW_NODES', (t) => {
  const hash = hashOf('few');
  t.is(t.throws(() => selectCustodians(hash, nodes(2), 3), { instanceOf: CustodyError }).code, 'CUSTODY_TOO_FEW_NODES');
  t.is(t.throws(() => selectCustodians(hash, [{ id: 'a' }, { id: 'a' }, { id: 'b' }], 3), { instanceOf: CustodyError }).code, 'CUSTODY_TOO_FEW_NODES');
  t.is(t.throws(() => selectCustodians(hash, nodes(3), 3, ['node-1']), { instanceOf: CustodyError }).code, 'CUSTODY_TOO_FEW_NODES');
  t.is(selectCustodians(hash, nodes(3), 3).length, 3);
});

test('bad arguments: CUSTODY_BAD_PARAMS naming the field', (t) => {
  const bad = (run: () => unknown, field: string): void => {
    const error = t.throws(run, { instanceOf: CustodyError });
    t.is(error.code, 'CUSTODY_BAD_PARAMS');
    t.is(error.field, field);
  };
  bad(() => selectCustodians(new Uint8Array(31), nodes(5), 1), 'messageHash');
  bad(() => selectCustodians(hashOf('p'), nodes(5), 0), 'n');
  bad(() => selectCustodians(hashOf('p'), nodes(5), 2.5), 'n');
});
