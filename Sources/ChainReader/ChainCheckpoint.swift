/// A block the event follower synced to, by number and hash: where a follower resumes
/// (a persisted zone snapshot's block) and what it checks first (the hash must still be
/// the chain's block at that height, else the state built up to it is not trusted).
public struct ChainCheckpoint: Sendable, Hashable {
    public var number: UInt64
    public var hash: Bytes32

    public init(number: UInt64, hash: Bytes32) {
        self.number = number
        self.hash = hash
    }
}
