/// A Merkle-Patricia proof (or the EIP-1186 answer carrying it) that does not show what it
/// claims: a missing or forged node, a value or root that disagrees with the proof. The
/// endpoint that sent it is lying or broken; never use what it said.
public struct ProofError: Error, Sendable, Hashable, CustomStringConvertible {
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { "proof does not verify: \(detail)" }
}
