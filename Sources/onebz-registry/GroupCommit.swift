import GRDB
import Synchronization

/// Group commit for the API's writes: requests that arrive while a transaction commits
/// wait, then go together in the next one, each in its own savepoint (a refused write
/// rolls back alone; the others commit). Every caller is answered only after the
/// transaction holding its write has committed, so a 2xx still means durable, while the
/// commit (the fsync) is paid once per batch instead of once per request.
///
/// No background task: the waiter at the head of the queue leads, as LevelDB's
/// `DBImpl::Write` does: it takes the queue as one batch, writes and commits it, answers
/// the batch, and hands the lead to the new head of the queue if one arrived meanwhile.
final class GroupCommit: Sendable {
    private let pool: DatabasePool
    /// Writes per transaction at most (bounds one batch's latency).
    let maxBatch: Int

    private struct Waiter: Sendable {
        /// Runs the write inside the batch's transaction (in its own savepoint) and
        /// keeps its outcome; after the commit the waiter reads it.
        let execute: @Sendable (Database) -> Void
        /// The outcome if the transaction did not commit.
        let fail: @Sendable (any Error) -> Void
        let wake: CheckedContinuation<Role, Never>
    }

    private enum Role { case lead, done }

    private struct State {
        var queue: [Waiter] = []
        var leading = false
    }

    private let state = Mutex<State>(State())

    init(pool: DatabasePool, maxBatch: Int = 2_000) {
        self.pool = pool
        self.maxBatch = max(1, maxBatch)
    }

    /// Runs `write` in a transaction shared with the writes waiting at the same time; its
    /// error (an `APIError` refusal) rolls back only its own changes.
    func write<T: Sendable>(_ write: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        let role = await withCheckedContinuation { (wake: CheckedContinuation<Role, Never>) in
            let waiter = Waiter(
                execute: { db in
                    do {
                        var value: T?
                        try db.inSavepoint {
                            value = try write(db)
                            return .commit
                        }
                        outcome.set(.success(value!))
                    } catch {
                        outcome.set(.failure(error))
                    }
                },
                fail: { outcome.set(.failure($0)) }, wake: wake)
            let lead = state.withLock { s in
                s.queue.append(waiter)
                if s.leading { return false }
                s.leading = true
                return true
            }
            if lead { wake.resume(returning: .lead) }
        }
        if role == .lead { await lead() }
        return try outcome.get()
    }

    /// Writes the queue (up to `maxBatch`) in one transaction; answers it; passes the lead on.
    private func lead() async {
        let batch = state.withLock { s in
            let n = min(s.queue.count, maxBatch)
            let batch = Array(s.queue.prefix(n))
            s.queue.removeFirst(n)
            return batch
        }
        // GRDB's completion-based write, not its async one: the leader's task being
        // cancelled (its client went away) must not abort the batch of the others.
        let committed = await withCheckedContinuation { (done: CheckedContinuation<Result<Void, any Error>, Never>) in
            pool.asyncWrite(
                { db in
                    for waiter in batch { waiter.execute(db) }
                }, completion: { _, result in done.resume(returning: result) })
        }
        if case .failure(let error) = committed {
            for waiter in batch { waiter.fail(error) }
        }
        let next = state.withLock { s -> Waiter? in
            guard let head = s.queue.first else {
                s.leading = false
                return nil
            }
            return head
        }
        next?.wake.resume(returning: .lead)
        // The first waiter of the batch is the leader itself, already awake.
        for waiter in batch.dropFirst() { waiter.wake.resume(returning: .done) }
    }
}

/// One write's result, set inside the transaction (or by a failed commit) and read by
/// its caller after the batch is answered.
private final class Outcome<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    func set(_ r: Result<T, any Error>) { value.withLock { $0 = r } }
    func get() throws -> T { try value.withLock { $0! }.get() }
}
