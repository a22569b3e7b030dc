// Request/response over one libp2p protocol stream (one stream per request):
// the client sends one length-prefixed request frame and half-closes; the
// server answers with one response frame and closes. Frames:
//
//   request  = length:u32be body
//   response = status:u8 length:u32be payload
//     status 0 OK        payload = response body
//     status 1 ERROR     payload = UTF-8 JSON {"code": string, "message": string} (≤ 4 KiB), a handler's typed error
//     status 2 TOO_LARGE payload = limit:u32be, the request frame exceeded the server's limit
//     status 3 BUSY      payload empty, too many requests of this protocol in progress
//
// A length is checked against the limit as soon as its header arrives, so an
// oversized frame is refused without its body being buffered. Only the
// Stream type of @libp2p/interface is used here; network/libp2p.ts opens the
// streams (libp2p streams reference: libp2p/specs, yamux + multistream-select).
import type { Stream, StreamMessageEvent } from '@libp2p/interface';
import type { Logger } from 'pino';
import { SealpostError } from '../errors/index.ts';
import { NetworkFrameTooLargeError, NetworkProtocolViolationError, NetworkRemoteError, NetworkUnreachableError } from './errors.ts';
import type { HandleOptions, RemoteNode, RequestHandler } from './types.ts';

const STATUS_OK = 0;
const STATUS_ERROR = 1;
const STATUS_TOO_LARGE = 2;
const STATUS_BUSY = 3;
const REQUEST_HEADER = 4;
const RESPONSE_HEADER = 5;
/** the largest error payload a client accepts (code + a short message) */
const MAX_ERROR_PAYLOAD = 4096;
/** the longest handler message sent back; the rest is cut */
const MAX_ERROR_MESSAGE = 512;
/** what one frame length can say (u32) */
export const MAX_FRAME_LIMIT = 0xffff_ffff;

export const DEFAULT_MAX_CONCURRENT = 16;
export const DEFAULT_HANDLER_TIMEOUT_MS = 30_000;

/** The stream ended or was reset before a whole frame arrived. */
class StreamEndedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamEndedError';
  }
}

interface Frame {
  header: Uint8Array;
  body: Uint8Array;
}

/**
 * Reads one frame: `headerSize` octets, whose `lengthOf` gives the body
 * length; rejects with `tooLarge(length)` (if it returns an error) as soon as
 * the header is in. Bytes after the frame are left unread.
 */
function readFrame(
  stream: Stream,
  headerSize: number,
  lengthOf: (header: Uint8Array) => number,
  tooLarge: (header: Uint8Array, length: number) => Error | null,
  signal: AbortSignal,
): Promise<Frame> {
  return new Promise<Frame>((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let have = 0;
    let header: Uint8Array | null = null;
    let need = -1;

    const cleanup = (): void => {
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('end', onEnd);
      stream.removeEventListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onMessage = (evt: StreamMessageEvent): void => {
      const data = evt.data.subarray();
      chunks.push(data);
      have += data.byteLength;
      if (header === null) {
        if (have < headerSize) return;
        const all = join(chunks, have);
        header = all.subarray(0, headerSize);
        need = lengthOf(header);
        const refused = tooLarge(header, need);
        if (refused !== null) return fail(refused);
        chunks.length = 0;
        chunks.push(all.subarray(headerSize));
        have -= headerSize;
      }
      if (have >= need) {
        cleanup();
        resolve({ header, body: join(chunks, have).subarray(0, need) });
      }
    };
    const onEnd = (): void => fail(new StreamEndedError(header === null ? 'stream ended before a frame header' : `stream ended after ${have} of ${need} octets`));
    const onClose = (evt: Event): void => fail(new StreamEndedError('stream closed before a whole frame', { cause: (evt as Event & { error?: unknown }).error }));
    const onAbort = (): void => fail(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));

    if (signal.aborted) return onAbort();
    if (stream.status !== 'open' || stream.readableEnded) return fail(new StreamEndedError('stream is not readable'));
    stream.addEventListener('message', onMessage);
    stream.addEventListener('end', onEnd);
    stream.addEventListener('close', onClose);
    signal.addEventListener('abort', onAbort);
  });
}

