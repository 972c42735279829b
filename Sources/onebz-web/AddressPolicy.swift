import Foundation

/// An IPv4 or IPv6 prefix (`10.0.0.0/8`, `fc00::/7`); IPv4-mapped IPv6 addresses are
/// compared as IPv4.
struct NetworkPrefix: Sendable, Hashable, CustomStringConvertible {
    let bytes: [UInt8]
    let length: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let address = Self.parse(String(parts[0])) else { return nil }
        let bits = address.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : bits
        guard let length, (0...bits).contains(length) else { return nil }
        bytes = address
        self.length = length
    }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var remaining = length
        for index in 0..<bytes.count where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if address[index] & mask != bytes[index] & mask { return false }
            remaining -= take
        }
        return true
    }

    var description: String {
        (bytes.count == 4 ? bytes.map(String.init).joined(separator: ".") : NodeDirectory.ipv6(bytes) ?? "?")
            + "/\(length)"
    }

    /// 4 or 16 bytes; an IPv4-mapped IPv6 address as its 4 IPv4 bytes.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }
}

/// Which node addresses the gateway may connect to. A 1bz name can point anywhere, so
/// without this the gateway would be a way into its own network: loopback, private,
/// link-local, multicast, unspecified and the gateway's own addresses are refused unless
/// a network is allowed explicitly (`allow_networks`, `--allow-loopback-nodes`), and so are
/// NAT64, 6to4 and Teredo addresses that lead to such an IPv4 address.
struct AddressPolicy: Sendable {
    static let refusedByDefault: [(NetworkPrefix, String)] = [
        ("0.0.0.0/8", "unspecified"), ("127.0.0.0/8", "loopback"), ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"), ("192.168.0.0/16", "private"), ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("169.254.0.0/16", "link-local"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"), ("::1/128", "loopback"), ("fc00::/7", "private (unique local)"),
        ("fe80::/10", "link-local"), ("ff00::/8", "multicast"),
    ].map { (NetworkPrefix($0.0)!, $0.1) }

    var allowed: [NetworkPrefix]
    /// The gateway's own addresses (its listeners).
    var own: [[UInt8]]

    /// Nil when `address` may be reached, else why not.
    func refusal(_ address: String) -> String? {
        guard let bytes = NetworkPrefix.parse(address) else { return "not an IP address" }
        return refusal(bytes)
    }

    func refusal(_ bytes: [UInt8]) -> String? {
        if allowed.contains(where: { $0.contains(bytes) }) { return nil }
        if let range = Self.refusedByDefault.first(where: { $0.0.contains(bytes) }) { return "a \(range.1) address" }
        if own.contains(bytes) { return "the gateway's own address" }
        // An IPv6 address that a translator or tunnel turns into an IPv4 one is judged as that.
        for (kind, v4) in Self.embeddedIPv4(bytes) {
            if let why = refusal(v4) {
                return "a \(kind) address for \(v4.map(String.init).joined(separator: ".")), \(why)"
            }
        }
        return nil
    }

    /// The IPv4 addresses an IPv6 address leads to: NAT64 (64:ff9b::/96, RFC 6052 2.1;
    /// 64:ff9b:1::/48, RFC 8215, the /48 layout of RFC 6052 2.2 that skips bits 64-71), 6to4
    /// (2002::/16, RFC 3056 2) and Teredo (2001::/32, RFC 4380 4: the server, and the client
    /// stored inverted).
    static func embeddedIPv4(_ bytes: [UInt8]) -> [(String, [UInt8])] {
        guard bytes.count == 16 else { return [] }
        if bytes[0...11] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return [("NAT64", Array(bytes[12...]))] }
        if bytes[0...5] == [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01] {
            return [("NAT64", [bytes[6], bytes[7], bytes[9], bytes[10]])]
        }
        if bytes[0...1] == [0x20, 0x02] { return [("6to4", Array(bytes[2...5]))] }
        if bytes[0...3] == [0x20, 0x01, 0x00, 0x00] {
            return [("Teredo", Array(bytes[12...].map { $0 ^ 0xff })), ("Teredo server", Array(bytes[4...7]))]
        }
        return []
    }
}
