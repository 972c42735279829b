/// SipHash-2-4 with a 128-bit key (Aumasson & Bernstein), the MAC RFC 9018 uses for
/// interoperable DNS server cookies. Works on borrowed bytes: nothing is allocated.
package enum SipHash24 {
    /// The 128-bit key as two little-endian words.
    package struct Key: Sendable, Equatable {
        let k0: UInt64
        let k1: UInt64

        /// `bytes` must be 16 long.
        package init(_ bytes: [UInt8]) {
            precondition(bytes.count == 16, "SipHash needs a 16-byte key")
            k0 = bytes.withUnsafeBytes { SipHash24.littleEndianWord($0, 0) }
            k1 = bytes.withUnsafeBytes { SipHash24.littleEndianWord($0, 8) }
        }
    }

    /// The 64-bit result; its wire form is the 8 bytes of the little-endian word.
    package static func hash(key: Key, _ message: UnsafeRawBufferPointer) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ key.k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ key.k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ key.k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ key.k1

        func round() {
            v0 = v0 &+ v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
            v2 = v2 &+ v3; v3 = rotl(v3, 16); v3 ^= v2
            v0 = v0 &+ v3; v3 = rotl(v3, 21); v3 ^= v0
            v2 = v2 &+ v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
        }

        let whole = message.count / 8 * 8
        var offset = 0
        while offset < whole {
            let m = littleEndianWord(message, offset)
            v3 ^= m
            round(); round()
            v0 ^= m
            offset += 8
        }
        var last = UInt64(truncatingIfNeeded: message.count) << 56
        for index in whole..<message.count { last |= UInt64(message[index]) << (8 * UInt64(index - whole)) }
        v3 ^= last
        round(); round()
        v0 ^= last
        v2 ^= 0xff
        round(); round(); round(); round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// Convenience for tests: the hash's 8 wire bytes.
    package static func hash(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        let result = message.withUnsafeBytes { hash(key: Key(key), $0) }
        return (0..<8).map { UInt8(truncatingIfNeeded: result >> (8 * UInt64($0))) }
    }

    private static func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }

    fileprivate static func littleEndianWord(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        var word: UInt64 = 0
        for index in 0..<8 { word |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        return word
    }
}
