import NIOConcurrencyHelpers

/// Coalesces concurrent work per key: while a lookup for a key is running, later
/// callers for the same key wait for its result instead of starting their own
/// (N queries for one missing name cost one upstream lookup). Also bounds the number
/// of distinct keys in flight, so a flood of random names cannot open unbounded
/// upstream calls: past the bound, `run` throws ``SingleFlightError/overloaded``.
package final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let inFlight = NIOLockedValueBox<[Key: Task<Value, any Error>]>([:])
    package let maxInFlight: Int

    package init(maxInFlight: Int) {
        precondition(maxInFlight > 0)
        self.maxInFlight = maxInFlight
    }

    package var count: Int { inFlight.withLockedValue { $0.count } }

    /// Runs `operation` for `key`, or joins the run already in flight for it.
    /// `started` tells whether this call started the operation (for metrics).
    package func run(
        _ key: Key, operation: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, started: Bool) {
        let (task, started): (Task<Value, any Error>, Bool) = try inFlight.withLockedValue { tasks in
            if let running = tasks[key] { return (running, false) }
            guard tasks.count < maxInFlight else { throw SingleFlightError.overloaded }
            // The task outlives any one waiter: a cancelled query does not cancel the
            // lookup other queries (and the cache) are waiting for.
            let task = Task<Value, any Error> {
                defer { self.finish(key) }
                return try await operation()
            }
            tasks[key] = task
            return (task, true)
        }
        return (try await task.value, started)
    }

    private func finish(_ key: Key) {
        inFlight.withLockedValue { _ = $0.removeValue(forKey: key) }
    }
}

package enum SingleFlightError: Error, Equatable {
    /// Too many distinct lookups already in flight.
    case overloaded
}
