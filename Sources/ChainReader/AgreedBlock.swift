/// A block that at least a quorum of endpoints reported with the same hash and state
/// root: what proofs are checked against.
public struct AgreedBlock: Sendable, Hashable {
    public let number: UInt64
    public let hash: Bytes32
    public let stateRoot: Bytes32
    /// The endpoints (scheme://host:port) that reported exactly this block.
    public let endpoints: [String]

    public init(number: UInt64, hash: Bytes32, stateRoot: Bytes32, endpoints: [String]) {
        self.number = number
        self.hash = hash
        self.stateRoot = stateRoot
        self.endpoints = endpoints
    }
}

/// Why no block could be agreed: each endpoint's answer, by name.
public struct BlockAgreementError: Error, Sendable, CustomStringConvertible {
    public let number: UInt64
    public let quorum: Int
    /// endpoint -> "hash/stateRoot", "no such block" or the error.
    public let answers: [(endpoint: String, answer: String)]

    public var description: String {
        "no \(quorum) endpoints agree on block \(number): "
            + answers.map { "\($0.endpoint) \($0.answer)" }.joined(separator: "; ")
    }
}
