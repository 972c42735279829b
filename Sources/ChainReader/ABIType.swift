/// The subset of Solidity ABI types the registry uses.
public indirect enum ABIType: Sendable, Hashable {
    case uint256
    case address
    case bool
    case bytes32
    case string
    case tuple([ABIType])

    /// Dynamic types are encoded in the tail, with an offset in the head.
    public var isDynamic: Bool {
        switch self {
        case .string: true
        case .tuple(let components): components.contains { $0.isDynamic }
        default: false
        }
    }

    /// Bytes this type takes in the head of an enclosing tuple.
    var headSize: Int {
        switch self {
        case .tuple(let components) where !isDynamic: components.reduce(0) { $0 + $1.headSize }
        default: 32
        }
    }

    /// The canonical type name used in signatures (`(address,string)` for tuples).
    public var canonicalName: String {
        switch self {
        case .uint256: "uint256"
        case .address: "address"
        case .bool: "bool"
        case .bytes32: "bytes32"
        case .string: "string"
        case .tuple(let components): "(" + components.map(\.canonicalName).joined(separator: ",") + ")"
        }
    }
}
