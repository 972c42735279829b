import Atomics

/// An atomically swapped reference to the current `PreparedZone`: readers load it
/// without a lock, a writer publishes a new one whole.
final class PreparedZoneBox: Sendable {
    private let snapshot: ManagedAtomic<PreparedZone>

    init(_ prepared: PreparedZone) { snapshot = ManagedAtomic(prepared) }

    var current: PreparedZone { snapshot.load(ordering: .acquiring) }

    func replace(with prepared: PreparedZone) { snapshot.store(prepared, ordering: .releasing) }
}
