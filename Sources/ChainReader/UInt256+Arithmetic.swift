/// The arithmetic a wallet needs on wei amounts (fee × gas, value + cost, ether to wei):
/// checked addition and multiplication, decimal and quantity parsing. Overflow is
/// reported (nil), never wrapped: an amount that does not fit 256 bits is a mistake.
extension UInt256 {
    /// Four 64-bit limbs, most significant first.
    var limbs: [UInt64] {
        (0..<4).map { i in bigEndianBytes[i * 8..<i * 8 + 8].reduce(0) { $0 << 8 | UInt64($1) } }
    }

    init(limbs: [UInt64]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for limb in limbs {
            for i in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: limb >> (8 * UInt64(i)))) }
        }
        self.init(bigEndianBytes: bytes)!
    }

    /// `self + other`, nil on overflow.
    public func adding(_ other: UInt256) -> UInt256? {
        var a = limbs
        let b = other.limbs
        var carry: UInt64 = 0
        for i in (0..<4).reversed() {
            let (s1, o1) = a[i].addingReportingOverflow(b[i])
            let (s2, o2) = s1.addingReportingOverflow(carry)
            a[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return carry == 0 ? UInt256(limbs: a) : nil
    }

    /// `self - other`, nil when `other > self`.
    public func subtracting(_ other: UInt256) -> UInt256? {
        guard other <= self else { return nil }
        var a = limbs
        let b = other.limbs
        var borrow: UInt64 = 0
        for i in (0..<4).reversed() {
            let (d1, o1) = a[i].subtractingReportingOverflow(b[i])
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            a[i] = d2
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return UInt256(limbs: a)
    }

    /// `self × factor`, nil on overflow.
    public func multiplied(by factor: UInt64) -> UInt256? {
        var a = limbs
        var carry: UInt64 = 0
        for i in (0..<4).reversed() {
            let (high, low) = a[i].multipliedFullWidth(by: factor)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            a[i] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        return carry == 0 ? UInt256(limbs: a) : nil
    }

    /// `self × other`, nil on overflow.
    public func multiplied(byUInt256 other: UInt256) -> UInt256? {
        var result = UInt256.zero
        for (index, limb) in other.limbs.enumerated() where limb != 0 {
            guard var partial = multiplied(by: limb) else { return nil }
            for _ in 0..<(3 - index) {  // shift left by 64 bits per limb position
                guard partial.limbs[0] == 0 else { return nil }
                partial = UInt256(limbs: Array(partial.limbs.dropFirst()) + [0])
            }
            guard let sum = result.adding(partial) else { return nil }
            result = sum
        }
        return result
    }

    /// Parses decimal digits (no sign, no separators); nil if empty, not decimal or too large.
    public init?(decimal text: some StringProtocol) {
        guard !text.isEmpty else { return nil }
        var value = UInt256.zero
        for char in text.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(char),
                let shifted = value.multiplied(by: 10),
                let next = shifted.adding(UInt256(UInt64(char - UInt8(ascii: "0"))))
            else { return nil }
            value = next
        }
        self = value
    }

    /// Parses a JSON-RPC quantity (`0x` + up to 64 hex digits).
    public init?(quantity text: some StringProtocol) {
        guard text.hasPrefix("0x"), text.count > 2, text.count <= 66 else { return nil }
        var digits = String(text.dropFirst(2))
        if digits.count % 2 == 1 { digits = "0" + digits }
        guard let bytes = Hex.decode(digits) else { return nil }
        self.init(bigEndianBytes: [UInt8](repeating: 0, count: 32 - bytes.count) + bytes)
    }

    /// The big-endian bytes without leading zeros (empty for zero): RLP's integer form.
    public var minimalBytes: [UInt8] { Array(bigEndianBytes.drop { $0 == 0 }) }

    /// A JSON-RPC quantity (`0x0`, `0x1a`).
    public var quantity: String {
        let hex = Hex.encode(minimalBytes, prefix: false)
        let trimmed = hex.drop { $0 == "0" }
        return "0x" + (trimmed.isEmpty ? "0" : trimmed)
    }
}
