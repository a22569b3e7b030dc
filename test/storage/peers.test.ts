// Loopback-only peer and listen addresses (src/storage/peers.ts).
import test from 'ava';
import { isLoopbackMultiaddr, validateListen, validatePeers } from '../../src/storage/peers.ts';

const id = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq';

test('loopback TCP peers with an id pass and yield the id', (t) => {
  t.deepEqual(validatePeers([`/ip4/127.0.0.1/tcp/4001/p2p/${id}`, `/ip6/::1/tcp/4002/p2p/${id}`, `/ip4/127.8.9.10/tcp/1/p2p/${id}`]).map((p) => p.peerId), [id, id, id]);
  t.deepEqual(validatePeers([]), []);
});

test('anything else is INVALID naming storage.peers', (t) => {
  for (const addr of [`/ip4/127.0.0.1/tcp/4001/p2p/${id}/extra`, `/ip4/127.0.0.1/tcp/99999/p2p/${id}`, `/ip4/128.0.0.1/tcp/1/p2p/${id}`, `/ip6/::2/tcp/1/p2p/${id}`, `/ip6/::ffff:127.0.0.1/tcp/1/p2p/${id}`]) {
    const err = t.throws(() => validatePeers([addr]), { code: 'INVALID' }, addr);
    t.is((err as { field?: string } | undefined)?.field, 'storage.peers');
  }
});

test('listen addresses: loopback TCP, port 0 allowed, no peer id', (t) => {
  t.deepEqual(validateListen(['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/4001']), ['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/4001']);
  for (const addr of [`/ip4/127.0.0.1/tcp/0/p2p/${id}`, '/ip4/0.0.0.0/tcp/0', '/ip4/127.0.0.1/udp/0']) {
    const err = t.throws(() => validateListen([addr]), { code: 'INVALID' }, addr);
    t.is((err as { field?: string } | undefined)?.field, 'storage.listen');
  }
});

test('the gater test accepts only loopback hosts', (t) => {
  t.true(isLoopbackMultiaddr('/ip4/127.0.0.1/tcp/5/p2p/x'));
  t.true(isLoopbackMultiaddr('/ip6/::1/tcp/5'));
  t.true(isLoopbackMultiaddr('/ip4/127.255.255.255'));
  t.false(isLoopbackMultiaddr('/ip4/127.0.0.1000/tcp/5'));
  t.false(isLoopbackMultiaddr('/ip4/1.2.3.4/tcp/5'));
  t.false(isLoopbackMultiaddr('/ip6/::11/tcp/5'));
  t.false(isLoopbackMultiaddr('/dns4/localhost/tcp/5'));
  t.false(isLoopbackMultiaddr('/ip4/10.0.0.1/tcp/1/p2p-circuit/ip4/127.0.0.1'));
});
