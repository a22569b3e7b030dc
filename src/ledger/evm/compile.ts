// Compiles contracts/SealpostAnchor.sol with solc-js (Solidity standard JSON
// input, optimizer on). Deploying compiles on demand, so the bytecode can never
// drift from the source; the result is cached for the life of the process.
import { readFile } from 'node:fs/promises';
import solc from 'solc';
import { SealpostError } from '../../errors/index.ts';

/** The contract source, relative to this file in src/ledger/evm/ and in dist/ledger/evm/ alike. */
export const CONTRACT_SOURCE = new URL('../../../contracts/SealpostAnchor.sol', import.meta.url);

/**
 * Pinned so that the bytecode runs on chains without the newest opcodes
 * (cancun: PUSH0 and MCOPY are widely available, later forks are not).
 */
const EVM_VERSION = 'cancun';

export interface CompiledContract {
  /** the ABI exactly as solc emits it (JSON) */
  abi: unknown[];
  /** creation bytecode, 0x-prefixed */
  bytecode: `0x${string}`;
  /** the solc version that compiled it, e.g. 0.8.37+commit.… */
  compiler: string;
}

/** The compiler refused the source; `errors` holds solc's formatted messages. */
export class ContractCompileError extends SealpostError {
  readonly errors: string[];
  constructor(errors: string[]) {
    super('CONTRACT_COMPILE', `SealpostAnchor.sol does not compile: ${errors.join('; ')}`);
    this.name = 'ContractCompileError';
    this.errors = errors;
  }
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

let cached: Promise<CompiledContract> | undefined;

/**
 * Compiles the anchoring contract (once per process).
 * @throws ContractCompileError when solc reports an error
 */
export function compileAnchorContract(): Promise<CompiledContract> {
  cached ??= compile().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function compile(): Promise<CompiledContract> {
  const source = await readFile(CONTRACT_SOURCE, 'utf8');
  const input = {
    language: 'Solidity',
    sources: { 'SealpostAnchor.sol': { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 1_000_000 },
      evmVersion: EVM_VERSION,
      // No metadata hash: the same source gives the same bytecode on any machine.
      metadata: { bytecodeHash: 'none' },
      outputSelection: { 'SealpostAnchor.sol': { SealpostAnchor: ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)) as string) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error').map((e) => e.formattedMessage.trim());
  if (errors.length > 0) throw new ContractCompileError(errors);
  const contract = output.contracts?.['SealpostAnchor.sol']?.['SealpostAnchor'];
  if (contract === undefined || contract.evm.bytecode.object === '') throw new ContractCompileError(['no bytecode in the output']);
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}`, compiler: String(solc.version()) };
}
