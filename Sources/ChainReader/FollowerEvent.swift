/// What the event follower reports, in chain order.
///
/// Consumers (onebzd's cache invalidation, the registry) treat events as idempotent
/// hints: after `.reorg(fromBlock: b)` the events of blocks `b...` on the new chain are
/// delivered again, so a consumer drops what it learned from blocks `>= b` (or simply
/// everything it caches for the affected nodes) and applies what follows.
public enum FollowerEvent: Sendable, Hashable {
    /// NodeRegistered: `name` now resolves to `nodeHash` (drop its negative entry),
    /// registered by `wallet` in block `block` (with the other events, every chain fact
    /// of a node: a cold start materialises from them without a read per node).
    case registered(nodeHash: Bytes32, name: String, wallet: EthereumAddress, block: UInt64)
    /// NodeVerified: the node's verified flag is now true.
    case verified(nodeHash: Bytes32)
    /// StakeAdded: `amount` wei more stake.
    case stakeAdded(nodeHash: Bytes32, amount: UInt256)
    /// TrustUpdated (declared by the contract, not emitted by the current version).
    case trustUpdated(nodeHash: Bytes32, score: UInt256)
    /// Blocks from `fromBlock` on were replaced by a reorg.
    case reorg(fromBlock: UInt64)
    /// Every event up to and including `block` has been delivered: reads pinned to
    /// `.number(block)` see the state these events describe. Sent after each poll that
    /// reached the (confirmed) head; `block` can go down after a reorg.
    case synced(block: UInt64)

    public init(_ log: RegistryLog) {
        switch log.event {
        case .registered(let hash, let wallet, let name):
            self = .registered(nodeHash: hash, name: name, wallet: wallet, block: log.blockNumber)
        case .verified(let hash): self = .verified(nodeHash: hash)
        case .stakeAdded(let hash, let amount): self = .stakeAdded(nodeHash: hash, amount: amount)
        case .trustUpdated(let hash, let score): self = .trustUpdated(nodeHash: hash, score: score)
        }
    }

    /// The node an event is about (nil for reorg and synced).
    public var nodeHash: Bytes32? {
        switch self {
        case .registered(let h, _, _, _), .verified(let h), .stakeAdded(let h, _), .trustUpdated(let h, _): h
        case .reorg, .synced: nil
        }
    }
}
