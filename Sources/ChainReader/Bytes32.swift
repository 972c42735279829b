/// A 32-byte value: a nodeHash, a block or transaction hash, an event topic.
public struct Bytes32: Hashable, Sendable, CustomStringConvertible, Codable {
    /// Exactly 32 bytes.
    public let bytes: [UInt8]

    public static let zero = Bytes32(unchecked: [UInt8](repeating: 0, count: 32))

    /// nil unless `bytes` has exactly 32 elements.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses `0x` + 64 hex digits (the prefix is optional).
    public init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes)
    }

    init(unchecked bytes: [UInt8]) {
        precondition(bytes.count == 32)
        self.bytes = bytes
    }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// `0x` + 64 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Bytes32(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not 32 bytes of hex: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
