/// A 32-byte value: a nodeHash, a block or transaction hash, an event topic.
public struct Bytes32: FixedWidthBytes {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(unchecked bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.bytes = bytes
    }
}
