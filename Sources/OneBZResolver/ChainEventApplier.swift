import ChainReader
import DNSEngine
import NIOConcurrencyHelpers
import NodeRegistry

/// Turns the event follower's events into cache invalidations
/// (docs/design.md#caching-and-invalidation).
///
/// Invalidations are held until the follower reports `synced(block)`, and applied
/// only after the chain head moved to that block: a query arriving in between then
/// re-resolves at the new block, never at the old one (which would cache the state the
/// event just replaced). A reorg drops the whole dynamic cache: per-name undo of
/// orphaned blocks is not tracked (documented; reorgs past confirmations are rare).
package final class ChainEventApplier: Sendable {
    private let source: DynamicNodeSource
    private let head: ChainHead
    private let onSynced: @Sendable (UInt64) -> Void
    /// The materialised zone, fed every event (history included) when materialising.
    private let zone: MaterializedZone?
    private let pending = NIOLockedValueBox(Pending())

    private struct Pending {
        var names: [NodeName] = []
        var nodes: [NodeHash] = []
        var all = false
    }

    /// `onSynced` runs after each applied batch (the SOA serial follows the block).
    package init(
        source: DynamicNodeSource, head: ChainHead, zone: MaterializedZone? = nil,
        onSynced: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) {
        self.source = source
        self.head = head
        self.zone = zone
        self.onSynced = onSynced
    }

    /// The follower's handler: awaited per event, in chain order.
    package func handle(_ event: FollowerEvent) async {
        // The zone takes every event, from the deploy block on: its name set must be
        // complete. It applies them at `synced`, before the head moves.
        zone?.note(event)
        // Until the first sync nothing is cached (lookups wait for it), so the history
        // replayed from the deploy block needs no invalidation, and is not buffered.
        if !head.isSynced, event.nodeHash != nil { return }
        switch event {
        case .registered(let hash, let name):
            pending.withLockedValue {
                $0.nodes.append(hash)
                if let nodeName = NodeName(chainString: name) { $0.names.append(nodeName) }
            }
        case .verified(let hash), .stakeAdded(let hash, _), .trustUpdated(let hash, _):
            pending.withLockedValue { $0.nodes.append(hash) }
        case .reorg:
            pending.withLockedValue { $0.all = true }
        case .synced(let block):
            zone?.synced(block: block)
            head.advance(to: block)
            let batch = pending.withLockedValue { state in
                defer { state = Pending() }
                return state
            }
            if batch.all {
                source.invalidateAll()
            } else {
                for name in batch.names { source.invalidate(name: name) }
                for hash in Set(batch.nodes) { source.invalidate(nodeHash: hash) }
            }
            onSynced(block)
        }
    }
}
