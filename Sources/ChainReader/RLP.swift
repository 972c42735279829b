/// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B): the
/// serialisation of transactions. Only encoding: we sign and send, never parse.
public enum RLP: Sendable, Hashable {
    case bytes([UInt8])
    case list([RLP])

    /// An unsigned integer: big-endian without leading zeros (zero is the empty string).
    public static func uint(_ value: UInt64) -> RLP { .uint256(UInt256(value)) }
    public static func uint256(_ value: UInt256) -> RLP { .bytes(value.minimalBytes) }

    public var encoded: [UInt8] {
        switch self {
        case .bytes(let b):
            if b.count == 1 && b[0] < 0x80 { return b }
            return Self.header(b.count, short: 0x80) + b
        case .list(let items):
            let payload = items.flatMap(\.encoded)
            return Self.header(payload.count, short: 0xc0) + payload
        }
    }

    /// 0x80/0xc0 + length up to 55 bytes; beyond, 0xb7/0xf7 + the length of the length.
    private static func header(_ length: Int, short: UInt8) -> [UInt8] {
        if length <= 55 { return [short + UInt8(length)] }
        let lengthBytes = UInt256(UInt64(length)).minimalBytes
        return [short + 55 + UInt8(lengthBytes.count)] + lengthBytes
    }
}
