import ChainReader
import NodeRegistry

/// Every node's chain facts as the contract's events state them: `NodeRegistered`
/// (hash, wallet, name, its block), `NodeVerified`, `StakeAdded`. The contract changes a
/// node only with these events (contracts/BizNodeRegistry.vy), so the events from the
/// deploy block to block B give what `nodes(hash)` returns at B, but `registeredAt`:
/// the timestamp of the registration's block (`node(_:timestamps:)` takes it from the
/// block headers). A cold start materialises from them without a read per node.
package struct EventChainFacts: Sendable {
    package struct Registration: Sendable {
        package let wallet: EthereumAddress
        package let name: String
        package let block: UInt64
        package var verified = false
        package var stake = UInt256.zero
    }

    package private(set) var nodes: [NodeHash: Registration] = [:]
    /// Events about nodes registered before these facts begin (a later batch's), applied
    /// by `merge` to the earlier facts that hold the registration.
    private var verifiedElsewhere: Set<NodeHash> = []
    private var stakeElsewhere: [NodeHash: UInt256] = [:]

    package init() {}

    package var count: Int { nodes.count }

    /// Applies one event (in chain order); reorg and sync marks are not facts.
    package mutating func add(_ event: FollowerEvent) {
        switch event {
        case .registered(let hash, let name, let wallet, let block):
            nodes[hash] = Registration(wallet: wallet, name: name, block: block)
        case .verified(let hash):
            verify(hash)
        case .stakeAdded(let hash, let amount):
            addStake(amount, to: hash)
        case .trustUpdated, .reorg, .synced:
            break
        }
    }

    /// Adds the facts of the next batch (its events come after ours in chain order).
    package mutating func merge(_ later: EventChainFacts) {
        for (hash, registration) in later.nodes { nodes[hash] = registration }
        for hash in later.verifiedElsewhere { verify(hash) }
        for (hash, amount) in later.stakeElsewhere { addStake(amount, to: hash) }
    }

    /// `NodeVerified`: on the registration held here, else kept for an earlier batch's.
    private mutating func verify(_ hash: NodeHash) {
        if nodes[hash] != nil { nodes[hash]?.verified = true } else { verifiedElsewhere.insert(hash) }
    }

    /// `StakeAdded`: on the registration held here, else kept for an earlier batch's. The
    /// contract's checked addition cannot overflow (it reverts).
    private mutating func addStake(_ amount: UInt256, to hash: NodeHash) {
        if let stake = nodes[hash]?.stake {
            nodes[hash]?.stake = stake.adding(amount) ?? stake
        } else {
            stakeElsewhere[hash] = (stakeElsewhere[hash] ?? .zero).adding(amount) ?? amount
        }
    }

    /// The blocks whose timestamps `node(_:timestamps:)` needs.
    package var registrationBlocks: Set<UInt64> { Set(nodes.values.map(\.block)) }

    /// The node as `nodes(hash)` returns it; nil when no registration event names it, or
    /// its block's timestamp is not in `timestamps`.
    package func node(_ hash: NodeHash, timestamps: [UInt64: UInt64]) -> Node? {
        guard let r = nodes[hash], let time = timestamps[r.block] else { return nil }
        return Node(wallet: r.wallet, dnsName: r.name, verified: r.verified, stakeAmount: r.stake, registeredAt: time)
    }
}
