// SPDX-License-Identifier: AGPL-3.0-or-later
// Sealpost's anchoring contract: commits the Merkle roots of a ledger's
// batches (RFC 6962 §2.1 trees built off chain) to the chain, in order.
pragma solidity ^0.8.20;

/// @title SealpostAnchor
/// @notice One contract per Sealpost ledger. Only the deployer (the node's
/// account) may anchor, so a root found here was put here by that node, and
/// batches must come in order (ids 1, 2, 3…, each starting at the record after
/// the previous batch's last one), so the chain alone shows that no batch was
/// left out and that no batch was anchored twice with different contents.
contract SealpostAnchor {
    /// @dev Everything about one root in a single storage slot (40+48+64+64+32
    /// = 248 bits): an anchor costs one fresh SSTORE (20,000 gas), its bulk.
    struct Anchor {
        uint40 time;
        uint48 blockNumber;
        uint64 batchId;
        uint64 firstSeq;
        uint32 size;
    }

    /// @notice The account allowed to anchor. Immutable: it lives in the code,
    /// reading it costs no SLOAD.
    address public immutable owner;

    mapping(bytes32 root => Anchor) private anchors;

    /// @notice The id of the last batch anchored (0 before the first).
    uint64 public lastBatchId;
    /// @notice The sequence number of the last record anchored (0 before the first).
    /// @dev Shares a slot with lastBatchId: keeping order costs one warm-ish SSTORE (~5,000 gas).
    uint64 public lastSeq;

    /// @notice Batch `batchId`, records firstSeq .. firstSeq+size-1, has Merkle
    /// root `root`; anchored at block time `time` (seconds).
    event Anchored(bytes32 indexed root, uint64 indexed batchId, uint64 firstSeq, uint32 size, uint64 time);

    /// @notice The root was anchored before, as batch `batchId` in block `blockNumber`.
    error AlreadyAnchored(bytes32 root, uint64 batchId, uint64 blockNumber);
    /// @notice The batch is not the next one: the contract expects these values.
    error OutOfOrder(uint64 expectedBatchId, uint64 expectedFirstSeq);
    /// @notice The caller is not the owner.
    error NotOwner(address caller);

    constructor() {
        owner = msg.sender;
    }

    /// @notice Anchors `root`, the Merkle root of batch `batchId` over records
    /// firstSeq .. firstSeq+size-1.
    /// @dev Reverts on a root that is already anchored: the first anchor's time
    /// is the one that counts. The client checks anchoredAt first.
    function anchor(bytes32 root, uint64 batchId, uint64 firstSeq, uint32 size) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        Anchor storage existing = anchors[root];
        if (existing.time != 0) revert AlreadyAnchored(root, existing.batchId, existing.blockNumber);
        uint64 nextSeq = lastSeq + 1;
        if (batchId != lastBatchId + 1 || firstSeq != nextSeq) revert OutOfOrder(lastBatchId + 1, nextSeq);
        lastBatchId = batchId;
        lastSeq = firstSeq + size - 1;
        uint64 time = uint64(block.timestamp);
        anchors[root] = Anchor(uint40(time), uint48(block.number), batchId, firstSeq, size);
        emit Anchored(root, batchId, firstSeq, size, time);
    }

    /// @notice How `root` was anchored: block time (seconds), block number,
    /// batch id, first record and size; all zero when it never was.
    function anchoredAt(bytes32 root)
        external
        view
        returns (uint64 time, uint64 blockNumber, uint64 batchId, uint64 firstSeq, uint32 size)
    {
        Anchor memory a = anchors[root];
        return (a.time, a.blockNumber, a.batchId, a.firstSeq, a.size);
    }
}
