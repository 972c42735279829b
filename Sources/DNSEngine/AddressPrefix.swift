import DNSWire

/// An IPv4 or IPv6 prefix (`10.53.0.0/24`, `::1/128`; a bare address is a host route).
public struct AddressPrefix: Sendable, Equatable, CustomStringConvertible {
    public let address: [UInt8]
    public let length: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = Self.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var length = maximum
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...maximum).contains(given), !parts[1].hasPrefix("+") else {
                return nil
            }
            length = given
        }
        // `::ffff:a.b.c.d/N` (N >= 96) is the IPv4 prefix a.b.c.d/(N - 96): client
        // addresses are unmapped (`ClientAddress`), so prefixes are too.
        if address.withUnsafeBytes(ClientAddress.isIPv4Mapped), length >= 96 {
            self.address = Array(address[12...])
            self.length = length - 96
        } else {
            self.address = address
            self.length = length
        }
    }

    public func contains(_ client: ClientAddress) -> Bool {
        client.withBytes { bytes in
            guard bytes.count == address.count else { return false }
            var remaining = length
            for index in address.indices where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if bytes[index] & mask != address[index] & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    public var description: String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") + "/\(length)" }
        let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "/\(length)"
    }

    /// Dotted IPv4 or IPv6 text (with `::`, optionally an embedded IPv4 tail).
    static func parseAddress(_ text: String) -> [UInt8]? {
        if !text.contains(":") { return parseIPv4(text) }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        let characters = Array(text)
        var pieces: [String] = [text]
        for index in characters.indices.dropLast() where characters[index] == ":" && characters[index + 1] == ":" {
            guard pieces.count == 1 else { return nil }
            pieces = [String(characters[..<index]), String(characters[(index + 2)...])]
        }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if index == fields.count - 1, field.contains(".") {
                    guard let v4 = parseIPv4(String(field)) else { return nil }
                    result += [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                } else {
                    guard (1...4).contains(field.count), let value = UInt16(field, radix: 16) else { return nil }
                    result.append(value)
                }
            }
            return result
        }
        guard let first = groups(pieces[0]) else { return nil }
        head = first
        if pieces.count == 2 {
            sawGap = true
            guard let second = groups(pieces[1]) else { return nil }
            tail = second
        }
        let missing = 8 - head.count - tail.count
        guard sawGap ? missing >= 1 : missing == 0 else { return nil }
        let all = head + Array(repeating: 0, count: sawGap ? missing : 0) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy(\.isASCII), let value = UInt8(octet) else {
                return nil
            }
            bytes.append(value)
        }
        return bytes
    }
}
