/// Fewer than `quorum` endpoints reported their head (`BlockAgreement.quorumHead`): the
/// follower waits a poll and asks again.
public struct QuorumHeadError: Error, Sendable, CustomStringConvertible {
    public let quorum: Int
    /// endpoint -> "head N" or the error.
    public let answers: [(endpoint: String, answer: String)]

    public var description: String {
        "fewer than \(quorum) endpoints reported their head: "
            + answers.map { "\($0.endpoint) \($0.answer)" }.joined(separator: "; ")
    }
}
