/// The part of a block the follower needs: its identity and its parent's.
public struct BlockHeader: Sendable, Hashable {
    public let number: UInt64
    public let hash: Bytes32
    public let parentHash: Bytes32
    /// Seconds since 1970.
    public let timestamp: UInt64

    public init(number: UInt64, hash: Bytes32, parentHash: Bytes32, timestamp: UInt64) {
        self.number = number
        self.hash = hash
        self.parentHash = parentHash
        self.timestamp = timestamp
    }
}
