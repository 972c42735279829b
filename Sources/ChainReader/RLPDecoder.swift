/// RLP decoding, strict: canonical lengths only (no leading zeros in a length, no long
/// form for what fits the short form, a single byte below 0x80 never wrapped), nothing
/// after the item, no length running past the input. Proof nodes are hashed as sent, so
/// a decoder that accepted two encodings of one node would still be safe, but strictness
/// keeps a forged node from being read differently here and by the hash.
public enum RLPDecoder {
    /// Deeper nesting is rejected (trie nodes nest at most a few levels).
    public static let maxDepth = 16

    /// The one item `bytes` encodes.
    public static func decode(_ bytes: [UInt8]) throws(RLPDecodingError) -> RLPItem {
        var index = 0
        let item = try decodeItem(bytes, &index, end: bytes.count, depth: 0)
        guard index == bytes.count else { throw RLPDecodingError("\(bytes.count - index) bytes after the item") }
        return item
    }

    private static func decodeItem(_ bytes: [UInt8], _ index: inout Int, end: Int, depth: Int) throws(RLPDecodingError)
        -> RLPItem
    {
        guard depth <= maxDepth else { throw RLPDecodingError("nested deeper than \(maxDepth)") }
        guard index < end else { throw RLPDecodingError("input ends where an item should start") }
        let prefix = bytes[index]
        index += 1
        switch prefix {
        case 0x00...0x7f:
            return .bytes([prefix])
        case 0x80...0xb7:
            let length = Int(prefix - 0x80)
            let payload = try take(bytes, &index, length, end: end)
            if length == 1, payload[0] < 0x80 { throw RLPDecodingError("single byte below 0x80 wrapped in a string") }
            return .bytes(payload)
        case 0xb8...0xbf:
            let length = try longLength(bytes, &index, lengthOfLength: Int(prefix - 0xb7), end: end)
            return .bytes(try take(bytes, &index, length, end: end))
        case 0xc0...0xf7:
            return .list(try decodeList(bytes, &index, length: Int(prefix - 0xc0), end: end, depth: depth))
        default:
            let length = try longLength(bytes, &index, lengthOfLength: Int(prefix - 0xf7), end: end)
            return .list(try decodeList(bytes, &index, length: length, end: end, depth: depth))
        }
    }

    private static func decodeList(_ bytes: [UInt8], _ index: inout Int, length: Int, end: Int, depth: Int)
        throws(RLPDecodingError) -> [RLPItem]
    {
        guard length <= end - index else { throw RLPDecodingError("list of \(length) bytes runs past the input") }
        let listEnd = index + length
        var items: [RLPItem] = []
        while index < listEnd { items.append(try decodeItem(bytes, &index, end: listEnd, depth: depth + 1)) }
        return items
    }

    private static func take(_ bytes: [UInt8], _ index: inout Int, _ length: Int, end: Int) throws(RLPDecodingError)
        -> [UInt8]
    {
        guard length <= end - index else { throw RLPDecodingError("string of \(length) bytes runs past the input") }
        defer { index += length }
        return Array(bytes[index..<index + length])
    }

    private static func longLength(_ bytes: [UInt8], _ index: inout Int, lengthOfLength: Int, end: Int)
        throws(RLPDecodingError) -> Int
    {
        guard lengthOfLength <= end - index else { throw RLPDecodingError("length runs past the input") }
        guard bytes[index] != 0 else { throw RLPDecodingError("length with a leading zero byte") }
        guard lengthOfLength <= 4 else { throw RLPDecodingError("length of \(lengthOfLength) bytes is too large") }
        var length = 0
        for _ in 0..<lengthOfLength {
            length = length << 8 | Int(bytes[index])
            index += 1
        }
        guard length >= 56 else { throw RLPDecodingError("long form for a length of \(length) (below 56)") }
        return length
    }
}

/// Why bytes are not canonical RLP.
public struct RLPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public let detail: String
    init(_ detail: String) { self.detail = detail }
    public var description: String { "invalid RLP: \(detail)" }
}
