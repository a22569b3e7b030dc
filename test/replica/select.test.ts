// Replica selection (replica/select.ts): rendezvous hashing of the account
// tag over the registry's node ids is deterministic, ignores list order and
// duplicates, never picks excluded nodes (the owner), returns fewer than k
// only when fewer nodes are eligible, and moves little when nodes come and go.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { ReplicaError } from '../../src/replica/errors.ts';
import { selectReplicas } from '../../src/replica/select.ts';

const id = (): string => randomBytes(32).toString('base64');
const nodes = Array.from({ length: 20 }, id);
const newTag = (): Uint8Array => new Uint8Array(randomBytes(32));

test('the same tag and registry give the same replicas, whatever the order', (t) => {
  const tag = newTag();
  const chosen = selectReplicas(tag, nodes, 3);
  t.is(chosen.length, 3);
  t.is(new Set(chosen).size, 3);
  t.deepEqual(selectReplicas(tag, [...nodes].reverse(), 3), chosen);
  t.deepEqual(selectReplicas(tag, [...nodes, ...nodes], 3), chosen, 'duplicates count once');
  t.deepEqual(selectReplicas(new Uint8Array(tag), nodes, 3), chosen, 'a copy of the tag');
  t.deepEqual(selectReplicas(tag, nodes, 5).slice(0, 3), chosen, 'ranked: the best k are a prefix of the best k + 2');
});

test('different tags spread over different nodes', (t) => {
  const firsts = new Set(Array.from({ length: 40 }, () => selectReplicas(newTag(), nodes, 1)[0]));
  t.true(firsts.size >= 8, `${firsts.size} distinct first choices`);
});

test('the owner is never its own replica', (t) => {
  for (let i = 0; i < 50; i++) {
    const tag = newTag();
    const best = selectReplicas(tag, nodes, 1)[0]!;
    const chosen = selectReplicas(tag, nodes, 3, [best]);
    t.false(chosen.includes(best));
    t.is(chosen.length, 3);
  }
});

test('fewer eligible nodes than k: all of them; none: an empty list', (t) => {
  const tag = newTag();
  t.deepEqual(selectReplicas(tag, nodes.slice(0, 2), 3).sort(), nodes.slice(0, 2).sort());
  t.deepEqual(selectReplicas(tag, nodes.slice(0, 1), 3, nodes.slice(0, 1)), []);
  t.deepEqual(selectReplicas(tag, ['not a node id', 'AAAA'], 3), [], 'ids that are not node ids are skipped');
});

test('a node leaving moves only its own accounts; a node joining takes at most one place', (t) => {
  for (let i = 0; i < 50; i++) {
    const tag = newTag();
    const chosen = selectReplicas(tag, nodes, 3);
    const outsider = nodes.find((n) => !chosen.includes(n))!;
    t.deepEqual(selectReplicas(tag, nodes.filter((n) => n !== outsider), 3), chosen, 'an unchosen node left: nothing moves');
    const leaver = chosen[1]!;
    const after = selectReplicas(tag, nodes.filter((n) => n !== leaver), 3);
    t.deepEqual(after.slice(0, 2), chosen.filter((n) => n !== leaver), 'the others stay');
    const joined = selectReplicas(tag, [...nodes, id()], 3);
    t.true(joined.filter((n) => chosen.includes(n)).length >= 2);
  }
});

test('bad tag or k is REPLICA_BAD_PARAMS naming the field', (t) => {
  for (const [tag, k, field] of [[new Uint8Array(31), 3, 'tag'], [newTag(), 0, 'k'], [newTag(), 65, 'k'], [newTag(), 1.5, 'k']] as const) {
    const err = t.throws(() => selectReplicas(tag, nodes, k), { instanceOf: ReplicaError });
    t.is(err?.code, 'REPLICA_BAD_PARAMS');
    t.is(err?.field, field);
  }
});
