// Requests a node makes to itself. libp2p does not dial its own peer id, yet a
// node can be both parties of an exchange: a recipient's node that is also one
// of the message's custodians asks itself for its share. This wrapper answers
// such a request with the node's own handler, in process, as a remote peer
// would be answered: the same authenticated caller (the node itself), the same
// typed refusals (NetworkRemoteError with the handler's code).
import { SealpostError } from '../errors/index.ts';
import { NetworkNoProtocolError, NetworkRemoteError } from './errors.ts';
import type { Network, RequestHandler } from './types.ts';

/** The network, with requests to this node's own peer id served by its own handlers. */
export function withSelfRequests(network: Network): Network {
  const handlers = new Map<string, RequestHandler>();
  const self = network.self;
  const isSelf = (target: string): boolean => target === self.peerId || target.endsWith(`/p2p/${self.peerId}`);
  return {
    self,
    libp2p: network.libp2p,
    addrs: () => network.addrs(),
    connections: () => network.connections(),
    dial: (addr, options) => network.dial(addr, options),
    stop: () => network.stop(),
    async handle(protocol, handler, options) {
      await network.handle(protocol, handler, options);
      handlers.set(protocol, handler);
    },
    async unhandle(protocol) {
      handlers.delete(protocol);
      await network.unhandle(protocol);
    },
    async request(target, protocol, body, options) {
      if (!isSelf(target)) return network.request(target, protocol, body, options);
      const handler = handlers.get(protocol);
      if (handler === undefined) throw new NetworkNoProtocolError(protocol);
      const signal = options?.signal ?? AbortSignal.timeout(options?.timeoutMs ?? 10_000);
      try {
        return await handler(new Uint8Array(body), self, { signal });
      } catch (error) {
        if (error instanceof SealpostError) throw new NetworkRemoteError(error.code, error.message);
        throw new NetworkRemoteError('INTERNAL', 'the handler failed');
      }
    },
  };
}
