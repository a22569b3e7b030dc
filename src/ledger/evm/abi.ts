// The ABI of contracts/SealpostAnchor.sol as a typed constant, so that calls
// are type checked without compiling at run time. test/ledger/evm.test.ts
// compiles the source and asserts that solc's ABI equals this one (no drift).

export const sealpostAnchorAbi = [
  { inputs: [], stateMutability: 'nonpayable', type: 'constructor' },
  {
    inputs: [
      { internalType: 'bytes32', name: 'root', type: 'bytes32' },
      { internalType: 'uint64', name: 'batchId', type: 'uint64' },
      { internalType: 'uint64', name: 'blockNumber', type: 'uint64' },
    ],
    name: 'AlreadyAnchored',
    type: 'error',
  },
  {
    inputs: [{ internalType: 'address', name: 'caller', type: 'address' }],
    name: 'NotOwner',
    type: 'error',
  },
  {
    inputs: [
      { internalType: 'uint64', name: 'expectedBatchId', type: 'uint64' },
      { internalType: 'uint64', name: 'expectedFirstSeq', type: 'uint64' },
    ],
    name: 'OutOfOrder',
    type: 'error',
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: 'bytes32', name: 'root', type: 'bytes32' },
      { indexed: true, internalType: 'uint64', name: 'batchId', type: 'uint64' },
      { indexed: false, internalType: 'uint64', name: 'firstSeq', type: 'uint64' },
      { indexed: false, internalType: 'uint32', name: 'size', type: 'uint32' },
      { indexed: false, internalType: 'uint64', name: 'time', type: 'uint64' },
    ],
    name: 'Anchored',
    type: 'event',
  },
  {
    inputs: [
      { internalType: 'bytes32', name: 'root', type: 'bytes32' },
      { internalType: 'uint64', name: 'batchId', type: 'uint64' },
      { internalType: 'uint64', name: 'firstSeq', type: 'uint64' },
      { internalType: 'uint32', name: 'size', type: 'uint32' },
    ],
    name: 'anchor',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [{ internalType: 'bytes32', name: 'root', type: 'bytes32' }],
    name: 'anchoredAt',
    outputs: [
      { internalType: 'uint64', name: 'time', type: 'uint64' },
      { internalType: 'uint64', name: 'blockNumber', type: 'uint64' },
      { internalType: 'uint64', name: 'batchId', type: 'uint64' },
      { internalType: 'uint64', name: 'firstSeq', type: 'uint64' },
      { internalType: 'uint32', name: 'size', type: 'uint32' },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'lastBatchId',
    outputs: [{ internalType: 'uint64', name: '', type: 'uint64' }],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'lastSeq',
    outputs: [{ internalType: 'uint64', name: '', type: 'uint64' }],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'owner',
    outputs: [{ internalType: 'address', name: '', type: 'address' }],
    stateMutability: 'view',
    type: 'function',
  },
] as const;
