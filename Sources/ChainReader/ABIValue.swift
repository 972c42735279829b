/// A value of an `ABIType`.
public indirect enum ABIValue: Sendable, Hashable {
    case uint256(UInt256)
    case address(EthereumAddress)
    case bool(Bool)
    case bytes32(Bytes32)
    case string(String)
    case tuple([ABIValue])

    public var type: ABIType {
        switch self {
        case .uint256: .uint256
        case .address: .address
        case .bool: .bool
        case .bytes32: .bytes32
        case .string: .string
        case .tuple(let values): .tuple(values.map(\.type))
        }
    }

    public var uint256Value: UInt256? { if case .uint256(let v) = self { v } else { nil } }
    public var addressValue: EthereumAddress? { if case .address(let v) = self { v } else { nil } }
    public var boolValue: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var bytes32Value: Bytes32? { if case .bytes32(let v) = self { v } else { nil } }
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
}
