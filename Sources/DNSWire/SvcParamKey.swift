/// An SVCB SvcParamKey (RFC 9460 14.3.2). Open, so unknown keys (`keyNNNNN`) pass.
public struct SvcParamKey: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let mandatory = SvcParamKey(0)
    public static let alpn = SvcParamKey(1)
    public static let noDefaultALPN = SvcParamKey(2)
    public static let port = SvcParamKey(3)
    public static let ipv4hint = SvcParamKey(4)
    public static let ech = SvcParamKey(5)
    public static let ipv6hint = SvcParamKey(6)
    /// Reserved ("Invalid key", RFC 9460 14.3.2): never on the wire.
    public static let invalid = SvcParamKey(65535)

    public static func < (lhs: SvcParamKey, rhs: SvcParamKey) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch rawValue {
        case 0: "mandatory"
        case 1: "alpn"
        case 2: "no-default-alpn"
        case 3: "port"
        case 4: "ipv4hint"
        case 5: "ech"
        case 6: "ipv6hint"
        default: "key\(rawValue)"
        }
    }
}
