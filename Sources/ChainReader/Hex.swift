/// Lowercase hex without and with the `0x` prefix Ethereum JSON-RPC uses.
public enum Hex {
    /// The lowercase digits, by value.
    public static let digits = Array("0123456789abcdef".utf8)

    /// `0x`-prefixed lowercase hex of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>, prefix: Bool = true) -> String {
        var out: [UInt8] = prefix ? [UInt8(ascii: "0"), UInt8(ascii: "x")] : []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes of a hex string, with or without `0x`; nil for odd length or a non-hex digit.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var utf8 = Substring(text).utf8[...]
        if utf8.starts(with: "0x".utf8) || utf8.starts(with: "0X".utf8) { utf8 = utf8.dropFirst(2) }
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8?
        for char in utf8 {
            guard let nibble = Hex.nibble(char) else { return nil }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }

    /// A JSON-RPC quantity (`0x1a`, no leading zeros required) as UInt64; nil if invalid
    /// or larger than 64 bits.
    public static func quantity(_ text: some StringProtocol) -> UInt64? {
        let utf8 = Substring(text).utf8
        guard utf8.starts(with: "0x".utf8), utf8.count > 2, utf8.count <= 18 else { return nil }
        var value: UInt64 = 0
        for char in utf8.dropFirst(2) {
            guard let nibble = Hex.nibble(char) else { return nil }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    /// A UInt64 as a JSON-RPC quantity (`0x0`, `0x1a`).
    public static func quantity(_ value: UInt64) -> String {
        "0x" + String(value, radix: 16)
    }

    /// The value of one hex digit (any case); nil for anything else.
    @inlinable public static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
