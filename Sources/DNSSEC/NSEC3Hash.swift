import DNSWire

/// An NSEC3 hashed owner name (RFC 5155 3.1.7): the 20 bytes of SHA-1, ordered as the
/// NSEC3 chain orders them (as unsigned big-endian numbers, i.e. bytewise). Kept as
/// three integers so a chain of a million names is a flat array without allocations.
public struct NSEC3Hash: Hashable, Comparable, Sendable, CustomStringConvertible {
    let high: UInt64
    let middle: UInt64
    let low: UInt32

    /// The hash from its 20 bytes (longer input is cut, shorter padded with zeros).
    public init(bytes: some Collection<UInt8>) {
        var iterator = bytes.makeIterator()
        func next(_ count: Int) -> UInt64 {
            var value: UInt64 = 0
            for _ in 0..<count { value = value << 8 | UInt64(iterator.next() ?? 0) }
            return value
        }
        high = next(8)
        middle = next(8)
        low = UInt32(next(4))
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: middle >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt32(shift))) }
        return out
    }

    /// The owner label: base32hex without padding, lowercase (RFC 5155 3.3, RFC 4648 7).
    public var base32hex: String { String(decoding: base32hexLabel, as: UTF8.self) }

    /// `base32hex` as the label's bytes.
    public var base32hexLabel: [UInt8] { Base32.encodedBytes(bytes, alphabet: .extendedHex) }

    public var description: String { base32hex }

    public static func < (lhs: NSEC3Hash, rhs: NSEC3Hash) -> Bool {
        (lhs.high, lhs.middle, lhs.low) < (rhs.high, rhs.middle, rhs.low)
    }
}
