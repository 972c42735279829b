import NIOConcurrencyHelpers

/// A wake-up signal for one waiting task at a time: `ring()` wakes the waiter, or the
/// next `wait()` at once if nobody waits (rings do not accumulate). Cancelling the
/// waiting task returns from `wait()` and leaves the bell working for the next wait.
///
/// An `AsyncStream` does not do for this: cancelling a task blocked in its iterator's
/// `next()` terminates the stream, and every later `next()` returns nil at once. The
/// NOTIFY sender raced such a `next()` against a 100 ms sleep and cancelled the loser;
/// after the first timeout its loop spun, a core busy for as long as onebzd ran.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var lastID: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    func ring() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns when the bell rings (or rang since the last wait), or when the task is
    /// cancelled.
    func wait() async {
        let id = state.withLockedValue { state in
            state.lastID &+= 1
            return state.lastID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { state -> Bool in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = (id, continuation)
                    return false
                }
                if now {
                    continuation.resume()
                } else if Task.isCancelled {
                    // Cancelled before the waiter was registered: the handler found nothing.
                    release(id)
                }
            }
        } onCancel: {
            release(id)
        }
    }

    /// Resumes the waiter `id` if it still waits.
    private func release(_ id: UInt64) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }
}
