/// A 20-byte account or contract address (EIP-55 checksums are accepted, not checked).
public struct EthereumAddress: FixedWidthBytes {
    public static let byteCount = 20
    public let bytes: [UInt8]

    public init(unchecked bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.bytes = bytes
    }
}
