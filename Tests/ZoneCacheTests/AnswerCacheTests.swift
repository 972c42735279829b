import NIOConcurrencyHelpers
import Testing

@testable import ZoneCache

private let second: UInt64 = 1_000_000_000

private func makeCache(
    maxEntries: Int = 100, maxBytes: Int = 1 << 20, maxStale: UInt64 = 30 * second, shards: Int = 4
) -> AnswerCache<String, String, [UInt8]> {
    AnswerCache(
        limits: AnswerCacheLimits(maxEntries: maxEntries, maxBytes: maxBytes, maxStaleNanoseconds: maxStale),
        shardCount: shards, cost: { $0.count })
}

private func freshValue<Value>(_ lookup: AnswerCacheLookup<Value>) -> Value? {
    if case .fresh(let value, _) = lookup { return value }
    return nil
}

@Suite("AnswerCache")
struct AnswerCacheTests {
    @Test func freshThenStaleThenGone() {
        let cache = makeCache()
        cache.insert("a", [1, 2, 3], ttlNanoseconds: 10 * second, now: 0)
        guard case .fresh(let v, let remaining) = cache.lookup("a", now: 4 * second) else {
            Issue.record("expected fresh"); return
        }
        #expect(v == [1, 2, 3])
        #expect(remaining == 6 * second)
        guard case .stale(let s) = cache.lookup("a", now: 10 * second) else {
            Issue.record("expected stale at expiry"); return
        }
        #expect(s == [1, 2, 3])
        guard case .stale = cache.lookup("a", now: 40 * second) else {
            Issue.record("expected stale at max-stale"); return
        }
        guard case .miss = cache.lookup("a", now: 40 * second + 1) else {
            Issue.record("expected miss past max-stale"); return
        }
    }

    /// A query's thread writes with `waiting: false`: while another writer holds the
    /// lock (here: an update's transform, which runs under it) its insert and update
    /// store nothing and return false at once; with the lock free they store.
    @Test func aWriterThatMustNotWaitSkipsWhileTheLockIsHeld() {
        let cache = makeCache()
        cache.insert("held", [1], ttlNanoseconds: second, now: 0)
        var skipped: (insert: Bool, update: Bool)? = nil
        let updated = cache.update("held", now: 0) { value in
            skipped = (
                !cache.insert("other", [2], ttlNanoseconds: second, now: 0, waiting: false) { true },
                !cache.update("held", now: 0, waiting: false) { _ in [9] }
            )
            return value + [1]
        }
        #expect(updated)
        #expect(skipped?.insert == true && skipped?.update == true)
        #expect(cache.count == 1 && freshValue(cache.lookup("other", now: 0)) == nil)
        #expect(freshValue(cache.lookup("held", now: 0)) == [1, 1])
        #expect(cache.insert("other", [2], ttlNanoseconds: second, now: 0, waiting: false) { true })
        #expect(cache.update("held", now: 0, waiting: false) { _ in [9] })
        #expect(freshValue(cache.lookup("other", now: 0)) == [2] && freshValue(cache.lookup("held", now: 0)) == [9])
    }

    @Test func replaceKeepsAccounting() {
        let cache = makeCache()
        cache.insert("a", [1], ttlNanoseconds: second, now: 0)
        cache.insert("a", [1, 2, 3, 4], ttlNanoseconds: second, now: 0)
        #expect(cache.count == 1)
        #expect(cache.bytes == 4)
        #expect(freshValue(cache.lookup("a", now: 0)) == [1, 2, 3, 4])
        #expect(cache.remove("a"))
        #expect(!cache.remove("a"))
        #expect(cache.count == 0 && cache.bytes == 0)
    }

    @Test func removeByTagDropsExactlyThatNodesAnswers() {
        let cache = makeCache()
        cache.insert("shashi A", [1], ttlNanoseconds: second, tags: ["node1"], now: 0)
        cache.insert("shashi TXT", [2], ttlNanoseconds: second, tags: ["node1"], now: 0)
        cache.insert("id-name A", [3], ttlNanoseconds: second, tags: ["node1"], now: 0)
        cache.insert("acme A", [4], ttlNanoseconds: second, tags: ["node2"], now: 0)
        #expect(cache.removeAll(tagged: "node1") == 3)
        #expect(cache.removeAll(tagged: "node1") == 0)
        guard case .miss = cache.lookup("shashi A", now: 0) else { Issue.record("not removed"); return }
        #expect(freshValue(cache.lookup("acme A", now: 0)) == [4])
        #expect(cache.count == 1)
    }

