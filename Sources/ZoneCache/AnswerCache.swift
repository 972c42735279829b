import Atomics
import DequeModule
import NIOConcurrencyHelpers

/// Limits of an ``AnswerCache``. Entries past `ttl` are stale; stale entries are
/// served only while a refresh fails, for at most `maxStaleNanoseconds` (RFC 8767 4).
package struct AnswerCacheLimits: Sendable, Equatable {
    package var maxEntries: Int
    package var maxBytes: Int
    package var maxStaleNanoseconds: UInt64

    package init(maxEntries: Int, maxBytes: Int, maxStaleNanoseconds: UInt64) {
        precondition(maxEntries > 0 && maxBytes > 0, "cache limits must be positive")
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxStaleNanoseconds = maxStaleNanoseconds
    }
}

/// What a reader finds for a key.
package enum AnswerCacheLookup<Value: Sendable>: Sendable {
    /// Within its TTL: answer from it.
    case fresh(Value, remainingNanoseconds: UInt64)
    /// Past its TTL but within max-stale: refresh it; serve it only if the refresh fails.
    case stale(Value)
    case miss
}

/// The answer cache: pre-rendered answers keyed by (name, type), tagged for
/// invalidation (a node's hash tags every answer about that node).
///
/// Readers take no lock: the entries live in shards, each an immutable dictionary
/// behind an atomic reference that writers replace whole (read-copy-update, as Knot
/// swaps zone contents). Writers are serialised by one lock and copy only the shard
/// they change, so a write costs O(entries / shards). Eviction is CLOCK over the
/// insertion order: a reader marks an entry referenced (one relaxed store, only when
/// not yet marked) and the writer gives marked entries a second chance.
///
/// Time is an argument (`now`, monotonic nanoseconds) so the policy is tested
/// without clocks or sleeps.
package final class AnswerCache<Key: Hashable & Sendable, Tag: Hashable & Sendable, Value: Sendable>: Sendable {
    package typealias Cost = @Sendable (Value) -> Int

    private let shards: [ManagedAtomic<Shard>]
    private let shardMask: Int
    private let writer: NIOLockedValueBox<WriterState>
    private let limits: AnswerCacheLimits
    private let cost: Cost

    /// `shardCount` is rounded up to a power of two.
    package init(limits: AnswerCacheLimits, shardCount: Int = 1024, cost: @escaping Cost) {
        var count = 1
        while count < max(1, shardCount) { count <<= 1 }
        self.shards = (0..<count).map { _ in ManagedAtomic(Shard(entries: [:])) }
        self.shardMask = count - 1
        self.limits = limits
        self.cost = cost
        self.writer = NIOLockedValueBox(WriterState())
    }

    // MARK: Readers (lock-free)

    package func lookup(_ key: Key, now: UInt64) -> AnswerCacheLookup<Value> {
        guard let entry = shard(for: key).load(ordering: .acquiring).entries[key] else { return .miss }
        if !entry.referenced.load(ordering: .relaxed) {
            entry.referenced.store(true, ordering: .relaxed)
        }
        if now < entry.expires { return .fresh(entry.value, remainingNanoseconds: entry.expires - now) }
        if now - entry.expires <= limits.maxStaleNanoseconds { return .stale(entry.value) }
        return .miss
    }

    package var count: Int { writer.withLockedValue { $0.count } }
    package var bytes: Int { writer.withLockedValue { $0.bytes } }

    // MARK: Writers

    /// Stores `value` for `ttlNanoseconds`, replacing any entry for `key`, then evicts
    /// until the limits hold. `tags` index the entry for ``removeAll(tagged:)``.
    package func insert(_ key: Key, _ value: Value, ttlNanoseconds: UInt64, tags: [Tag] = [], now: UInt64) {
        let entry = Entry(
            value: value, expires: now &+ ttlNanoseconds, tags: tags, cost: max(1, cost(value)))
        writer.withLockedValue { state in
            if let old = update(key, to: entry) { state.forget(key, old) }
            state.remember(key, entry)
            evictWhileOverLimits(&state, now: now)
        }
    }

    /// Drops the entry for `key`; returns whether there was one.
    @discardableResult
    package func remove(_ key: Key) -> Bool {
        writer.withLockedValue { state in
            guard let old = update(key, to: nil) else { return false }
            state.forget(key, old)
            return true
        }
    }

    /// Drops every entry tagged `tag` (all answers about one node); returns how many.
    @discardableResult
    package func removeAll(tagged tag: Tag) -> Int {
        writer.withLockedValue { state in
            guard let keys = state.keysByTag[tag] else { return 0 }
            var removed = 0
            for key in keys {
                if let old = update(key, to: nil) {
                    state.forget(key, old)
                    removed += 1
                }
            }
            return removed
        }
    }

    /// Drops everything (a reorg deeper than we track, or an operator flush).
    package func removeAll() {
        writer.withLockedValue { state in
            for shard in shards { shard.store(Shard(entries: [:]), ordering: .releasing) }
            state = WriterState()
        }
    }

    // MARK: Internals (called with the writer lock held)

    private func shard(for key: Key) -> ManagedAtomic<Shard> {
        shards[key.hashValue & shardMask]
    }

    /// Publishes a copy of the key's shard with the key set to `entry` (or removed);
    /// returns the entry it replaced.
    private func update(_ key: Key, to entry: Entry?) -> Entry? {
        let slot = shard(for: key)
        var entries = slot.load(ordering: .acquiring).entries
        let old: Entry?
        if let entry {
            old = entries.updateValue(entry, forKey: key)
        } else {
            old = entries.removeValue(forKey: key)
            guard old != nil else { return nil }
        }
        slot.store(Shard(entries: entries), ordering: .releasing)
        return old
    }

    private func evictWhileOverLimits(_ state: inout WriterState, now: UInt64) {
        // Each live entry can be passed over once (second chance), so 2 × count
        // steps always reach a victim.
        var budget = 2 * state.clock.count
        while state.count > limits.maxEntries || state.bytes > limits.maxBytes, budget > 0,
            let (key, entry) = state.clock.popFirst()
        {
            budget -= 1
            guard state.isCurrent(key, entry) else { continue }  // replaced or removed
            let expiredForGood = now >= entry.expires && now - entry.expires > limits.maxStaleNanoseconds
            if entry.referenced.load(ordering: .relaxed) && !expiredForGood {
                entry.referenced.store(false, ordering: .relaxed)
                state.clock.append((key, entry))
                continue
            }
            _ = update(key, to: nil)
            state.forget(key, entry, inClock: false)
        }
    }

    // MARK: Storage

    private final class Entry: Sendable {
        let value: Value
        let expires: UInt64
        let tags: [Tag]
        let cost: Int
        let referenced = ManagedAtomic(false)

        init(value: Value, expires: UInt64, tags: [Tag], cost: Int) {
            self.value = value
            self.expires = expires
            self.tags = tags
            self.cost = cost
        }
    }

    private final class Shard: AtomicReference, Sendable {
        let entries: [Key: Entry]
        init(entries: [Key: Entry]) { self.entries = entries }
    }

    /// Bookkeeping only the writer touches: sizes, the CLOCK queue, the tag index.
    private struct WriterState {
        var count = 0
        var bytes = 0
        var clock: Deque<(Key, Entry)> = []
        var keysByTag: [Tag: Set<Key>] = [:]
        /// The live entry per key, to skip CLOCK slots of replaced entries.
        var live: [Key: ObjectIdentifier] = [:]

        func isCurrent(_ key: Key, _ entry: Entry) -> Bool {
            live[key] == ObjectIdentifier(entry)
        }

        mutating func remember(_ key: Key, _ entry: Entry) {
            count += 1
            bytes += entry.cost
            clock.append((key, entry))
            live[key] = ObjectIdentifier(entry)
            for tag in entry.tags { keysByTag[tag, default: []].insert(key) }
        }

        /// Removes the accounting for an entry that has left the shards. Its CLOCK
        /// slot stays until popped (it is skipped then) unless `inClock` is false.
        mutating func forget(_ key: Key, _ entry: Entry, inClock: Bool = true) {
            count -= 1
            bytes -= entry.cost
            if isCurrent(key, entry) { live[key] = nil }
            for tag in entry.tags {
                keysByTag[tag]?.remove(key)
                if keysByTag[tag]?.isEmpty == true { keysByTag[tag] = nil }
            }
            // A dead slot keeps its entry (and answer) alive: rebuild once they reach a
            // quarter of the live count, so replaced answers cost at most 25 % extra
            // memory (amortised O(1) per removal).
            if inClock, clock.count > count + max(count / 4, 64) {
                clock = Deque(clock.filter { isCurrent($0.0, $0.1) })
            }
        }
    }
}
