/// The part of a block the follower needs: its identity and its parent's.
public struct BlockHeader: Sendable, Hashable {
    public let number: UInt64
    public let hash: Bytes32
    public let parentHash: Bytes32
    /// Seconds since 1970.
    public let timestamp: UInt64
    /// The root of the state trie after this block (what storage proofs are checked
    /// against); nil when the endpoint did not send it.
    public let stateRoot: Bytes32?

    public init(number: UInt64, hash: Bytes32, parentHash: Bytes32, timestamp: UInt64, stateRoot: Bytes32? = nil) {
        self.number = number
        self.hash = hash
        self.parentHash = parentHash
        self.timestamp = timestamp
        self.stateRoot = stateRoot
    }
}
