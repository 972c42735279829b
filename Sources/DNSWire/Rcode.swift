/// A response code (RFC 1035 4.1.1, extended to 12 bits by EDNS, RFC 6891 6.1.3).
/// Values above 15 need an OPT record to carry their upper 8 bits.
public struct Rcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    public init(_ rawValue: UInt16) { self.init(rawValue: rawValue) }

    public static let noError = Rcode(0)
    public static let formErr = Rcode(1)
    public static let servFail = Rcode(2)
    public static let nxDomain = Rcode(3)
    public static let notImp = Rcode(4)
    public static let refused = Rcode(5)
    public static let notAuth = Rcode(9)
    public static let badVers = Rcode(16)
    /// RFC 7873 8: a client cookie without a valid server cookie, answered instead of
    /// a rate-limited response.
    public static let badCookie = Rcode(23)

    /// The four bits that live in the header.
    public var headerBits: UInt8 { UInt8(rawValue & 0x0F) }
    /// The eight bits that live in the OPT record's TTL field.
    public var extendedBits: UInt8 { UInt8(rawValue >> 4) }

    public var description: String {
        switch rawValue {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 9: "NOTAUTH"
        case 16: "BADVERS"
        case 23: "BADCOOKIE"
        default: "RCODE\(rawValue)"
        }
    }
}
