// The ABIs of contracts/SealpostAnchor.sol and contracts/SealpostRegistry.sol
// as typed constants, so that calls are type checked without compiling at run
// time. test/ledger/evm.test.ts and test/registry/evm.test.ts compile the
// sources and assert that solc's ABIs equal these (no drift).

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

// SealpostRegistry: used by chain.ts openRegistryChain (for src/registry/evm.ts).
export const sealpostRegistryAbi = [
  { inputs: [], stateMutability: 'nonpayable', type: 'constructor' },
  {
    inputs: [
      { internalType: 'bytes32', name: 'addressHash', type: 'bytes32' },
      { internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
    ],
    name: 'AddressTaken',
    type: 'error',
  },
  { inputs: [{ internalType: 'uint8', name: 'field', type: 'uint8' }], name: 'BadField', type: 'error' },
  {
    inputs: [{ internalType: 'uint256', name: 'offset', type: 'uint256' }],
    name: 'MalformedAnnouncements',
    type: 'error',
  },
  {
    inputs: [
      { internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
      { internalType: 'address', name: 'owner', type: 'address' },
    ],
    name: 'NotNodeOwner',
    type: 'error',
  },
  { inputs: [{ internalType: 'uint64', name: 'current', type: 'uint64' }], name: 'StaleSeq', type: 'error' },
  {
    inputs: [{ internalType: 'bytes32', name: 'nodeId', type: 'bytes32' }],
    name: 'UnknownNode',
    type: 'error',
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: 'bytes32', name: 'addressHash', type: 'bytes32' },
      { indexed: true, internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
      { indexed: false, internalType: 'uint64', name: 'seq', type: 'uint64' },
    ],
    name: 'AddressClaimed',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      { indexed: false, internalType: 'uint64', name: 'time', type: 'uint64' },
      { indexed: false, internalType: 'bytes', name: 'entries', type: 'bytes' },
    ],
    name: 'Announced',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: 'bytes32', name: 'messageRef', type: 'bytes32' },
      { indexed: true, internalType: 'bytes32', name: 'custodian', type: 'bytes32' },
      { indexed: false, internalType: 'uint64', name: 'time', type: 'uint64' },
      { indexed: false, internalType: 'bytes32', name: 'sigR', type: 'bytes32' },
      { indexed: false, internalType: 'bytes32', name: 'sigS', type: 'bytes32' },
    ],
    name: 'DeletionRecorded',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      { indexed: true, internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
      { indexed: true, internalType: 'address', name: 'owner', type: 'address' },
      { indexed: false, internalType: 'uint64', name: 'seq', type: 'uint64' },
    ],
    name: 'NodeRegistered',
    type: 'event',
  },
  {
    inputs: [{ internalType: 'bytes', name: 'entries', type: 'bytes' }],
    name: 'announce',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [{ internalType: 'bytes32', name: 'addressHash', type: 'bytes32' }],
    name: 'claim',
    outputs: [
      { internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
      { internalType: 'uint64', name: 'seq', type: 'uint64' },
      { internalType: 'bytes32', name: 'sigR', type: 'bytes32' },
      { internalType: 'bytes32', name: 'sigS', type: 'bytes32' },
      { internalType: 'bytes', name: 'fingerprint', type: 'bytes' },
      { internalType: 'string', name: 'keyRef', type: 'string' },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      { internalType: 'bytes32', name: 'addressHash', type: 'bytes32' },
      { internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
      { internalType: 'uint64', name: 'seq', type: 'uint64' },
      { internalType: 'bytes', name: 'fingerprint', type: 'bytes' },
      { internalType: 'string', name: 'keyRef', type: 'string' },
      { internalType: 'bytes32', name: 'sigR', type: 'bytes32' },
      { internalType: 'bytes32', name: 'sigS', type: 'bytes32' },
    ],
    name: 'claimAddress',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [],
    name: 'deployBlock',
    outputs: [{ internalType: 'uint256', name: '', type: 'uint256' }],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [{ internalType: 'bytes32', name: 'nodeId', type: 'bytes32' }],
    name: 'node',
    outputs: [
      { internalType: 'address', name: 'owner', type: 'address' },
      { internalType: 'uint64', name: 'seq', type: 'uint64' },
      { internalType: 'bytes32', name: 'encKey', type: 'bytes32' },
      { internalType: 'bytes32', name: 'sigR', type: 'bytes32' },
      { internalType: 'bytes32', name: 'sigS', type: 'bytes32' },
      { internalType: 'bytes', name: 'addrs', type: 'bytes' },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'nodeCount',
    outputs: [{ internalType: 'uint256', name: '', type: 'uint256' }],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      { internalType: 'uint256', name: 'offset', type: 'uint256' },
      { internalType: 'uint256', name: 'limit', type: 'uint256' },
    ],
    name: 'nodesPage',
    outputs: [
      {
        components: [
          { internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
          { internalType: 'address', name: 'owner', type: 'address' },
          { internalType: 'uint64', name: 'seq', type: 'uint64' },
          { internalType: 'bytes32', name: 'encKey', type: 'bytes32' },
          { internalType: 'bytes32', name: 'sigR', type: 'bytes32' },
          { internalType: 'bytes32', name: 'sigS', type: 'bytes32' },
          { internalType: 'bytes', name: 'addrs', type: 'bytes' },
        ],
        internalType: 'struct SealpostRegistry.NodeView[]',
        name: 'page',
        type: 'tuple[]',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      { internalType: 'bytes32', name: 'messageRef', type: 'bytes32' },
      { internalType: 'bytes32', name: 'custodian', type: 'bytes32' },
      { internalType: 'uint64', name: 'time', type: 'uint64' },
      { internalType: 'bytes32', name: 'sigR', type: 'bytes32' },
      { internalType: 'bytes32', name: 'sigS', type: 'bytes32' },
    ],
    name: 'recordDeletion',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [
      { internalType: 'bytes32', name: 'nodeId', type: 'bytes32' },
      { internalType: 'bytes32', name: 'encKey', type: 'bytes32' },
      { internalType: 'uint64', name: 'seq', type: 'uint64' },
      { internalType: 'bytes', name: 'addrs', type: 'bytes' },
      { internalType: 'bytes32', name: 'sigR', type: 'bytes32' },
      { internalType: 'bytes32', name: 'sigS', type: 'bytes32' },
    ],
    name: 'registerNode',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
] as const;
