/// A node as the contract stores it (`nodes(bytes32)`).
public struct Node: Sendable, Hashable {
    public let wallet: EthereumAddress
    /// The full lowercase name, e.g. `shashi.1bz`.
    public let dnsName: String
    public let verified: Bool
    /// Wei staked through addStake.
    public let stakeAmount: UInt256
    /// Block timestamp of the registration (seconds since 1970).
    public let registeredAt: UInt64

    public init(wallet: EthereumAddress, dnsName: String, verified: Bool, stakeAmount: UInt256, registeredAt: UInt64) {
        self.wallet = wallet
        self.dnsName = dnsName
        self.verified = verified
        self.stakeAmount = stakeAmount
        self.registeredAt = registeredAt
    }
}

/// A name resolved together with its node (one `lookup` call).
public struct ResolvedNode: Sendable, Hashable {
    public let nodeHash: Bytes32
    public let node: Node

    public init(nodeHash: Bytes32, node: Node) {
        self.nodeHash = nodeHash
        self.node = node
    }
}
