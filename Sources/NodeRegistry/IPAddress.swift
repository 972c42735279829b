#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Canonical textual IP addresses: parsed with `inet_pton` and printed with `inet_ntop`
/// (dotted quad for IPv4; lowercase, zero-compressed RFC 5952 style for IPv6).
public enum IPAddress {
    /// The canonical form of an IPv4 address, or nil if `text` is not one.
    public static func canonicalIPv4(_ text: String) -> String? { canonical(text, family: AF_INET, size: 4) }

    /// The canonical form of an IPv6 address, or nil if `text` is not one.
    public static func canonicalIPv6(_ text: String) -> String? { canonical(text, family: AF_INET6, size: 16) }

    /// The 4 or 16 address bytes of a canonical address (for A/AAAA rdata).
    public static func bytes(ipv4 text: String) -> [UInt8]? { parse(text, family: AF_INET, size: 4) }
    public static func bytes(ipv6 text: String) -> [UInt8]? { parse(text, family: AF_INET6, size: 16) }

    /// The canonical text of 16 AAAA rdata bytes, or nil if not 16 bytes.
    public static func ipv6(bytes: [UInt8]) -> String? {
        guard bytes.count == 16 else { return nil }
        var out = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, bytes, &out, socklen_t(out.count)) != nil else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func parse(_ text: String, family: Int32, size: Int) -> [UInt8]? {
        guard text.utf8.count <= 64, !text.contains("%") else { return nil }
        var buf = [UInt8](repeating: 0, count: size)
        guard inet_pton(family, text, &buf) == 1 else { return nil }
        return buf
    }

    private static func canonical(_ text: String, family: Int32, size: Int) -> String? {
        guard let buf = parse(text, family: family, size: size) else { return nil }
        var out = [CChar](repeating: 0, count: 64)
        guard inet_ntop(family, buf, &out, socklen_t(out.count)) != nil else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
