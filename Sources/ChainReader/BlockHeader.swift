/// The part of a block the follower and proof mode need: its identity, its parent's, its
/// state root, and whether its hash follows from its fields.
public struct BlockHeader: Sendable, Hashable {
    public let number: UInt64
    public let hash: Bytes32
    public let parentHash: Bytes32
    /// Seconds since 1970.
    public let timestamp: UInt64
    /// The root of the state trie after this block (what storage proofs are checked
    /// against); nil when the endpoint did not send it.
    public let stateRoot: Bytes32?
    /// keccak256 of the RLP of the header fields the endpoint sent (`BlockHeader+RLP`);
    /// nil when a field the hash needs is missing or malformed.
    public let recomputedHash: Bytes32?

    public init(
        number: UInt64, hash: Bytes32, parentHash: Bytes32, timestamp: UInt64, stateRoot: Bytes32? = nil,
        recomputedHash: Bytes32? = nil
    ) {
        self.number = number
        self.hash = hash
        self.parentHash = parentHash
        self.timestamp = timestamp
        self.stateRoot = stateRoot
        self.recomputedHash = recomputedHash
    }

    /// The fields hash to `hash`: stateRoot (and every other field) is the block's own,
    /// not one an endpoint paired with a block hash it copied from an honest node.
    public var isSelfConsistent: Bool { recomputedHash == hash }
}
