import Synchronization

/// Set once the DNS sockets are bound (and, with a chain, once the follower has
/// synced: the chain wiring ANDs its own condition in). Read by `/readyz`.
final class ReadinessFlag: Sendable {
    private let ready = Atomic<Bool>(false)

    var isReady: Bool { ready.load(ordering: .acquiring) }

    func markReady() { ready.store(true, ordering: .releasing) }
}