/** Sends `parts` and waits until the transport took them (backpressure), then half-closes. */
async function sendAndClose(stream: Stream, parts: Uint8Array[], signal: AbortSignal): Promise<void> {
  for (const part of parts) {
    if (part.byteLength === 0) continue;
    if (!stream.send(part)) await stream.onDrain({ signal });
  }
  await stream.close({ signal });
}

function join(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function responseHeader(status: number, length: number): Uint8Array {
  const b = new Uint8Array(RESPONSE_HEADER);
  b[0] = status;
  new DataView(b.buffer).setUint32(1, length);
  return b;
}

function readU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);
}

// ---- client ----

/**
 * One exchange on a freshly opened stream: sends `body`, returns the response
 * body. Aborting `signal` resets the stream and rejects with its reason.
 * @throws NetworkFrameTooLargeError (side 'request' from the server, 'response' locally)
 * @throws NetworkRemoteError (handler error, or remoteCode 'BUSY')
 * @throws NetworkUnreachableError (phase 'exchange') when the stream ends before a response
 * @throws NetworkProtocolViolationError on a malformed response
 */
export async function exchange(stream: Stream, target: string, body: Uint8Array, maxResponseBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  if (body.byteLength > MAX_FRAME_LIMIT) {
    stream.abort(new Error('request too large'));
    throw new NetworkFrameTooLargeError('request', MAX_FRAME_LIMIT, body.byteLength);
  }
  const response = readFrame(
    stream,
    RESPONSE_HEADER,
    (h) => readU32(h, 1),
    (h, length) => {
      if (h[0] === STATUS_OK) return length > maxResponseBytes ? new NetworkFrameTooLargeError('response', maxResponseBytes, length) : null;
      if (h[0] === STATUS_ERROR) return length > MAX_ERROR_PAYLOAD ? new NetworkProtocolViolationError(`error frame of ${length} octets`) : null;
      if (h[0] === STATUS_TOO_LARGE) return length === 4 ? null : new NetworkProtocolViolationError('malformed TOO_LARGE frame');
      if (h[0] === STATUS_BUSY) return length === 0 ? null : new NetworkProtocolViolationError('malformed BUSY frame');
      return new NetworkProtocolViolationError(`unknown response status ${h[0]}`);
    },
    signal,
  );
  // The server may answer (e.g. refuse a too large frame) while the request
  // is still going out; then sending fails with a reset, and the answer wins.
  let sendError: unknown = null;
  const sent = sendAndClose(stream, [u32(body.byteLength), body], signal).catch((err: unknown) => {
    sendError = err;
  });
  let frame: Frame;
  try {
    frame = await response;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    if (signal.aborted) throw signal.reason;
    if (err instanceof StreamEndedError) {
      await sent;
      throw new NetworkUnreachableError(target, 'exchange', 'the stream ended before a response', { cause: sendError ?? err.cause ?? err });
    }
    throw err;
  }
  const status = frame.header[0];
  if (status === STATUS_OK) {
    // The request is fully sent once the server answered OK; let the half-close finish.
    await sent;
    return frame.body;
  }
  stream.abort(new Error('request refused'));
  if (status === STATUS_TOO_LARGE) throw new NetworkFrameTooLargeError('request', readU32(frame.body, 0), body.byteLength);
  if (status === STATUS_BUSY) throw new NetworkRemoteError('BUSY', 'the peer is busy with other requests of this protocol');
  throw remoteError(frame.body);
}

function remoteError(payload: Uint8Array): Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return new NetworkProtocolViolationError('error frame is not UTF-8 JSON');
  }
  const { code, message } = (parsed ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(code) || typeof message !== 'string') {
    return new NetworkProtocolViolationError('error frame lacks a valid code and message');
  }
  return new NetworkRemoteError(code, message.slice(0, MAX_ERROR_MESSAGE));
}

// ---- server ----