    @Test(arguments: [1, 3, 10])
    func entryBoundHolds(maxEntries: Int) {
        let cache = makeCache(maxEntries: maxEntries)
        for i in 0..<50 { cache.insert("k\(i)", [UInt8(i)], ttlNanoseconds: second, now: 0) }
        #expect(cache.count == maxEntries)
        // The newest insert always survives its own eviction pass.
        #expect(freshValue(cache.lookup("k49", now: 0)) == [49])
    }

    @Test func byteBoundHolds() {
        let cache = makeCache(maxBytes: 100)
        for i in 0..<50 { cache.insert("k\(i)", [UInt8](repeating: 0, count: 30), ttlNanoseconds: second, now: 0) }
        #expect(cache.bytes <= 100)
        #expect(cache.count == 3)
    }

    @Test func clockGivesReferencedEntriesASecondChance() {
        let cache = makeCache(maxEntries: 3)
        cache.insert("hot", [0], ttlNanoseconds: 100 * second, now: 0)
        for i in 0..<20 {
            _ = cache.lookup("hot", now: 0)  // a popular name stays
            cache.insert("cold\(i)", [1], ttlNanoseconds: 100 * second, now: 0)
        }
        #expect(freshValue(cache.lookup("hot", now: 0)) == [0])
        guard case .miss = cache.lookup("cold0", now: 0) else { Issue.record("cold entry kept"); return }
    }

    /// The CLOCK mark lives inline in the entry (an `Atomic`, not an object of its own):
    /// an update carries it over, so an answer added to a popular name keeps its
    /// second chance, and an unmarked one does not get one.
    @Test func updateCarriesTheReferencedMarkOver() {
        let cache = makeCache(maxEntries: 2)
        cache.insert("hot", [0], ttlNanoseconds: 100 * second, now: 0)
        cache.insert("cold", [1], ttlNanoseconds: 100 * second, now: 0)
        _ = cache.lookup("hot", now: 0)
        #expect(cache.update("hot", now: 0) { $0 + [9] })
        #expect(cache.update("cold", now: 0) { $0 + [9] })
        cache.insert("new", [2], ttlNanoseconds: 100 * second, now: 0)
        #expect(freshValue(cache.lookup("hot", now: 0)) == [0, 9], "marked before the update: kept")
        guard case .miss = cache.lookup("cold", now: 0) else { Issue.record("the unmarked entry stayed"); return }
        #expect(freshValue(cache.lookup("new", now: 0)) == [2])
    }

    @Test func removeAllEmpties() {
        let cache = makeCache()
        for i in 0..<10 { cache.insert("k\(i)", [1], ttlNanoseconds: second, tags: ["t"], now: 0) }
        cache.removeAll()
        #expect(cache.count == 0)
        #expect(cache.removeAll(tagged: "t") == 0)
        guard case .miss = cache.lookup("k1", now: 0) else { Issue.record("still there"); return }
    }

    @Test func updateKeepsExpiryTagsAndAccounting() {
        let cache = makeCache(maxStale: 5 * second)
        cache.insert("a", [1], ttlNanoseconds: 10 * second, tags: ["node1"], now: 0)
        #expect(cache.update("a", now: 3 * second) { $0 + [2, 3] })
        #expect(!cache.update("a", now: 3 * second) { _ in nil }, "nil leaves the entry alone")
        #expect(!cache.update("b", now: 3 * second) { $0 }, "no entry, nothing to update")
        #expect(cache.count == 1 && cache.bytes == 3)
        guard case .fresh(let v, let remaining) = cache.lookup("a", now: 4 * second) else {
            Issue.record("expected fresh"); return
        }
        #expect(v == [1, 2, 3] && remaining == 6 * second, "the expiry is the insert's")
        // A stale entry can still be updated (answers rendered from stale facts).
        #expect(cache.update("a", now: 12 * second) { $0 + [4] })
        guard case .stale([1, 2, 3, 4]) = cache.lookup("a", now: 12 * second) else {
            Issue.record("expected the updated stale value"); return
        }
        #expect(cache.removeAll(tagged: "node1") == 1, "tags carried over")
        #expect(cache.count == 0 && cache.bytes == 0)
    }

