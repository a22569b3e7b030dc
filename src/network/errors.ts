// Errors of the node-to-node transport (network/), one class per condition
// with a stable `code` and `name`: callers and tests check those, never the
// message. A handler's own typed error travels back to the caller inside
// NetworkRemoteError (its `remoteCode`), so the caller can tell "the custodian
// said no" from "the custodian could not be reached".
import { SealpostError } from '../errors/index.ts';

/**
 * The peer could not be reached: the dial failed (refused, no route, gated,
 * peer stopped), or the connection dropped before a response came back (then
 * `phase` is 'exchange' and the request may or may not have been processed).
 */
export class NetworkUnreachableError extends SealpostError {
  readonly target: string;
  readonly phase: 'dial' | 'exchange';
  constructor(target: string, phase: 'dial' | 'exchange', message: string, options?: { cause?: unknown }) {
    super('NETWORK_UNREACHABLE', message, options);
    this.name = 'NetworkUnreachableError';
    this.target = target;
    this.phase = phase;
  }
}

/** A dial or a request did not finish within its time limit. */
export class NetworkTimeoutError extends SealpostError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('NETWORK_TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.name = 'NetworkTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A frame was larger than the limit: a request refused by the server
 * (`side` 'request') or a response refused by the client ('response').
 */
export class NetworkFrameTooLargeError extends SealpostError {
  readonly side: 'request' | 'response';
  readonly limit: number;
  constructor(side: 'request' | 'response', limit: number, size?: number) {
    super('NETWORK_FRAME_TOO_LARGE', `${side} frame${size === undefined ? '' : ` of ${size} octets`} exceeds the limit of ${limit} octets`);
    this.name = 'NetworkFrameTooLargeError';
    this.side = side;
    this.limit = limit;
  }
}

/** The remote handler refused the request with a typed error; `remoteCode` is its code. */
export class NetworkRemoteError extends SealpostError {
  readonly remoteCode: string;
  constructor(remoteCode: string, message: string) {
    super('NETWORK_REMOTE_ERROR', message);
    this.name = 'NetworkRemoteError';
    this.remoteCode = remoteCode;
  }
}

/** The peer was reached but does not speak the protocol asked for. */
export class NetworkNoProtocolError extends SealpostError {
  readonly protocol: string;
  constructor(protocol: string, options?: { cause?: unknown }) {
    super('NETWORK_NO_PROTOCOL', `the peer does not handle ${protocol}`, options);
    this.name = 'NetworkNoProtocolError';
    this.protocol = protocol;
  }
}

/** The peer broke the framing (short frame, bad status byte, malformed error frame). */
export class NetworkProtocolViolationError extends SealpostError {
  constructor(message: string) {
    super('NETWORK_PROTOCOL_VIOLATION', message);
    this.name = 'NetworkProtocolViolationError';
  }
}

/** The local network was stopped and cannot take this call. */
export class NetworkStoppedError extends SealpostError {
  constructor() {
    super('NETWORK_STOPPED', 'the network is stopped');
    this.name = 'NetworkStoppedError';
  }
}

/** The node could not listen on an address (port taken, address not on this machine). */
export class NetworkListenError extends SealpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK_LISTEN_FAILED', message, options);
    this.name = 'NetworkListenError';
  }
}
