import ChainReader

/// The bytes32 key of a node on the BizNodeRegistry contract: Keccak-256 of the 64 ASCII
/// bytes of the node_id hex. Text form: `0x` + 64 lowercase hex digits.
public struct NodeHash: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    public init(nodeID: NodeID) {
        self.bytes = NodeHash.keccak256(Array(nodeID.hex.utf8))
    }

    /// Parses 64 hex digits with or without `0x` (either case).
    public init?(hex: some StringProtocol) {
        guard let b = Hex.decode(hex), b.count == 32 else { return nil }
        self.bytes = b
    }

    /// `0x` + 64 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}
