/// What storage-slot arithmetic needs: hex text, 256-bit wrapping addition, 32-byte words.
extension UInt256 {
    /// `0x` + 64 hex digits (storage keys as eth_getProof takes them).
    public var hex: String { Hex.encode(bigEndianBytes) }

    /// self + n modulo 2^256 (struct members and array elements follow a slot).
    public func adding(_ n: UInt64) -> UInt256 {
        var bytes = bigEndianBytes
        var carry = n
        var i = 31
        while carry != 0, i >= 0 {
            let sum = UInt64(bytes[i]) + (carry & 0xff)
            bytes[i] = UInt8(truncatingIfNeeded: sum)
            carry = (carry >> 8) + (sum >> 8)
            i -= 1
        }
        return UInt256(bigEndianBytes: bytes)!
    }

    /// The 32 bytes of a hash or word read as a number.
    public init(_ word: Bytes32) { self.init(bigEndianBytes: word.bytes)! }

    /// A JSON-RPC quantity or 32-byte data, any length up to 64 hex digits.
    public init?(hexQuantity text: some StringProtocol) {
        var digits = Substring(text)
        guard digits.hasPrefix("0x") || digits.hasPrefix("0X") else { return nil }
        digits = digits.dropFirst(2)
        guard !digits.isEmpty, digits.count <= 64 else { return nil }
        let padded = String(repeating: "0", count: 64 - digits.count) + digits
        guard let bytes = Hex.decode(padded) else { return nil }
        self.init(bigEndianBytes: bytes)
    }
}
