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
    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        Data(base64Encoded: String(text)).map { Array($0) }
    }
}
