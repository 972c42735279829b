/// A resource record type (RFC 1035 3.2.2). An open struct, not an enum, so unknown
/// types read from the wire pass through unchanged (RFC 3597).
public struct RRType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RRType(1)
    public static let ns = RRType(2)
    public static let cname = RRType(5)
    public static let soa = RRType(6)
    public static let ptr = RRType(12)
    public static let hinfo = RRType(13)
    public static let mx = RRType(15)
    public static let txt = RRType(16)
    public static let aaaa = RRType(28)
    public static let srv = RRType(33)
    public static let dname = RRType(39)
    public static let opt = RRType(41)
    public static let ds = RRType(43)
    public static let rrsig = RRType(46)
    public static let nsec = RRType(47)
    public static let dnskey = RRType(48)
    public static let tlsa = RRType(52)
    public static let svcb = RRType(64)
    public static let https = RRType(65)
    public static let caa = RRType(257)
    public static let ixfr = RRType(251)
    public static let axfr = RRType(252)
    public static let any = RRType(255)

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
        28: "AAAA", 33: "SRV", 39: "DNAME", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC",
        48: "DNSKEY", 52: "TLSA", 64: "SVCB", 65: "HTTPS", 251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA",
    ]

    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    /// Types whose RDATA may hold compressed names (RFC 3597 4: only the RFC 1035 types).
    public var hasCompressibleRDATA: Bool {
        switch rawValue {
        case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15: true
        default: false
        }
    }

    /// Meta and query-only types (RFC 6895 3.1) that never appear as zone data.
    public var isMetaType: Bool { rawValue == 41 || (128...255).contains(rawValue) }
}