    @Test func updateRespectsTheByteBound() {
        let cache = makeCache(maxBytes: 10)
        cache.insert("a", [1], ttlNanoseconds: second, now: 0)
        cache.insert("b", [2], ttlNanoseconds: second, now: 0)
        cache.update("b", now: 0) { _ in [UInt8](repeating: 2, count: 10) }
        #expect(cache.bytes <= 10)
        #expect(freshValue(cache.lookup("b", now: 0))?.count == 10)
        guard case .miss = cache.lookup("a", now: 0) else { Issue.record("a should be evicted"); return }
    }

    /// A tag marking several entries, entries with several tags, removals in any order:
    /// the index ends empty and never drops an entry it should not.
    @Test func tagIndexTracksSharedAndRepeatedTags() {
        let cache = makeCache()
        cache.insert("x", [1], ttlNanoseconds: second, tags: ["n", "m"], now: 0)
        cache.insert("y", [2], ttlNanoseconds: second, tags: ["n"], now: 0)
        cache.insert("z", [3], ttlNanoseconds: second, tags: ["n", "n"], now: 0)
        #expect(cache.remove("y"))
        cache.insert("x", [4], ttlNanoseconds: second, tags: ["m"], now: 0)  // x no longer tagged n
        #expect(cache.removeAll(tagged: "n") == 1)
        #expect(freshValue(cache.lookup("x", now: 0)) == [4])
        #expect(cache.removeAll(tagged: "m") == 1)
        #expect(cache.removeAll(tagged: "n") == 0 && cache.count == 0)
    }

    /// Many keys in few shards: the open-addressing tables grow, probe past collisions
    /// and keep every key findable through inserts and removals.
    @Test(arguments: [1, 4])
    func shardTablesHoldManyKeys(shards: Int) {
        let cache = makeCache(maxEntries: 1000, shards: shards)
        for i in 0..<500 { cache.insert("k\(i)", [UInt8(i % 256)], ttlNanoseconds: second, now: 0) }
        for i in stride(from: 0, to: 500, by: 3) { #expect(cache.remove("k\(i)")) }
        for i in 0..<500 {
            let value = freshValue(cache.lookup("k\(i)", now: 0))
            #expect(value == (i % 3 == 0 ? nil : [UInt8(i % 256)]), "k\(i)")
        }
        #expect(cache.count == 500 - 167)
    }

    @Test func defaultShardCountScalesWithTheEntryBound() {
        // Not observable directly; a large bound must still hold and find everything.
        let cache = AnswerCache<Int, Int, Int>(
            limits: AnswerCacheLimits(maxEntries: 100_000, maxBytes: 1 << 30, maxStaleNanoseconds: 0), cost: { _ in 1 })
        for i in 0..<20_000 { cache.insert(i, i, ttlNanoseconds: second, tags: [i % 7], now: 0) }
        #expect((0..<20_000).allSatisfy { freshValue(cache.lookup($0, now: 0)) == $0 })
        #expect(cache.removeAll(tagged: 3) == 20_000 / 7 + (20_000 % 7 > 3 ? 1 : 0))
    }

    @Test func concurrentReadersSeeConsistentValuesWhileWritersChurn() async {
        let cache = makeCache(maxEntries: 1000, shards: 64)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 0..<200 {
                    for i in 0..<50 {
                        cache.insert("k\(i)", [UInt8(i), UInt8(round % 256)], ttlNanoseconds: second, now: 0)
                    }
                    _ = cache.removeAll(tagged: "none")
                }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<20_000 {
                        let i = Int.random(in: 0..<50)
                        if let v = freshValue(cache.lookup("k\(i)", now: 0)) { precondition(v[0] == UInt8(i)) }
                    }
                }
            }
        }
        #expect(cache.count == 50)
    }
}

