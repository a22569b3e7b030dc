// The node-to-node transport on real libp2p over 127.0.0.1
// (src/network/libp2p.ts + rpc.ts): request/response between two nodes from
// two data directories, the authenticated remote node id a handler sees, the
// typed errors a caller gets (NETWORK_NO_PROTOCOL, NETWORK_FRAME_TOO_LARGE,
// NETWORK_REMOTE_ERROR, NETWORK_UNREACHABLE, NETWORK_TIMEOUT), limits, identity
// across restarts, and that nothing is dialled beyond loopback.
import { stat } from 'node:fs/promises';
import test from 'ava';
import { NotAllowedError } from '../../src/errors/index.ts';
import { loadOrCreateNodeKey } from '../../src/ledger/node-key.ts';
import { identityFiles, peerIdFromNodeId } from '../../src/network/identity.ts';
import type { RemoteNode } from '../../src/network/types.ts';
import { connectionAttempts, deferred, isLoopbackIp, startNode, within } from './harness.ts';

const ECHO = '/sealpost/test-echo/1.0.0';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

test('request/response round trip; the handler sees the caller\'s node id from its node-key.pem', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  t.regex(a.addr, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${a.identity.peerId}$`));
  t.deepEqual(a.network.self, { peerId: a.identity.peerId, nodeId: a.identity.nodeId });

  const seen: RemoteNode[] = [];
  await a.network.handle(ECHO, async (request, from) => {
    seen.push(from);
    return enc(`echo:${dec(request)}`);
  }, { maxRequestBytes: 1024 });

  t.is(dec(await b.network.request(a.addr, ECHO, enc('hello'))), 'echo:hello');
  t.is(dec(await b.network.request(a.addr, ECHO, new Uint8Array(0))), 'echo:');
  // once connected, the bare peer id is enough
  t.is(dec(await b.network.request(a.identity.peerId, ECHO, enc('again'))), 'echo:again');

  const bKey = await loadOrCreateNodeKey(identityFiles(b.dir).nodeKeyFile);
  t.is(seen.length, 3);
  for (const from of seen) t.deepEqual(from, { peerId: peerIdFromNodeId(bKey.publicKey), nodeId: bKey.publicKey });
  t.deepEqual(b.network.connections().map((c) => c.nodeId), [a.identity.nodeId]);
  t.regex(b.network.connections()[0]?.remoteAddr ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\//);

  // a 1 MiB request and response, within limits raised for it
  await a.network.handle('/sealpost/test-big/1.0.0', async (request) => request.reverse(), { maxRequestBytes: 1 << 20 });
  const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
  const back = await b.network.request(a.addr, '/sealpost/test-big/1.0.0', big.slice(), { maxResponseBytes: 1 << 20 });
  t.is(Buffer.compare(back, big.reverse()), 0);
});

test('dial returns who answered; a wrong /p2p/ id for the address is unreachable (Noise checks it)', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  const c = await startNode(t);
  t.deepEqual(await b.network.dial(a.addr), a.network.self);
  const lying = a.addr.replace(a.identity.peerId, c.identity.peerId);
  const err = await t.throwsAsync(b.network.request(lying, ECHO, enc('x')), { code: 'NETWORK_UNREACHABLE' });
  t.is((err as { phase?: string } | undefined)?.phase, 'dial');
  // a bare peer id of a node never met: no address known, nothing to look it up with
  const started = performance.now();
  await t.throwsAsync(b.network.request(c.identity.peerId, ECHO, enc('x')), { code: 'NETWORK_UNREACHABLE' });
  t.true(performance.now() - started < 2_000);
  t.deepEqual(c.network.connections(), []);
});

test('a protocol the peer does not handle gives NETWORK_NO_PROTOCOL', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  await a.network.handle(ECHO, async (r) => r, { maxRequestBytes: 16 });
  const err = await t.throwsAsync(b.network.request(a.addr, '/sealpost/nobody/1.0.0', enc('x')), { code: 'NETWORK_NO_PROTOCOL', name: 'NetworkNoProtocolError' });
  t.is((err as { protocol?: string } | undefined)?.protocol, '/sealpost/nobody/1.0.0');
  // after unhandle, the protocol is gone too
  await a.network.unhandle(ECHO);
  await t.throwsAsync(b.network.request(a.addr, ECHO, enc('x')), { code: 'NETWORK_NO_PROTOCOL' });
});

test('a request over the limit is refused with NETWORK_FRAME_TOO_LARGE and never reaches the handler', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  let calls = 0;
  await a.network.handle(ECHO, async (r) => {
    calls++;
    return r;
  }, { maxRequestBytes: 1000 });
  t.is((await b.network.request(a.addr, ECHO, new Uint8Array(1000))).length, 1000, 'exactly the limit passes');
  for (const size of [1001, 4 << 20]) {
    const err = await t.throwsAsync(b.network.request(a.addr, ECHO, new Uint8Array(size)), { code: 'NETWORK_FRAME_TOO_LARGE' });
    t.is((err as { side?: string } | undefined)?.side, 'request');
    t.is((err as { limit?: number } | undefined)?.limit, 1000);
  }
  t.is(calls, 1);
  // the connection is still good for the next request
  t.is((await b.network.request(a.addr, ECHO, enc('ok'))).length, 2);
});

test('a response over the caller\'s limit is NETWORK_FRAME_TOO_LARGE on the response side', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  await a.network.handle(ECHO, async () => new Uint8Array(5000), { maxRequestBytes: 16 });
  const err = await t.throwsAsync(b.network.request(a.addr, ECHO, enc('x'), { maxResponseBytes: 4999 }), { code: 'NETWORK_FRAME_TOO_LARGE' });
  t.is((err as { side?: string } | undefined)?.side, 'response');
  t.is((await b.network.request(a.addr, ECHO, enc('x'), { maxResponseBytes: 5000 })).length, 5000);
});

test('a handler\'s typed error reaches the caller as NETWORK_REMOTE_ERROR with its code; other errors say only INTERNAL', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  await a.network.handle(ECHO, async (request) => {
    if (dec(request) === 'typed') throw new NotAllowedError('share already released');
    throw new Error('secret internal detail');
  }, { maxRequestBytes: 64 });
  const typed = await t.throwsAsync(b.network.request(a.addr, ECHO, enc('typed')), { code: 'NETWORK_REMOTE_ERROR', name: 'NetworkRemoteError' });
  t.is((typed as { remoteCode?: string } | undefined)?.remoteCode, 'NOT_ALLOWED');
  const internal = await t.throwsAsync(b.network.request(a.addr, ECHO, enc('bug')), { code: 'NETWORK_REMOTE_ERROR' });
  t.is((internal as { remoteCode?: string } | undefined)?.remoteCode, 'INTERNAL');
  t.false(internal?.message.includes('secret') ?? true);
});

test('a stopped peer gives NETWORK_UNREACHABLE promptly, whether it was connected or not', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  const c = await startNode(t);
  await a.network.handle(ECHO, async (r) => r, { maxRequestBytes: 16 });
  await c.network.handle(ECHO, async (r) => r, { maxRequestBytes: 16 });
  await b.network.request(a.addr, ECHO, enc('x')); // b is connected to a; never to c
  await a.network.stop();
  await c.network.stop();
  for (const target of [a.addr, c.addr]) {
    const started = performance.now();
    await t.throwsAsync(b.network.request(target, ECHO, enc('x'), { timeoutMs: 10_000 }), { code: 'NETWORK_UNREACHABLE' }, target);
    t.true(performance.now() - started < 2_000, `took ${performance.now() - started} ms`);
  }
  // and the stopped node refuses calls of its own
  await t.throwsAsync(a.network.request(b.addr, ECHO, enc('x')), { code: 'NETWORK_STOPPED' });
  await a.network.stop(); // idempotent
});

test('a slow handler gives NETWORK_TIMEOUT at the caller\'s limit, and its signal aborts', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  const running = deferred();
  const aborted = deferred();
  await a.network.handle(ECHO, async (_r, _from, { signal }) => {
    running.resolve();
    signal.addEventListener('abort', () => aborted.resolve());
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    return enc('late');
  }, { maxRequestBytes: 16 });
  await b.network.dial(a.addr); // connected first, so the time is the exchange's alone
  const started = performance.now();
  const err = await t.throwsAsync(b.network.request(a.addr, ECHO, enc('x'), { timeoutMs: 600 }), { code: 'NETWORK_TIMEOUT' });
  t.is((err as { timeoutMs?: number } | undefined)?.timeoutMs, 600);
  t.true(performance.now() - started < 2_000);
  // On a loaded machine the time may run out before the handler even starts;
  // if it did start, the caller's reset must reach it.
  if (await within(running.promise, 100)) t.true(await within(aborted.promise, 5_000), 'the caller\'s reset reached the handler');
});

test('the server side times out a handler on its own limit', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  const running = deferred();
  const aborted = deferred();
  await a.network.handle(ECHO, async (_r, _from, { signal }) => {
    running.resolve();
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    aborted.resolve();
    return enc('too late');
  }, { maxRequestBytes: 16, timeoutMs: 300 });
  await b.network.dial(a.addr);
  // the server gives up and resets the stream: the caller hears it well before its own limit
  const started = performance.now();
  const err = await t.throwsAsync(b.network.request(a.addr, ECHO, enc('x'), { timeoutMs: 5_000 }), { code: 'NETWORK_UNREACHABLE' });
  t.is((err as { phase?: string } | undefined)?.phase, 'exchange');
  t.true(performance.now() - started < 2_000);
  // (on a loaded machine the server's time may run out before the handler starts)
  if (await within(running.promise, 100)) t.true(await within(aborted.promise, 5_000), 'the handler\'s signal aborted');
});

test('maxConcurrent: requests beyond it are refused as BUSY, not queued', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  const release = deferred();
  let running = 0;
  await a.network.handle(ECHO, async (request) => {
    running++;
    await release.promise;
    return request;
  }, { maxRequestBytes: 16, maxConcurrent: 2 });
  const held = [b.network.request(a.addr, ECHO, enc('1')), b.network.request(a.addr, ECHO, enc('2'))];
  while (running < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  const err = await t.throwsAsync(b.network.request(a.addr, ECHO, enc('3')), { code: 'NETWORK_REMOTE_ERROR' });
  t.is((err as { remoteCode?: string } | undefined)?.remoteCode, 'BUSY');
  release.resolve();
  t.deepEqual((await Promise.all(held)).map(dec), ['1', '2']);
  t.is(dec(await b.network.request(a.addr, ECHO, enc('4'))), '4');
});

test('allowNode refuses other nodes after the handshake, in both directions', async (t) => {
  const b = await startNode(t);
  const c = await startNode(t);
  const a = await startNode(t, { allowNode: (remote) => remote.nodeId === b.identity.nodeId });
  await a.network.handle(ECHO, async (r) => r, { maxRequestBytes: 16 });
  await c.network.handle(ECHO, async (r) => r, { maxRequestBytes: 16 });
  t.is(dec(await b.network.request(a.addr, ECHO, enc('b'))), 'b');
  await t.throwsAsync(c.network.request(a.addr, ECHO, enc('c')), { code: 'NETWORK_UNREACHABLE' });
  await t.throwsAsync(a.network.request(c.addr, ECHO, enc('a')), { code: 'NETWORK_UNREACHABLE' });
  t.deepEqual(a.network.connections().map((x) => x.nodeId), [b.identity.nodeId]);
});

test('maxConnections: a node at its limit refuses further inbound connections', async (t) => {
  const a = await startNode(t, { limits: { maxConnections: 2 } });
  await a.network.handle(ECHO, async (r) => r, { maxRequestBytes: 16 });
  const others = await Promise.all([startNode(t), startNode(t), startNode(t)]);
  const results: string[] = [];
  for (const o of others) {
    results.push(await o.network.request(a.addr, ECHO, enc('x')).then(() => 'ok', (err: unknown) => (err as { code?: string }).code ?? 'other'));
  }
  t.deepEqual(results, ['ok', 'ok', 'NETWORK_UNREACHABLE']);
  t.is(a.network.connections().length, 2);
});

test('non-loopback targets and listen addresses are refused before any dial', async (t) => {
  const a = await startNode(t);
  const before = connectionAttempts.length;
  const id = a.identity.peerId;
  for (const target of [
    `/ip4/10.0.0.1/tcp/4001/p2p/${id}`, `/ip4/8.8.8.8/tcp/4001/p2p/${id}`, `/ip4/0.0.0.0/tcp/4001/p2p/${id}`,
    `/ip6/2001:db8::1/tcp/4001/p2p/${id}`, `/dns4/localhost/tcp/4001/p2p/${id}`, `/ip4/127.0.0.1/tcp/4001`,
    `/ip4/127.0.0.1/tcp/0/p2p/${id}`, `/ip4/127.0.0.1/udp/4001/quic-v1/p2p/${id}`,
    `/ip4/127.0.0.1/tcp/4001/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N`, 'not a multiaddr', '',
  ]) {
    const err = await t.throwsAsync(a.network.request(target, ECHO, enc('x')), { code: 'INVALID' }, target);
    t.is((err as { field?: string } | undefined)?.field, 'target');
    await t.throwsAsync(a.network.dial(target), { code: 'INVALID' }, target);
  }
  t.is(connectionAttempts.length, before, 'no socket was opened');
  for (const listen of ['/ip4/0.0.0.0/tcp/0', '/ip4/192.168.1.2/tcp/4001', '/ip6/::/tcp/0', `/ip4/127.0.0.1/tcp/0/p2p/${id}`]) {
    const err = await t.throwsAsync(startNode(t, { listen: [listen] }), { code: 'INVALID' }, listen);
    t.is((err as { field?: string } | undefined)?.field, 'network.listen');
  }
  // a bad protocol name
  await t.throwsAsync(a.network.handle('no-slash', async (r) => r, { maxRequestBytes: 1 }), { code: 'INVALID' });
  await a.network.handle(ECHO, async (r) => r, { maxRequestBytes: 1 });
  await t.throwsAsync(a.network.handle(ECHO, async (r) => r, { maxRequestBytes: 1 }), { code: 'INVALID' }, 'handled twice');
});

test('a port already in use is NETWORK_LISTEN_FAILED', async (t) => {
  const a = await startNode(t);
  const port = /\/tcp\/(\d+)\//.exec(a.addr)?.[1] ?? '0';
  await t.throwsAsync(startNode(t, { listen: [`/ip4/127.0.0.1/tcp/${port}`] }), { code: 'NETWORK_LISTEN_FAILED' });
});

test('the identity is stable across restarts: same peer id and addresses\' /p2p/, x25519 file 0600', async (t) => {
  const first = await startNode(t);
  const { dir } = first;
  await first.network.stop();
  const second = await startNode(t, { dir });
  t.is(second.identity.peerId, first.identity.peerId);
  t.is(second.network.self.peerId, first.identity.peerId);
  t.true(second.addr.endsWith(`/p2p/${first.identity.peerId}`));
  t.is(Buffer.compare(second.identity.x25519.publicKey, first.identity.x25519.publicKey), 0);
  t.is((await stat(identityFiles(dir).x25519KeyFile)).mode & 0o777, 0o600);

  // a peer that knew the old address reaches the restarted node by its id
  const b = await startNode(t);
  await second.network.handle(ECHO, async (_r, from) => enc(from.nodeId), { maxRequestBytes: 16 });
  t.is(dec(await b.network.request(second.addr, ECHO, enc('x'))), b.identity.nodeId);
});

test.after('every TCP connection attempted by the tests above went to loopback', (t) => {
  t.true(connectionAttempts.length > 0, 'the recorder saw the dials');
  for (const attempt of connectionAttempts) t.true(isLoopbackIp(attempt.replace(/:\d+$/, '')), attempt);
});
