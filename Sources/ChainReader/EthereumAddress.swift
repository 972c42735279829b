/// A 20-byte account or contract address.
public struct EthereumAddress: Hashable, Sendable, CustomStringConvertible, Codable {
    /// Exactly 20 bytes.
    public let bytes: [UInt8]

    public static let zero = EthereumAddress(unchecked: [UInt8](repeating: 0, count: 20))

    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// Parses `0x` + 40 hex digits, any case (EIP-55 checksums are accepted, not checked).
    public init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes)
    }

    init(unchecked bytes: [UInt8]) {
        precondition(bytes.count == 20)
        self.bytes = bytes
    }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// `0x` + 40 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = EthereumAddress(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an address: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