@Suite("SingleFlight", .timeLimit(.minutes(3)))
struct SingleFlightTests {
    actor Counter {
        var calls = 0
        func bump() { calls += 1 }
    }

    /// Opens once; whoever waits before or after gets through (no sleeps in tests).
    final class Gate: Sendable {
        private let state = NIOLockedValueBox<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
        func wait() async {
            await withCheckedContinuation { continuation in
                let open = state.withLockedValue { state -> Bool in
                    if !state.open { state.waiting.append(continuation) }
                    return state.open
                }
                if open { continuation.resume() }
            }
        }
        func open() {
            let waiting = state.withLockedValue { state in
                state.open = true
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    /// A waiter with `maxWait` gets `timedOut` when its deadline passes (the injected
    /// clock), while the lookup runs on, once, and a waiter without a limit gets its
    /// value. Nothing stays waiting for the lookup on the timed-out waiter's behalf
    /// (issue 21, finding 9: before, a helper task per timed-out waiter ran until the
    /// lookup ended).
    @Test func maxWaitTimesOutOneWaiterNotTheLookup() async throws {
        let deadline = Gate()
        let lookupEnds = Gate()
        let flight = SingleFlight<String, Int>(maxInFlight: 10, sleep: { _ in await deadline.wait() })
        let counter = Counter()
        let slow: @Sendable () async throws -> Int = {
            await counter.bump()
            await lookupEnds.wait()
            return 7
        }
        async let patient = flight.run("name", operation: slow)
        async let impatient: (any Error)? = {
            do {
                _ = try await flight.run("name", maxWait: .milliseconds(50), operation: slow)
                return nil
            } catch { return error }
        }()
        while flight.waiting == 0 { await Task.yield() }
        deadline.open()
        #expect(await impatient as? SingleFlightError == .timedOut)
        #expect(flight.waiting == 0 && flight.count == 1, "the lookup runs on, nobody waits for it but the patient")
        lookupEnds.open()
        #expect(try await patient.value == 7)
        #expect(await counter.calls == 1)
        #expect(flight.count == 0)
        // A lookup faster than maxWait answers normally.
        let never = SingleFlight<String, Int>(maxInFlight: 1, sleep: { _ in try await Task.sleep(for: .seconds(3600)) })
        #expect(try await never.run("fast", maxWait: .seconds(5)) { 9 }.value == 9)
    }

    @Test func concurrentCallersShareOneRun() async throws {
        let flight = SingleFlight<String, Int>(maxInFlight: 10)
        let counter = Counter()
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for _ in 0..<1000 {
                group.addTask {
                    let r = try await flight.run("name") {
                        await counter.bump()
                        try await Task.sleep(for: .milliseconds(200))
                        return 42
                    }
                    return (r.value, r.started)
                }
            }
            var all: [(Int, Bool)] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 1000)
        #expect(results.allSatisfy { $0.0 == 42 })
        #expect(results.filter { $0.1 }.count == 1)
        #expect(await counter.calls == 1)
        #expect(flight.count == 0)
    }

    @Test func boundsDistinctKeysInFlight() async throws {
        let flight = SingleFlight<Int, Int>(maxInFlight: 2)
        async let a = flight.run(1) { try await Task.sleep(for: .milliseconds(300)); return 1 }
        async let b = flight.run(2) { try await Task.sleep(for: .milliseconds(300)); return 2 }
        try await Task.sleep(for: .milliseconds(50))
        await #expect(throws: SingleFlightError.overloaded) {
            _ = try await flight.run(3) { 3 }
        }
        #expect(try await a.value == 1)
        #expect(try await b.value == 2)
        #expect(try await flight.run(3) { 3 }.value == 3)
    }

    @Test func errorsReachEveryWaiterAndTheKeyIsFreedAfter() async throws {
        struct Down: Error {}
        let flight = SingleFlight<String, Int>(maxInFlight: 4)
        await #expect(throws: Down.self) { _ = try await flight.run("x") { throw Down() } }
        #expect(try await flight.run("x") { 7 }.value == 7)
    }
}
