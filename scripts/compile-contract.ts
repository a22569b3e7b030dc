// Build step: compiles contracts/SealpostAnchor.sol and
// contracts/SealpostRegistry.sol with solc-js and writes
// dist/contracts/<name>.json ({ contractName, abi, bytecode, compiler }) for
// tools outside Sealpost (block explorers' verification, other clients).
// Sealpost itself compiles on demand when deploying, so nothing reads these files back.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileContract, type ContractName } from '../src/ledger/evm/compile.ts';

const names: ContractName[] = ['SealpostAnchor', 'SealpostRegistry'];
await mkdir(new URL('../dist/contracts/', import.meta.url), { recursive: true });
for (const contractName of names) {
  const out = fileURLToPath(new URL(`../dist/contracts/${contractName}.json`, import.meta.url));
  const { abi, bytecode, compiler } = await compileContract(contractName);
  await writeFile(out, `${JSON.stringify({ contractName, abi, bytecode, compiler }, null, 2)}\n`);
  console.log(`wrote ${out} (${(bytecode.length - 2) / 2} bytes of creation code, ${compiler})`);
}
