// The request/response framing (src/network/rpc.ts) seen from raw libp2p
// streams on 127.0.0.1: a frame whose header announces more than the limit is
// refused before its body is read; short and malformed frames from either
// side end in typed errors, never in a hung request or a crashed node.
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import test from 'ava';
import { startNode, within } from './harness.ts';

const ECHO = '/sealpost/test-echo/1.0.0';
const RAW = '/sealpost/test-raw/1.0.0';

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** Collects what arrives on a raw stream; `closed` resolves when the stream closes (reset included). */
function collect(stream: Stream): { bytes(): Uint8Array; closed: Promise<void> } {
  const parts: Uint8Array[] = [];
  stream.addEventListener('message', (evt) => parts.push(evt.data.subarray()));
  const closed = new Promise<void>((resolve) => stream.addEventListener('close', () => resolve()));
  return { bytes: () => Buffer.concat(parts), closed };
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

test('a header announcing 1 GiB is refused after 256 KiB arrived, and the stream is reset', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  let calls = 0;
  await a.network.handle(ECHO, async (r) => {
    calls++;
    return r;
  }, { maxRequestBytes: 64 * 1024 });

  const stream = await b.network.libp2p.dialProtocol(multiaddr(a.addr), ECHO);
  const seen = collect(stream);
  stream.send(u32(1 << 30));
  stream.send(new Uint8Array(256 * 1024));
  // status 2 (TOO_LARGE), length 4, the server's limit
  t.true(await until(() => seen.bytes().length >= 9, 5_000), 'the refusal came without the rest of the gigabyte');
  t.deepEqual([...seen.bytes().subarray(0, 9)], [2, 0, 0, 0, 4, ...u32(64 * 1024)]);
  // keep pushing: the server reset the stream instead of reading on
  const sendMore = async (): Promise<void> => {
    for (let i = 0; i < 64 && stream.status === 'open' && stream.writeStatus === 'writable'; i++) {
      if (!stream.send(new Uint8Array(64 * 1024))) await stream.onDrain().catch(() => undefined);
    }
  };
  await sendMore().catch(() => undefined);
  t.true(await within(seen.closed, 5_000), 'the server reset the stream');
  t.not(stream.status, 'open');
  t.is(calls, 0);
  // the node still serves
  t.is((await b.network.request(a.addr, ECHO, Uint8Array.of(1, 2, 3))).length, 3);
});

test('a request cut short (half a frame, then close) never reaches the handler; the node serves on', async (t) => {
  const a = await startNode(t);
  const b = await startNode(t);
  let calls = 0;
  await a.network.handle(ECHO, async (r) => {
    calls++;
    return r;
  }, { maxRequestBytes: 1024 });
  for (const bytes of [Uint8Array.of(0, 0), Uint8Array.of(0, 0, 0, 10, 1, 2, 3), new Uint8Array(0)]) {
    const stream = await b.network.libp2p.dialProtocol(multiaddr(a.addr), ECHO);
    const seen = collect(stream);
    if (bytes.length > 0) stream.send(bytes);
    await stream.close();
    t.true(await within(seen.closed, 5_000), 'the server closed its end');
    t.is(seen.bytes().length, 0, 'no answer to half a request');
  }
  t.is(calls, 0);
  t.is((await b.network.request(a.addr, ECHO, Uint8Array.of(9))).length, 1);
});

/** A peer that answers every request with `reply` (raw bytes), then closes or resets. */
async function rawPeer(t: Parameters<typeof startNode>[0], reply: Uint8Array, end: 'close' | 'reset') {
  const a = await startNode(t);
  await a.network.libp2p.handle(RAW, async (stream) => {
    // wait for the request header, then answer
    await new Promise<void>((resolve) => stream.addEventListener('message', () => resolve(), { once: true }));
    if (reply.length > 0) stream.send(reply);
    if (end === 'close') await stream.close();
    else stream.abort(new Error('test reset'));
  });
  return a;
}

test('malformed responses are NETWORK_PROTOCOL_VIOLATION; none hangs the caller', async (t) => {
  const b = await startNode(t);
  const cases: Array<[string, Uint8Array]> = [
    ['unknown status', Uint8Array.of(9, 0, 0, 0, 0)],
    ['error frame not JSON', Uint8Array.of(1, 0, 0, 0, 2, 0x7b, 0x7b)],
    ['error frame without a code', Uint8Array.of(1, 0, 0, 0, 2, 0x7b, 0x7d)],
    ['error frame too long', Uint8Array.of(1, 0, 0, 0x10, 0x01)],
    ['BUSY with a payload', Uint8Array.of(3, 0, 0, 0, 1, 0)],
  ];
  for (const [what, reply] of cases) {
    const a = await rawPeer(t, reply, 'close');
    await t.throwsAsync(b.network.request(a.addr, RAW, Uint8Array.of(1), { timeoutMs: 3_000 }), { code: 'NETWORK_PROTOCOL_VIOLATION' }, what);
  }
  const lowercase = new TextEncoder().encode(JSON.stringify({ code: 'not a code', message: 'x' }));
  const a = await rawPeer(t, Uint8Array.of(1, ...u32(lowercase.length), ...lowercase), 'close');
  await t.throwsAsync(b.network.request(a.addr, RAW, Uint8Array.of(1)), { code: 'NETWORK_PROTOCOL_VIOLATION' });
});

test('a peer that closes or resets without a whole response is NETWORK_UNREACHABLE (exchange)', async (t) => {
  const b = await startNode(t);
  for (const [reply, end] of [[new Uint8Array(0), 'close'], [Uint8Array.of(0, 0, 0, 0, 9, 1, 2), 'close'], [new Uint8Array(0), 'reset'], [Uint8Array.of(0, 0, 0), 'reset']] as const) {
    const a = await rawPeer(t, reply, end);
    const err = await t.throwsAsync(b.network.request(a.addr, RAW, Uint8Array.of(1), { timeoutMs: 3_000 }), { code: 'NETWORK_UNREACHABLE' }, `${end} after ${reply.length}`);
    t.is((err as { phase?: string } | undefined)?.phase, 'exchange');
  }
});
