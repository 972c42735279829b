import NIOConcurrencyHelpers

/// Coalesces concurrent work per key: while a lookup for a key is running, later
/// callers for the same key wait for its result instead of starting their own
/// (N queries for one missing name cost one upstream lookup). Also bounds the number
/// of distinct keys in flight, so a flood of random names cannot open unbounded
/// upstream calls: past the bound, `run` throws ``SingleFlightError/overloaded``.
package final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// A caller waiting with a deadline: resumed by whichever comes first, the result or
    /// its timer. Nothing else waits on its behalf.
    private struct Waiter {
        let continuation: CheckedContinuation<Value, any Error>
        let timer: Task<Void, Never>
    }

    private struct Flight {
        let task: Task<Value, any Error>
        var waiters: [Int: Waiter] = [:]
    }

    private struct State {
        var flights: [Key: Flight] = [:]
        var nextWaiter = 0
    }

    private let state = NIOLockedValueBox(State())
    package let maxInFlight: Int
    /// How a deadline waits (injected by tests: `Task.sleep` by default).
    private let sleep: @Sendable (Duration) async throws -> Void

    package init(
        maxInFlight: Int, sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        precondition(maxInFlight > 0)
        self.maxInFlight = maxInFlight
        self.sleep = sleep
    }

    package var count: Int { state.withLockedValue { $0.flights.count } }
    /// Callers waiting with a deadline, over all keys (a timed-out one is gone at once).
    package var waiting: Int { state.withLockedValue { $0.flights.values.reduce(0) { $0 + $1.waiters.count } } }

    /// Runs `operation` for `key`, or joins the run already in flight for it.
    /// `started` tells whether this call started the operation (for metrics). With
    /// `maxWait`, this caller stops waiting after that long and gets
    /// ``SingleFlightError/timedOut``; the operation runs on for the other waiters, and
    /// nothing is left waiting for it on this caller's behalf.
    package func run(
        _ key: Key, maxWait: Duration? = nil, operation: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, started: Bool) {
        let (task, started): (Task<Value, any Error>, Bool) = try state.withLockedValue { state in
            if let running = state.flights[key] { return (running.task, false) }
            guard state.flights.count < maxInFlight else { throw SingleFlightError.overloaded }
            // The task outlives any one waiter: a cancelled query does not cancel the
            // lookup other queries (and the cache) are waiting for.
            let task = Task<Value, any Error> {
                let result: Result<Value, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                self.finish(key, result)
                return try result.get()
            }
            state.flights[key] = Flight(task: task)
            return (task, true)
        }
        guard let maxWait else { return (try await task.value, started) }
        return (try await wait(for: key, task: task, atMost: maxWait), started)
    }

    /// Registers this caller with the flight and a timer; `finish` or the timer resumes it.
    private func wait(for key: Key, task: Task<Value, any Error>, atMost maxWait: Duration) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let registered = state.withLockedValue { state -> Bool in
                guard state.flights[key]?.task == task else { return false }
                let id = state.nextWaiter
                state.nextWaiter &+= 1
                let timer = Task {
                    guard (try? await self.sleep(maxWait)) != nil, !Task.isCancelled else { return }
                    self.timeOut(key, waiter: id)
                }
                state.flights[key]!.waiters[id] = Waiter(continuation: continuation, timer: timer)
                return true
            }
            // Finished between joining and registering: its value is there already.
            if !registered { Task { continuation.resume(with: await task.result) } }
        }
    }

    private func timeOut(_ key: Key, waiter id: Int) {
        let waiter = state.withLockedValue { $0.flights[key]?.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(throwing: SingleFlightError.timedOut)
    }

    private func finish(_ key: Key, _ result: Result<Value, any Error>) {
        let waiters: [Waiter] = state.withLockedValue { state in
            guard let flight = state.flights.removeValue(forKey: key) else { return [] }
            return Array(flight.waiters.values)
        }
        for waiter in waiters {
            waiter.timer.cancel()
            waiter.continuation.resume(with: result)
        }
    }
}

package enum SingleFlightError: Error, Equatable {
    /// Too many distinct lookups already in flight.
    case overloaded
    /// The caller's `maxWait` passed before the lookup finished (it runs on).
    case timedOut
}
