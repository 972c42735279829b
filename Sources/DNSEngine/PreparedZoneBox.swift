import Atomics

/// An atomically swapped reference to the current `PreparedZone`: readers load it
/// without a lock, a writer publishes a new one whole.
final class PreparedZoneBox: Sendable {
    private let snapshot: ManagedAtomic<PreparedZone>

    init(_ prepared: PreparedZone) { snapshot = ManagedAtomic(prepared) }

    var current: PreparedZone { snapshot.load(ordering: .acquiring) }

    func replace(with prepared: PreparedZone) { snapshot.store(prepared, ordering: .releasing) }

    /// Publishes `transform(current)`; if another writer published first, transforms
    /// the newer snapshot again (a new serial and a re-signing never undo each other).
    func update(_ transform: (PreparedZone) -> PreparedZone) {
        var current = self.current
        while true {
            let next = transform(current)
            let (exchanged, original) = snapshot.compareExchange(
                expected: current, desired: next, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }
}
