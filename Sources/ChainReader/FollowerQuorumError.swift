/// The follower's endpoint named a block (a range's end, or a log's block) whose hash is
/// not the one the quorum agrees on at that height: its events are not delivered.
public struct FollowerQuorumError: Error, Sendable, Hashable, CustomStringConvertible {
    public let number: UInt64
    public let claimed: Bytes32
    public let agreed: Bytes32

    public var description: String {
        "block \(number): the endpoint says \(claimed.hex), the quorum agrees on \(agreed.hex)"
    }
}
