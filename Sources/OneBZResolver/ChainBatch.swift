import ChainReader
import NIOConcurrencyHelpers
import NodeRegistry

/// The follower's events between two `synced` marks, read once for everyone who needs
/// them: the materialised zone (names to add, nodes to resolve again) and the answer
/// cache's invalidations (`ChainEventApplier`, the one place follower events arrive).
/// A registered name is parsed here, once (`NodeName(chainString:)`: canonical or
/// nothing, docs/design.md#names).
package struct ChainBatch: Sendable {
    package struct Registration: Sendable {
        package let nodeHash: NodeHash
        /// Nil when the chain string is no name we serve (it is still a registered node:
        /// reachable by its id name).
        package let name: NodeName?
    }

    package private(set) var registered: [Registration] = []
    /// Nodes whose chain facts changed (verified, stake, trust).
    package private(set) var touched: [NodeHash] = []
    /// The lowest block a reorg rolled back to, if any.
    package private(set) var reorgFrom: UInt64? = nil
    /// The chain facts these events state (a cold start's bulk materialisation).
    package private(set) var facts = EventChainFacts()

    package init() {}

    package var isEmpty: Bool { registered.isEmpty && touched.isEmpty && reorgFrom == nil }

    /// Takes one event (a `synced` mark closes the batch; it is not part of it).
    package mutating func add(_ event: FollowerEvent) {
        facts.add(event)
        switch event {
        case .registered(let hash, let name, _, _):
            registered.append(Registration(nodeHash: hash, name: NodeName(chainString: name)))
        case .verified(let hash), .stakeAdded(let hash, _), .trustUpdated(let hash, _):
            touched.append(hash)
        case .reorg(let block):
            reorgFrom = min(reorgFrom ?? block, block)
        case .synced:
            break
        }
    }
}

/// Gathers the follower's events into batches: `collect` returns the closed batch at
/// each `synced` mark (the follower awaits its handler per event, in chain order).
package final class ChainBatchCollector: Sendable {
    private let pending = NIOLockedValueBox(ChainBatch())

    package init() {}

    /// Adds `event`; at a `synced(block)` mark, the batch it closes and that block.
    package func collect(_ event: FollowerEvent) -> (batch: ChainBatch, block: UInt64)? {
        guard case .synced(let block) = event else {
            pending.withLockedValue { $0.add(event) }
            return nil
        }
        let batch = pending.withLockedValue { batch in
            defer { batch = ChainBatch() }
            return batch
        }
        return (batch, block)
    }
}