/** Serves one protocol: returns what to call for each inbound stream. */
export function rpcServer(protocol: string, handler: RequestHandler, options: HandleOptions, log: Logger): (stream: Stream, from: RemoteNode) => Promise<void> {
  const maxRequestBytes = options.maxRequestBytes;
  const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
  let active = 0;

  return async (stream, from) => {
    // A timer cleared when the request is done (AbortSignal.timeout would keep
    // the stream reachable for the whole timeout after every request).
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException('request timed out', 'TimeoutError')), timeoutMs);
    try {
      await serveStream(stream, from, timeout.signal);
    } finally {
      clearTimeout(timer);
    }
  };

  async function serveStream(stream: Stream, from: RemoteNode, signal: AbortSignal): Promise<void> {
    if (active >= maxConcurrent) {
      // Refuse once the request header is in: the client has then finished
      // negotiating the protocol, so the refusal cannot race its
      // multistream-select read and be lost in the reset that follows it.
      const busy = new Error('busy');
      const refused = await readFrame(stream, REQUEST_HEADER, (h) => readU32(h, 0), () => busy, signal).catch((err: unknown) => err);
      if (refused !== busy) {
        stream.abort(new Error('request stream ended early'));
        return;
      }
      log.warn({ protocol, peer: from.nodeId, active }, 'refusing request: too many in progress');
      await reply(stream, responseHeader(STATUS_BUSY, 0), new Uint8Array(0), signal, true);
      return;
    }
    active++;
    try {
      await serveOne(stream, from, signal);
    } finally {
      active--;
    }
  }

  async function serveOne(stream: Stream, from: RemoteNode, signal: AbortSignal): Promise<void> {
    let request: Frame;
    try {
      request = await readFrame(stream, REQUEST_HEADER, (h) => readU32(h, 0), (_h, length) => (length > maxRequestBytes ? new NetworkFrameTooLargeError('request', maxRequestBytes, length) : null), signal);
    } catch (err) {
      if (err instanceof NetworkFrameTooLargeError) {
        log.warn({ protocol, peer: from.nodeId, limit: maxRequestBytes }, 'refusing request: frame too large');
        await reply(stream, responseHeader(STATUS_TOO_LARGE, 4), u32(maxRequestBytes), signal, true);
        return;
      }
      log.debug({ protocol, peer: from.nodeId, err: (err as Error).message }, 'request stream ended early');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // The caller's reset may have come in the same read as the frame's last
    // octets, its 'close' event before this listener: then it is too late.
    if (stream.status !== 'open') {
      log.debug({ protocol, peer: from.nodeId, status: stream.status }, 'request withdrawn before the handler ran');
      return;
    }
    const abortOnClose = new AbortController();
    const onClose = (): void => abortOnClose.abort(new Error('stream closed'));
    stream.addEventListener('close', onClose);
    const handlerSignal = AbortSignal.any([signal, abortOnClose.signal]);
    let header: Uint8Array;
    let payload: Uint8Array;
    try {
      payload = await handler(request.body, from, { signal: handlerSignal });
      header = responseHeader(STATUS_OK, payload.byteLength);
    } catch (err) {
      if (!(err instanceof SealpostError)) log.error({ protocol, peer: from.nodeId, err }, 'BUG: request handler failed');
      const code = err instanceof SealpostError ? err.code : 'INTERNAL';
      const message = err instanceof SealpostError ? err.message.slice(0, MAX_ERROR_MESSAGE) : 'internal error';
      payload = new TextEncoder().encode(JSON.stringify({ code, message }));
      header = responseHeader(STATUS_ERROR, payload.byteLength);
    } finally {
      stream.removeEventListener('close', onClose);
    }
    if (handlerSignal.aborted) {
      log.warn({ protocol, peer: from.nodeId, timedOut: signal.aborted }, 'request abandoned: timed out or stream closed');
      stream.abort(new Error('request abandoned'));
      return;
    }
    await reply(stream, header, payload, signal, false);
  }

  /** Sends the answer and closes; `refuse` then resets the stream so the client stops sending a body we will not read. */
  async function reply(stream: Stream, header: Uint8Array, payload: Uint8Array, signal: AbortSignal, refuse: boolean): Promise<void> {
    try {
      await sendAndClose(stream, [header, payload], signal);
      if (refuse) stream.abort(new Error('request refused'));
    } catch (err) {
      log.debug({ protocol, err: (err as Error).message }, 'could not send the response');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
