/// A domain name, kept in uncompressed wire form (length-prefixed labels ending with the
/// root label). Comparison and hashing ignore ASCII case (RFC 4343); the original case is
/// preserved for output (0x20 echo).
public struct Name: Hashable, Sendable, CustomStringConvertible {
    /// Uncompressed wire form, at most 255 octets, always ending with 0.
    public let wire: [UInt8]

    public static let root = Name(uncheckedWire: [0])

    /// Wraps wire bytes that are already known to be a valid uncompressed name.
    package init(uncheckedWire wire: [UInt8]) { self.wire = wire }

    /// Validates `wire` as one uncompressed name occupying all of the bytes.
    public init(wire: [UInt8]) throws(DNSWireError) {
        let end = try wire.withUnsafeBytes { raw in
            Result { () throws(DNSWireError) in try WireReader.skipUncompressedName(raw, at: 0) }
        }.get()
        guard end == wire.count else { throw .truncated(at: end) }
        self.wire = wire
    }

    /// Parses presentation form (`shashi.1bz.`; the trailing dot is optional, `\.` and
    /// `\DDD` escapes are understood).
    public init(_ text: String) throws(DNSWireError) {
        var out: [UInt8] = []
        var label: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        if bytes == [UInt8(ascii: ".")] { bytes = [] }
        func flush() throws(DNSWireError) {
            guard !label.isEmpty else { throw .badText }
            guard label.count <= 63 else { throw .labelTooLong(at: out.count) }
            out.append(UInt8(label.count))
            out += label
            label.removeAll(keepingCapacity: true)
        }
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                try flush()
            case UInt8(ascii: "\\"):
                guard let next = bytes.popFirst() else { throw .badText }
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    let digits = [next] + bytes.prefix(2)
                    guard digits.count == 3, digits.allSatisfy({ (48...57).contains($0) }) else { throw .badText }
                    bytes = bytes.dropFirst(2)
                    let value = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
                    guard value < 256 else { throw .badText }
                    label.append(UInt8(value))
                } else {
                    label.append(next)
                }
            default:
                label.append(byte)
            }
        }
        if !label.isEmpty { try flush() }
        out.append(0)
        guard out.count <= 255 else { throw .nameTooLong(at: 0) }
        wire = out
    }

    /// The labels, leftmost first, without the root label.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            result.append(wire[(index + 1)..<(index + 1 + length)])
            index += 1 + length
        }
        return result
    }

    public var labelCount: Int {
        var count = 0
        var index = 0
        while wire[index] != 0 {
            count += 1
            index += 1 + Int(wire[index])
        }
        return count
    }

    public var isRoot: Bool { wire.count == 1 }

    /// The name without its leftmost label (root stays root).
    public var parent: Name {
        guard !isRoot else { return self }
        return Name(uncheckedWire: Array(wire[(1 + Int(wire[0]))...]))
    }

    /// `*.` and this name: the wildcard directly below it (RFC 4592 2.1.1; not checked
    /// against the 255-octet limit, as a lookup key it only fails to match).
    public var wildcard: Name { Name(uncheckedWire: [1, UInt8(ascii: "*")] + wire) }

    /// The same name in lowercase (the canonical form, RFC 4034 6.2).
    public var lowercased: Name { Name(uncheckedWire: wire.map(asciiLower)) }

    /// Whether `self` equals `other` or lies below it.
    public func isSubdomain(of other: Name) -> Bool {
        guard wire.count >= other.wire.count else { return false }
        // Walk label boundaries: the suffix must start on one.
        var index = 0
        while wire.count - index > other.wire.count {
            index += 1 + Int(wire[index])
        }
        guard wire.count - index == other.wire.count else { return false }
        return wire[index...].elementsEqual(other.wire) { asciiLower($0) == asciiLower($1) }
    }

    public static func == (lhs: Name, rhs: Name) -> Bool {
        lhs.wire.count == rhs.wire.count
            && lhs.wire.elementsEqual(rhs.wire) { asciiLower($0) == asciiLower($1) }
    }

    public func hash(into hasher: inout Hasher) {
        for byte in wire { hasher.combine(asciiLower(byte)) }
    }

    /// Presentation form with a trailing dot; non-printable bytes as `\DDD`.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
                    UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "$"), UInt8(ascii: "@"):
                    text += "\\" + String(UnicodeScalar(byte))
                case 0x21...0x7E:
                    text += String(UnicodeScalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            text += "."
        }
        return text
    }
}

/// ASCII-only lowercase (RFC 4343: DNS case folding is ASCII only).
@inline(__always)
package func asciiLower(_ byte: UInt8) -> UInt8 {
    byte &- 0x41 < 26 ? byte | 0x20 : byte
}
