import Atomics

/// The block the event follower has processed: dynamic lookups are pinned to it, so
/// an answer and the invalidations that will replace it agree on one chain state.
/// Readiness: dynamic names are answered only once the follower has caught up on
/// first start (before that they get SERVFAIL and /readyz says 503).
package final class ChainHead: Sendable {
    private let block = ManagedAtomic<UInt64>(0)
    private let synced = ManagedAtomic<Bool>(false)
    /// The highest block ever processed: the SOA serial never goes back, even when a
    /// reorg makes `block` go down.
    private let highest = ManagedAtomic<UInt64>(0)

    package init() {}

    package var isSynced: Bool { synced.load(ordering: .acquiring) }
    package var current: UInt64 { block.load(ordering: .acquiring) }
    package var highestBlock: UInt64 { highest.load(ordering: .relaxed) }

    /// Records that every event up to `number` has been delivered.
    package func advance(to number: UInt64) {
        block.store(number, ordering: .releasing)
        var seen = highest.load(ordering: .relaxed)
        while number > seen {
            let (exchanged, original) = highest.compareExchange(
                expected: seen, desired: number, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        synced.store(true, ordering: .releasing)
    }
}
