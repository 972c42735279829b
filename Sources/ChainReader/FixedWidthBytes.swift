/// A value of exactly `byteCount` bytes written as `0x` + hex (Bytes32, EthereumAddress):
/// one implementation of parsing, printing and Codable for both.
public protocol FixedWidthBytes: Hashable, Sendable, CustomStringConvertible, Codable {
    static var byteCount: Int { get }
    /// Exactly `byteCount` bytes.
    var bytes: [UInt8] { get }
    init(unchecked bytes: [UInt8])
}

extension FixedWidthBytes {
    public static var zero: Self { Self(unchecked: [UInt8](repeating: 0, count: byteCount)) }

    /// nil unless `bytes` has exactly `byteCount` elements.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.init(unchecked: bytes)
    }

    /// Parses `0x` + 2 × `byteCount` hex digits, any case (the prefix is optional).
    public init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes)
    }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// `0x` + lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(hex: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not \(Self.byteCount) bytes of hex: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
