// Build step: compiles contracts/SealpostAnchor.sol with solc-js and writes
// dist/contracts/SealpostAnchor.json ({ contractName, abi, bytecode, compiler })
// for tools outside Sealpost (block explorers' verification, other clients).
// Sealpost itself compiles on demand when deploying, so nothing reads this file back.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileAnchorContract } from '../src/ledger/evm/compile.ts';

const out = fileURLToPath(new URL('../dist/contracts/SealpostAnchor.json', import.meta.url));
const { abi, bytecode, compiler } = await compileAnchorContract();
await mkdir(new URL('../dist/contracts/', import.meta.url), { recursive: true });
await writeFile(out, `${JSON.stringify({ contractName: 'SealpostAnchor', abi, bytecode, compiler }, null, 2)}\n`);
console.log(`wrote ${out} (${(bytecode.length - 2) / 2} bytes of creation code, ${compiler})`);
