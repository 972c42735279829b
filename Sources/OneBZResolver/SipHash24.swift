/// SipHash-2-4 with a 128-bit key (Aumasson & Bernstein), the MAC RFC 9018 uses for
/// interoperable DNS server cookies. Output as the 8 bytes of the little-endian word.
package enum SipHash24 {
    package static func hash(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        precondition(key.count == 16, "SipHash needs a 16-byte key")
        let k0 = littleEndianWord(key, 0)
        let k1 = littleEndianWord(key, 8)
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1

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
        for (shift, byte) in message[whole...].enumerated() { last |= UInt64(byte) << (8 * UInt64(shift)) }
        v3 ^= last
        round(); round()
        v0 ^= last
        v2 ^= 0xff
        round(); round(); round(); round()
        let result = v0 ^ v1 ^ v2 ^ v3
        return (0..<8).map { UInt8(truncatingIfNeeded: result >> (8 * UInt64($0))) }
    }

    private static func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }

    private static func littleEndianWord(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        var word: UInt64 = 0
        for index in 0..<8 { word |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        return word
    }
}
