import DNSWire

/// The dynamic cache's key: a node name in wire form, lowercased, held inline, so a
/// cache hit builds its key straight from the request bytes without allocating (no
/// allocation per cached query beyond the output buffer:
/// docs/design.md#a-cached-answer-is-a-copy-and-a-patch).
///
/// Node names are short: an alias is one label (≤ 63 octets) under the apex, a node-id
/// name 52 base32 characters under `id.`; in wire form at most 69 octets. Longer names
/// are never node names, so they get no key (and are never cached).
package struct NameKey: Hashable, Sendable {
    /// The longest name a key holds, in wire octets.
    package static let capacity = 72

    /// Nine words: room for `capacity` octets.
    private typealias Octets = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    /// Wire form, lowercased (length-prefixed labels, root label), then zero padding.
    private var octets: Octets = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    private let length: UInt8

    /// `wire` is an uncompressed, already validated name (any case).
    @inline(__always)
    package init?(wire: UnsafeRawBufferPointer) {
        guard wire.count <= Self.capacity else { return nil }
        self.length = UInt8(wire.count)
        // ASCII-only case folding (RFC 4343); length octets (≤ 63) are below "A".
        withUnsafeMutableBytes(of: &octets) { out in
            for index in 0..<wire.count { out[index] = asciiLower(wire[index]) }
        }
    }

    /// The key of a parsed node name (`shashi.1bz`, `<base32>.id.1bz`): the same key
    /// a query for that name in any case builds.
    package init(_ name: NodeName) {
        let wire = (try? Name(name.description))?.wire ?? []
        // A node name is at most 69 octets (see above), so it always fits.
        self = wire.withUnsafeBytes { NameKey(wire: $0) }!
    }

    /// Compares the words in use (the padding is zero in both).
    package static func == (lhs: NameKey, rhs: NameKey) -> Bool {
        guard lhs.length == rhs.length else { return false }
        return withUnsafeBytes(of: lhs.octets) { left in
            withUnsafeBytes(of: rhs.octets) { right in
                for offset in stride(from: 0, to: Int(lhs.length), by: 8)
                where left.load(fromByteOffset: offset, as: UInt64.self)
                    != right.load(fromByteOffset: offset, as: UInt64.self)
                {
                    return false
                }
                return true
            }
        }
    }

    /// Hashes only the octets in use.
    package func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: octets) { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
    }
}
