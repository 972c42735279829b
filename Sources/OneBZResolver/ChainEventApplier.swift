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
    private let onSynced: @Sendable (_ block: UInt64, _ changed: Bool) -> Void
    /// The materialised zone, fed every batch (history included) when materialising.
    private let zone: MaterializedZone?
    /// The events since the last `synced`.
    private let batches = ChainBatchCollector()

    /// `onSynced` runs after each applied batch with its block and whether the batch
    /// carried any event (a block without events changes no name: the serial stays).
    package init(
        source: DynamicNodeSource, head: ChainHead, zone: MaterializedZone? = nil,
        onSynced: @escaping @Sendable (_ block: UInt64, _ changed: Bool) -> Void = { _, _ in }
    ) {
        self.source = source
        self.head = head
        self.zone = zone
        self.onSynced = onSynced
    }

    /// The follower's handler: awaited per event, in chain order. Events are held until
    /// `synced(block)`, then go to the materialised zone and the caches as one batch.
    package func handle(_ event: FollowerEvent) async {
        guard let (batch, block) = batches.collect(event) else { return }
        // Until the first sync nothing is cached (lookups wait for it): the history
        // replayed from the deploy block needs no invalidation.
        let invalidate = head.isSynced
        // The zone first: its name set must be complete before the head moves.
        zone?.apply(batch, syncedTo: block)
        head.advance(to: block)
        if invalidate {
            if batch.reorgFrom != nil {
                source.invalidateAll()
            } else {
                for registration in batch.registered {
                    if let name = registration.name { source.invalidate(name: name) }
                }
                let nodes = batch.registered.map(\.nodeHash) + batch.touched
                for hash in Set(nodes) { source.invalidate(nodeHash: hash) }
            }
        }
        onSynced(block, !batch.isEmpty)
    }
}
