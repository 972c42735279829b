import Foundation

/// PEM armour (RFC 7468) in the exact layout OpenSSL and `cryptography` write: 64-column
/// base64 lines, LF line ends, trailing newline.
enum PEM {
    static func encode(_ der: [UInt8], label: String) -> String {
        let b64 = Array(Base64.encode(der))
        var out = "-----BEGIN \(label)-----\n"
        var i = 0
        while i < b64.count {
            out += String(b64[i..<min(i + 64, b64.count)]) + "\n"
            i += 64
        }
        return out + "-----END \(label)-----\n"
    }

    /// The DER inside the first `label` block, or nil.
    static func decode(_ text: String, label: String) -> [UInt8]? {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        guard let b = text.range(of: begin), let e = text.range(of: end, range: b.upperBound..<text.endIndex)
        else { return nil }
        let body = text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
        return Base64.decode(body)
    }
}

/// Standard base64 with padding (RFC 4648 4).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// Byte → 6-bit value, 0xFF: not in the alphabet.
    private static let values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] as [UInt32] { out.append(alphabet[Int(v >> shift & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        if let bytes = decodeCanonical(text.utf8) { return bytes }
        return Data(base64Encoded: String(text)).map { Array($0) }
    }

    /// Decodes canonical base64 only (padded, no whitespace, zero trailing bits: the one
    /// text `encode` writes for the bytes), without Foundation; nil for anything else,
    /// which `decode` hands to Foundation's decoder (the same bytes where both decode).
    static func decodeCanonical(_ text: some Collection<UInt8>) -> [UInt8]? {
        let n = text.count
        guard n % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(n / 4 * 3)
        var quad: UInt32 = 0, k = 0, pad = 0
        for c in text {
            let v = values[Int(c)]
            if v == 0xFF {
                guard c == UInt8(ascii: "="), k >= 2 else { return nil }
                pad += 1
            } else {
                guard pad == 0 else { return nil }
            }
            quad = quad << 6 | UInt32(v == 0xFF ? 0 : v)
            k += 1
            if k == 4 {
                out.append(UInt8(truncatingIfNeeded: quad >> 16))
                if pad < 2 { out.append(UInt8(truncatingIfNeeded: quad >> 8)) }
                if pad < 1 { out.append(UInt8(truncatingIfNeeded: quad)) }
                // Bits that padding drops must be zero (else another text decodes the same).
                guard pad == 0 || quad & (pad == 1 ? 0xFF : 0xFFFF) == 0 else { return nil }
                if pad > 0 && out.count != n / 4 * 3 - pad { return nil }
                quad = 0
                k = 0
            }
        }
        return out
    }
}
