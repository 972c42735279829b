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
    /// `started` tells whether this call started the operation (for metrics). With
    /// `maxWait`, this caller stops waiting after that long and gets
    /// ``SingleFlightError/timedOut``; the operation runs on for the other waiters.
    package func run(
        _ key: Key, maxWait: Duration? = nil, operation: @escaping @Sendable () async throws -> Value
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
        guard let maxWait else { return (try await task.value, started) }
        return (try await Self.value(of: task, waitingAtMost: maxWait), started)
    }

    /// The task's value, or `timedOut` after `maxWait`, whichever comes first. Neither
    /// side is awaited past the other: the loser just finds the waiter resumed.
    private static func value(of task: Task<Value, any Error>, waitingAtMost maxWait: Duration) async throws -> Value {
        let waiter = NIOLockedValueBox<CheckedContinuation<Value, any Error>?>(nil)
        let resume: @Sendable (Result<Value, any Error>) -> Void = { result in
            waiter.withLockedValue { continuation in
                continuation?.resume(with: result)
                continuation = nil
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            waiter.withLockedValue { $0 = continuation }
            let timer = Task {
                try? await Task.sleep(for: maxWait)
                if !Task.isCancelled { resume(.failure(SingleFlightError.timedOut)) }
            }
            Task {
                let result = await task.result
                timer.cancel()
                resume(result)
            }
        }
    }

    private func finish(_ key: Key) {
        inFlight.withLockedValue { _ = $0.removeValue(forKey: key) }
    }
}

package enum SingleFlightError: Error, Equatable {
    /// Too many distinct lookups already in flight.
    case overloaded
    /// The caller's `maxWait` passed before the lookup finished (it runs on).
    case timedOut
}
