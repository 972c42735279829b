/// Why SVCB/HTTPS RDATA was refused (RFC 9460 2.2, 7): by the strict parser, or by the
/// encoder for parameters it would not write.
public struct SVCBError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String

    package init(_ reason: String) { self.reason = reason }

    public var description: String { "SVCB RDATA: \(reason)" }
}
