/// What went wrong with a key, a key file or a signature, in words for the operator.
public struct DNSSECError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
