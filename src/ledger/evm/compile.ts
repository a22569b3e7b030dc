// Compiles Sealpost's contracts (contracts/SealpostAnchor.sol,
// contracts/SealpostRegistry.sol) with solc-js (Solidity standard JSON input,
// optimizer on). Deploying compiles on demand, so the bytecode can never
// drift from the source; each result is cached for the life of the process.
import { readFile } from 'node:fs/promises';
import solc from 'solc';
import { SealpostError } from '../../errors/index.ts';

/** The contracts Sealpost deploys; each lives in contracts/<name>.sol. */
export type ContractName = 'SealpostAnchor' | 'SealpostRegistry';

/** The source of `name`, relative to this file in src/ledger/evm/ and in dist/ledger/evm/ alike. */
export function contractSource(name: ContractName): URL {
  return new URL(`../../../contracts/${name}.sol`, import.meta.url);
}

/** The anchoring contract's source. */
export const CONTRACT_SOURCE = contractSource('SealpostAnchor');

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
  constructor(errors: string[], contract: ContractName = 'SealpostAnchor') {
    super('CONTRACT_COMPILE', `${contract}.sol does not compile: ${errors.join('; ')}`);
    this.name = 'ContractCompileError';
    this.errors = errors;
  }
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

const cache = new Map<ContractName, Promise<CompiledContract>>();

/**
 * Compiles contract `name` (once per process).
 * @throws ContractCompileError when solc reports an error
 */
export function compileContract(name: ContractName): Promise<CompiledContract> {
  let compiled = cache.get(name);
  if (compiled === undefined) {
    compiled = compile(name).catch((error: unknown) => {
      cache.delete(name);
      throw error;
    });
    cache.set(name, compiled);
  }
  return compiled;
}

/**
 * Compiles the anchoring contract (once per process).
 * @throws ContractCompileError when solc reports an error
 */
export function compileAnchorContract(): Promise<CompiledContract> {
  return compileContract('SealpostAnchor');
}

/**
 * Compiles the registry contract (once per process).
 * @throws ContractCompileError when solc reports an error
 */
export function compileRegistryContract(): Promise<CompiledContract> {
  return compileContract('SealpostRegistry');
}

async function compile(name: ContractName): Promise<CompiledContract> {
  const file = `${name}.sol`;
  const source = await readFile(contractSource(name), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { [file]: { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 1_000_000 },
      evmVersion: EVM_VERSION,
      // No metadata hash: the same source gives the same bytecode on any machine.
      metadata: { bytecodeHash: 'none' },
      outputSelection: { [file]: { [name]: ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)) as string) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error').map((e) => e.formattedMessage.trim());
  if (errors.length > 0) throw new ContractCompileError(errors, name);
  const contract = output.contracts?.[file]?.[name];
  if (contract === undefined || contract.evm.bytecode.object === '') throw new ContractCompileError(['no bytecode in the output'], name);
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}`, compiler: String(solc.version()) };
}
