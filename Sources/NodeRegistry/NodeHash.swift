import ChainReader

/// The bytes32 key of a node on the BizNodeRegistry contract: Keccak-256 of the 64 ASCII
/// bytes of the node_id hex. One type end to end (chain reads, registry records, the
/// cache's tags): the contract's `Bytes32`. Text form: `0x` + 64 lowercase hex digits.
public typealias NodeHash = Bytes32

extension NodeHash {
    public init(nodeID: NodeID) {
        self.init(unchecked: Keccak256.hash(Array(nodeID.hex.utf8)))
    }
}
