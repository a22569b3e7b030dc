// SPDX-License-Identifier: AGPL-3.0-or-later
// Sealpost's node registry and announcement board: which nodes exist (their
// addresses and encryption keys), which node serves which mail address (by
// hash), stealth announcements of new mail (the ERC-5564 idea) and custodians'
// deletion receipts. Encodings and signatures: src/registry/records.ts.
pragma solidity ^0.8.20;

/// @title SealpostRegistry
/// @notice One contract per Sealpost network. Records are signed with the
/// nodes' Ed25519 keys; the EVM has no Ed25519 precompile, so the contract
/// does not check those signatures (readers do, and skip what fails). What it
/// enforces is what a reader cannot: order (first come for a node id and for
/// an address hash), ownership (a node id belongs to the account that first
/// registered it; only that account may update it, claim addresses or post
/// deletion receipts for it) and monotonic sequence numbers.
contract SealpostRegistry {
    /// @dev Slot 0 packs owner and seq (160 + 64 bits); addrs is the
    /// canonical address list (records.ts encodeAddrs), opaque here.
    struct Node {
        address owner;
        uint64 seq;
        bytes32 encKey;
        bytes32 sigR;
        bytes32 sigS;
        bytes addrs;
    }

    /// @notice A node as the paged listing returns it.
    struct NodeView {
        bytes32 nodeId;
        address owner;
        uint64 seq;
        bytes32 encKey;
        bytes32 sigR;
        bytes32 sigS;
        bytes addrs;
    }

    /// @dev fingerprint: 20 (OpenPGP v4) or 32 (v6) bytes; keyRef: where the
    /// account's public key is fetched (a CID string).
    struct Claim {
        bytes32 nodeId;
        uint64 seq;
        bytes32 sigR;
        bytes32 sigS;
        bytes fingerprint;
        string keyRef;
    }

    /// @notice The block this contract was created in: readers scan logs from here.
    uint256 public immutable deployBlock;

    mapping(bytes32 nodeId => Node) private nodes;
    bytes32[] private nodeIds;
    /// @dev Keyed by SHA-256 of the lower-cased address (records.ts
    /// addressHash): the chain never lists plain addresses.
    mapping(bytes32 addressHash => Claim) private claims;

    /// @dev Largest payload of one announcement, and the fixed part of one
    /// packed entry: ephemeral key 32, view tag 1, tag 32, payload length 2.
    uint256 private constant MAX_PAYLOAD = 1024;
    uint256 private constant ENTRY_HEAD = 67;

    event NodeRegistered(bytes32 indexed nodeId, address indexed owner, uint64 seq);
    event AddressClaimed(bytes32 indexed addressHash, bytes32 indexed nodeId, uint64 seq);
    /// @notice A batch of announcements, packed (records.ts packAnnouncements); `time` is the block time in seconds.
    event Announced(uint64 time, bytes entries);
    /// @notice Custodian `custodian` says it deleted its share of `messageRef` at `time` (ms), signed (sigR, sigS).
    event DeletionRecorded(bytes32 indexed messageRef, bytes32 indexed custodian, uint64 time, bytes32 sigR, bytes32 sigS);

    /// @notice The node id is registered by another account.
    error NotNodeOwner(bytes32 nodeId, address owner);
    /// @notice The node id was never registered.
    error UnknownNode(bytes32 nodeId);
    /// @notice The sequence number is not above the stored one.
    error StaleSeq(uint64 current);
    /// @notice Another node claimed this address hash first.
    error AddressTaken(bytes32 addressHash, bytes32 nodeId);
    /// @notice A field is out of range: 1 node id zero, 2 fingerprint not 20 or 32 bytes, 3 empty batch.
    error BadField(uint8 field);
    /// @notice The packed announcements are malformed at byte `offset`.
    error MalformedAnnouncements(uint256 offset);

    constructor() {
        deployBlock = block.number;
    }

    /// @notice Registers node `nodeId` (its Ed25519 public key) for the caller,
    /// or updates it when the caller registered it before and `seq` is higher.
    function registerNode(bytes32 nodeId, bytes32 encKey, uint64 seq, bytes calldata addrs, bytes32 sigR, bytes32 sigS) external {
        if (nodeId == bytes32(0)) revert BadField(1);
        Node storage n = nodes[nodeId];
        address owner = n.owner;
        if (owner == address(0)) {
            nodeIds.push(nodeId);
        } else {
            if (owner != msg.sender) revert NotNodeOwner(nodeId, owner);
            if (seq <= n.seq) revert StaleSeq(n.seq);
        }
        n.owner = msg.sender;
        n.seq = seq;
        n.encKey = encKey;
        n.sigR = sigR;
        n.sigS = sigS;
        n.addrs = addrs;
        emit NodeRegistered(nodeId, msg.sender, seq);
    }

    /// @notice Claims the address whose hash is `addressHash` for node
    /// `nodeId` (first come), or updates the node's own claim with a higher `seq`.
    function claimAddress(
        bytes32 addressHash,
        bytes32 nodeId,
        uint64 seq,
        bytes calldata fingerprint,
        string calldata keyRef,
        bytes32 sigR,
        bytes32 sigS
    ) external {
        _onlyNodeOwner(nodeId);
        if (fingerprint.length != 20 && fingerprint.length != 32) revert BadField(2);
        Claim storage c = claims[addressHash];
        bytes32 holder = c.nodeId;
        if (holder != bytes32(0)) {
            if (holder != nodeId) revert AddressTaken(addressHash, holder);
            if (seq <= c.seq) revert StaleSeq(c.seq);
        } else {
            c.nodeId = nodeId;
        }
        c.seq = seq;
        c.sigR = sigR;
        c.sigS = sigS;
        c.fingerprint = fingerprint;
        c.keyRef = keyRef;
        emit AddressClaimed(addressHash, nodeId, seq);
    }

    /// @notice Posts a batch of announcements, packed back to back: each is
    /// ephemeralPublic (32) ‖ viewTag (1) ‖ tag (32) ‖ payload length (2, big endian) ‖ payload (≤ 1024).
    /// @dev Only the framing is checked (so readers never meet a torn batch);
    /// the batch is kept in the log, not in storage.
    function announce(bytes calldata entries) external {
        uint256 end = entries.length;
        if (end == 0) revert BadField(3);
        uint256 at = 0;
        while (at < end) {
            if (end - at < ENTRY_HEAD) revert MalformedAnnouncements(at);
            uint256 len = uint16(bytes2(entries[at + 65:at + 67]));
            if (len > MAX_PAYLOAD || end - at - ENTRY_HEAD < len) revert MalformedAnnouncements(at);
            unchecked {
                at += ENTRY_HEAD + len;
            }
        }
        emit Announced(uint64(block.timestamp), entries);
    }

    /// @notice Records that custodian node `custodian` deleted its share of
    /// `messageRef` at `time` (ms since the epoch); only the node's account may.
    function recordDeletion(bytes32 messageRef, bytes32 custodian, uint64 time, bytes32 sigR, bytes32 sigS) external {
        _onlyNodeOwner(custodian);
        emit DeletionRecorded(messageRef, custodian, time, sigR, sigS);
    }

    /// @notice Node `nodeId`; owner is the zero address when it was never registered.
    function node(bytes32 nodeId)
        external
        view
        returns (address owner, uint64 seq, bytes32 encKey, bytes32 sigR, bytes32 sigS, bytes memory addrs)
    {
        Node storage n = nodes[nodeId];
        return (n.owner, n.seq, n.encKey, n.sigR, n.sigS, n.addrs);
    }

    /// @notice How many node ids were ever registered.
    function nodeCount() external view returns (uint256) {
        return nodeIds.length;
    }

    /// @notice Nodes `offset` .. offset+limit-1 in order of first registration (fewer at the end).
    function nodesPage(uint256 offset, uint256 limit) external view returns (NodeView[] memory page) {
        uint256 total = nodeIds.length;
        uint256 count = offset >= total ? 0 : total - offset < limit ? total - offset : limit;
        page = new NodeView[](count);
        for (uint256 i = 0; i < count; i++) {
            bytes32 id = nodeIds[offset + i];
            Node storage n = nodes[id];
            page[i] = NodeView(id, n.owner, n.seq, n.encKey, n.sigR, n.sigS, n.addrs);
        }
    }

    /// @notice The claim on `addressHash`; nodeId is zero when it is unclaimed.
    function claim(bytes32 addressHash)
        external
        view
        returns (bytes32 nodeId, uint64 seq, bytes32 sigR, bytes32 sigS, bytes memory fingerprint, string memory keyRef)
    {
        Claim storage c = claims[addressHash];
        return (c.nodeId, c.seq, c.sigR, c.sigS, c.fingerprint, c.keyRef);
    }

    function _onlyNodeOwner(bytes32 nodeId) private view {
        address owner = nodes[nodeId].owner;
        if (owner == address(0)) revert UnknownNode(nodeId);
        if (owner != msg.sender) revert NotNodeOwner(nodeId, owner);
    }
}
