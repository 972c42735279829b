/// RFC 4648 base32 without padding, lowercase, in DNS labels: the standard alphabet
/// (section 6: a-z, 2-7) for node-id names (`<base32>.id.1bz`), the extended hex one
/// (section 7: 0-9, a-v) for NSEC3 owner names (RFC 5155 3.3). Decoding accepts either
/// case and rejects padding, other characters and non-zero trailing bits, so every byte
/// string has exactly one accepted encoding.
public enum Base32 {
    public struct Alphabet: Sendable {
        fileprivate let symbols: [UInt8]
        /// Symbol value per byte, 0xFF for bytes outside the alphabet (either case).
        fileprivate let values: [UInt8]

        private init(_ symbols: String) {
            self.symbols = Array(symbols.utf8)
            var values = [UInt8](repeating: 0xFF, count: 256)
            for (value, symbol) in self.symbols.enumerated() {
                values[Int(symbol)] = UInt8(value)
                if (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(symbol) { values[Int(symbol - 32)] = UInt8(value) }
            }
            self.values = values
        }

        /// RFC 4648 6.
        public static let standard = Alphabet("abcdefghijklmnopqrstuvwxyz234567")
        /// RFC 4648 7 ("base32hex"), which keeps the sort order of the bytes.
        public static let extendedHex = Alphabet("0123456789abcdefghijklmnopqrstuv")
    }

    public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard) -> String {
        String(decoding: encodedBytes(Array(bytes), alphabet: alphabet), as: UTF8.self)
    }

    /// `encode`'s symbols as bytes (ASCII), without the String: for wire labels on a
    /// hot path (NSEC3 owners in denials).
    public static func encodedBytes(_ bytes: [UInt8], alphabet: Alphabet = .standard) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet.symbols[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet.symbols[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }

    /// The bytes, or nil for invalid input.
    public static func decode(_ text: some StringProtocol, alphabet: Alphabet = .standard) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let value = alphabet.values[Int(c)]
            guard value != 0xFF else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xff))
            }
        }
        // Leftover bits must be fewer than 5 (no dangling character) and zero.
        guard bits < 5, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
