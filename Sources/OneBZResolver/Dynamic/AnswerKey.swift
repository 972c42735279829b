import DNSWire

/// The dynamic answer cache's key: a query name, lowercased, held inline with the type,
/// so a cache hit builds its key straight from the request bytes without allocating
/// (DESIGN.md: no allocation per cached query beyond the output buffer).
///
/// Node names are short: an alias is one label (≤ 63 octets) under the apex, a node-id
/// name 52 base32 characters under `id.`; in wire form at most 69 octets. Longer names
/// are never node names, so they get no key (and are never cached).
package struct AnswerKey: Hashable, Sendable {
    /// The longest name a key holds, in wire octets.
    package static let capacity = 80

    /// Wire form (length-prefixed labels, root label, zero padding), split in two
    /// vectors so comparing keys is a few vector compares.
    private var head = SIMD64<UInt8>()
    private var tail = SIMD16<UInt8>()
    private let length: UInt8
    package let type: RRType

    /// `wire` is an uncompressed, already validated name (any case).
    @inline(__always)
    package init?(wire: UnsafeRawBufferPointer, type: RRType) {
        guard wire.count <= Self.capacity else { return nil }
        self.length = UInt8(wire.count)
        self.type = type
        withUnsafeMutableBytes(of: &head) { head in
            head.copyMemory(from: UnsafeRawBufferPointer(rebasing: wire.prefix(64)))
        }
        if wire.count > 64 {
            withUnsafeMutableBytes(of: &tail) { tail in
                tail.copyMemory(from: UnsafeRawBufferPointer(rebasing: wire[64...]))
            }
        }
        // ASCII-only case folding (RFC 4343); length octets (≤ 63) are below "A".
        head = Self.lowercased(head)
        tail = Self.lowercased(tail)
    }

    @inline(__always)
    private static func lowercased<V: SIMD>(_ v: V) -> V where V.Scalar == UInt8 {
        v.replacing(with: v | 0x20, where: (v .>= 0x41) .& (v .<= 0x5A))
    }

    package static func == (lhs: AnswerKey, rhs: AnswerKey) -> Bool {
        lhs.length == rhs.length && lhs.type == rhs.type && lhs.head == rhs.head && lhs.tail == rhs.tail
    }

    /// Hashes only the octets in use (the padding is zero, and the length is hashed).
    package func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(length)
        withUnsafeBytes(of: head) { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
        if length > 64 {
            withUnsafeBytes(of: tail) { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length) - 64))) }
        }
    }
}
