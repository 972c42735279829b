import Atomics

/// An atomically swapped reference to the current `PreparedZone`: readers load it
/// without a lock, a writer publishes a new one whole.
final class PreparedZoneBox: Sendable {
    private final class Snapshot: AtomicReference, Sendable {
        let prepared: PreparedZone
        init(_ prepared: PreparedZone) { self.prepared = prepared }
    }

    private let snapshot: ManagedAtomic<Snapshot>

    init(_ prepared: PreparedZone) { snapshot = ManagedAtomic(Snapshot(prepared)) }

    var current: PreparedZone { snapshot.load(ordering: .acquiring).prepared }

    func replace(with prepared: PreparedZone) { snapshot.store(Snapshot(prepared), ordering: .releasing) }
}
