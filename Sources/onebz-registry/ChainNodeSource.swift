import NodeRegistry

/// What the registry needs from the chain about one node (BizNodeRegistry `nodes(nodeHash)`).
struct ChainNodeState: Hashable, Sendable {
    var registered: Bool
    var wallet: String
    var dnsName: String
    var verified: Bool
    var stakeWei: UInt256Decimal

    static let unregistered = ChainNodeState(
        registered: false, wallet: "0x" + String(repeating: "0", count: 40), dnsName: "", verified: false,
        stakeWei: .zero)
}

/// The chain lookups of the registry, behind a protocol so the server logic does not
/// depend on how the chain is read.
protocol ChainNodeSource: Sendable {
    /// The node's on-chain state (`.unregistered` when the wallet is zero); throws when
    /// the chain cannot be asked.
    func node(_ hash: NodeHash) async throws -> ChainNodeState
}
