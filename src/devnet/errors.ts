// Errors of `sealpost devnet`, one class with a stable `code` per condition:
// the CLI prints the message, tests check the code.
import { SealpostError } from '../errors/index.ts';

export type DevnetErrorCode =
  /** no anvil binary, or anvil exited / did not answer */
  | 'DEVNET_ANVIL'
  /** a node process exited or did not listen in time */
  | 'DEVNET_NODE'
  /** another devnet runs on this directory */
  | 'DEVNET_RUNNING'
  /** devnet.json is unreadable or invalid */
  | 'DEVNET_STATE'
  /** the options contradict the network already in the directory (--nodes, --rpc-url) */
  | 'DEVNET_MISMATCH'
  /** the chain no longer holds the contracts devnet.json names */
  | 'DEVNET_CHAIN_LOST'
  /** stopped (SIGINT/SIGTERM) before the network was ready */
  | 'DEVNET_ABORTED';

export class DevnetError extends SealpostError {
  declare readonly code: DevnetErrorCode;
  constructor(code: DevnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DevnetError';
  }
}
