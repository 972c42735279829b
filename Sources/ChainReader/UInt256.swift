/// An unsigned 256-bit integer as the EVM holds it (stake amounts in wei, scores).
/// Only what we need: construction, comparison, decimal and hex text, narrowing.
public struct UInt256: Hashable, Sendable, Comparable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    /// 32 bytes, big-endian.
    public let bigEndianBytes: [UInt8]

    public static let zero = UInt256(0)

    public init(_ value: UInt64) {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<8 { bytes[31 - i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        bigEndianBytes = bytes
    }

    public init(integerLiteral value: UInt64) { self.init(value) }

    /// nil unless exactly 32 bytes.
    public init?(bigEndianBytes bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        bigEndianBytes = bytes
    }

    /// The value if it fits 64 bits.
    public var uint64: UInt64? {
        guard bigEndianBytes[0..<24].allSatisfy({ $0 == 0 }) else { return nil }
        return bigEndianBytes[24...].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var isZero: Bool { bigEndianBytes.allSatisfy { $0 == 0 } }

    public static func < (lhs: UInt256, rhs: UInt256) -> Bool {
        lhs.bigEndianBytes.lexicographicallyPrecedes(rhs.bigEndianBytes)
    }

    /// Decimal digits (wei amounts exceed 64 bits: 10 ether = 10^19).
    public var description: String {
        var limbs = stride(from: 0, to: 32, by: 4).map { i in
            bigEndianBytes[i..<i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        var digits: [UInt8] = []
        while limbs.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for i in limbs.indices {
                let current = remainder << 32 | UInt64(limbs[i])
                limbs[i] = UInt32(current / 10)
                remainder = current % 10
            }
            digits.append(UInt8(ascii: "0") + UInt8(remainder))
        }
        return digits.isEmpty ? "0" : String(decoding: digits.reversed(), as: UTF8.self)
    }
}
