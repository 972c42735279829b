import Atomics
import DequeModule
import Synchronization

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

/// The answer cache: values (pre-rendered answers, or what they are rendered from)
/// by key, tagged for invalidation (a node's hash tags every entry about that node).
///
/// Readers take no lock: the entries live in shards, each an immutable open-addressing
/// table behind an atomic reference that writers replace whole (read-copy-update, as
/// Knot swaps zone contents). Writers are serialised by one lock and rebuild only the
/// shard they change; there are about `maxEntries / 16` shards, so a write costs O(1).
/// Eviction is CLOCK over the insertion order: a reader marks an entry referenced (one
/// relaxed store, only when not yet marked) and the writer gives marked entries a
/// second chance.
///
/// Memory per entry is the entry object (key, value, expiry, tags, its flag), about two
/// table slots, one CLOCK slot and one tag-index slot per tag: each structure holds a
/// reference to the entry, never another copy of the key.
///
/// Time is an argument (`now`, monotonic nanoseconds) so the policy is tested
/// without clocks or sleeps.
package final class AnswerCache<Key: Hashable & Sendable, Tag: Hashable & Sendable, Value: Sendable>: Sendable {
    /// A value's share of `maxBytes`. Asked when a value enters and again when it leaves
    /// (entries do not store it), so it must depend on the value alone.
    package typealias Cost = @Sendable (Value) -> Int

    private let shards: [ManagedAtomic<Shard>]
    private let shardBits: Int
    /// A `Mutex` for `withLockIfAvailable`: a writer on a query's thread (`waiting:
    /// false`) skips its write rather than wait long behind another (e.g. a flush).
    private let writer: Mutex<WriterState>
    private let limits: AnswerCacheLimits
    private let cost: Cost

    /// `shardCount` is rounded up to a power of two; by default about one shard per
    /// 16 entries the limits allow (a write rebuilds one shard: small shards keep
    /// writes cheap, and each shard costs ~100 bytes of its own).
    package init(limits: AnswerCacheLimits, shardCount: Int? = nil, cost: @escaping Cost) {
        let wanted = min(max(1, shardCount ?? limits.maxEntries / 16), 1 << 20)
        var bits = 0
        while 1 << bits < wanted { bits += 1 }
        let empty = Shard.empty
        self.shards = (0..<(1 << bits)).map { _ in ManagedAtomic(empty) }
        self.shardBits = bits
        self.limits = limits
        self.cost = cost
        self.writer = Mutex(WriterState(cost: cost))
    }

    // MARK: Readers (lock-free)

    package func lookup(_ key: Key, now: UInt64) -> AnswerCacheLookup<Value> {
        let hash = key.hashValue
        guard let entry = shard(hash).load(ordering: .acquiring).find(key, hash: hash, shardBits: shardBits) else {
            return .miss
        }
        if !entry.referenced.load(ordering: .relaxed) {
            entry.referenced.store(true, ordering: .relaxed)
        }
        if now < entry.expires { return .fresh(entry.value, remainingNanoseconds: entry.expires - now) }
        if now - entry.expires <= limits.maxStaleNanoseconds { return .stale(entry.value) }
        return .miss
    }

    package var count: Int { writer.withLock { $0.count } }
    package var bytes: Int { writer.withLock { $0.bytes } }

    // MARK: Writers

    /// Stores `value` for `ttlNanoseconds`, replacing any entry for `key`, then evicts
    /// until the limits hold. `tags` index the entry for ``removeAll(tagged:)``.
    package func insert(_ key: Key, _ value: Value, ttlNanoseconds: UInt64, tags: [Tag] = [], now: UInt64) {
        insert(key, value, ttlNanoseconds: ttlNanoseconds, tags: tags, now: now, if: { true })
    }

    /// `insert`, only if `isCurrent()` holds, asked with the writer lock held: an
    /// invalidation that removes under the lock after making `isCurrent` false either
    /// is seen here or removes the entry after it is stored, never misses it. Returns
    /// whether it was stored. `waiting: false`: not stored when another writer still
    /// holds the lock after a short spin (`withWriter`).
    @discardableResult
    package func insert(
        _ key: Key, _ value: Value, ttlNanoseconds: UInt64, tags: [Tag] = [], now: UInt64, waiting: Bool = true,
        if isCurrent: () -> Bool
    ) -> Bool {
        let entry = Entry(
            key: key, value: value, expires: now &+ ttlNanoseconds, tags: Tags(tags))
        return withWriter(waiting: waiting) { state in
            guard isCurrent() else { return false }
            store(entry, in: &state)
            evictWhileOverLimits(&state, now: now)
            return true
        }
    }

    /// Replaces the value for `key` with `transform(value)`, keeping its expiry, tags
    /// and referenced mark, then evicts until the limits hold. A stale entry is updated
    /// too; nothing changes when there is no entry or `transform` returns nil. Returns
    /// whether the value was replaced. `transform` runs with the writer lock held.
    /// `waiting: false`: nothing changes when another writer still holds the lock
    /// after a short spin.
    @discardableResult
    package func update(_ key: Key, now: UInt64, waiting: Bool = true, _ transform: (Value) -> Value?) -> Bool {
        let hash = key.hashValue
        return withWriter(waiting: waiting) { state in
            guard let old = shard(hash).load(ordering: .relaxed).find(key, hash: hash, shardBits: shardBits),
                let value = transform(old.value)
            else { return false }
            let entry = Entry(
                key: key, value: value, expires: old.expires, tags: old.tags,
                referenced: old.referenced.load(ordering: .relaxed))
            store(entry, in: &state)
            evictWhileOverLimits(&state, now: now)
            return true
        }
    }

    /// Drops the entry for `key`; returns whether there was one.
    @discardableResult
    package func remove(_ key: Key) -> Bool {
        let hash = key.hashValue
        return writer.withLock { state in
            guard let old = publish(removing: key, hash: hash) else { return false }
            state.forget(old, isCurrent: isCurrent)
            return true
        }
    }

    /// Drops every entry tagged `tag` (all answers about one node); returns how many.
    @discardableResult
    package func removeAll(tagged tag: Tag) -> Int {
        writer.withLock { state in
            guard let tagged = state.entriesByTag[tag] else { return 0 }
            var removed = 0
            for entry in tagged.entries {
                if let old = publish(removing: entry.key, hash: entry.hash) {
                    state.forget(old, isCurrent: isCurrent)
                    removed += 1
                }
            }
            return removed
        }
    }

    /// Drops everything (a reorg deeper than we track, or an operator flush).
    package func removeAll() {
        writer.withLock { state in
            let empty = Shard.empty
            for shard in shards { shard.store(empty, ordering: .releasing) }
            state = WriterState(cost: cost)
        }
    }

    // MARK: Internals (writers call these with the writer lock held)

    /// `body` under the writer lock. `waiting: false`: a bounded spin of tries, then
    /// false. Writers hold the lock for about a microsecond (one shard rebuilt), so two
    /// query threads inserting at once each get it within a few tries (with one try,
    /// 20 % of a 1M-name first pass went uncached); a flush or a compaction
    /// (milliseconds) is not waited out. No yield between tries: on a busy machine a
    /// yield can give the core away for a whole time slice.
    private func withWriter(waiting: Bool, _ body: (inout WriterState) -> Bool) -> Bool {
        if waiting { return writer.withLock { body(&$0) } }
        for _ in 0..<Self.writerTries {
            if let result = writer.withLockIfAvailable({ body(&$0) }) { return result }
        }
        return false
    }

    /// Tens of nanoseconds each: ~10 µs at most.
    private static var writerTries: Int { 256 }

    private func shard(_ hash: Int) -> ManagedAtomic<Shard> {
        shards[hash & (shards.count - 1)]
    }

    /// Publishes `entry`, forgetting the entry it replaces.
    private func store(_ entry: Entry, in state: inout WriterState) {
        let slot = shard(entry.hash)
        let current = slot.load(ordering: .relaxed)
        let old = current.find(entry.key, hash: entry.hash, shardBits: shardBits)
        var entries = current.entries.filter { $0 !== old }
        entries.append(entry)
        slot.store(Shard(entries, shardBits: shardBits), ordering: .releasing)
        if let old { state.forget(old, isCurrent: isCurrent) }
        state.remember(entry)
    }

    /// Publishes the key's shard without the key; returns the entry it held.
    private func publish(removing key: Key, hash: Int) -> Entry? {
        let slot = shard(hash)
        let current = slot.load(ordering: .relaxed)
        guard let old = current.find(key, hash: hash, shardBits: shardBits) else { return nil }
        slot.store(Shard(current.entries.filter { $0 !== old }, shardBits: shardBits), ordering: .releasing)
        return old
    }

    /// Whether `entry` is the published entry for its key (not replaced or removed).
    private func isCurrent(_ entry: Entry) -> Bool {
        shard(entry.hash).load(ordering: .relaxed).find(entry.key, hash: entry.hash, shardBits: shardBits) === entry
    }

    private func evictWhileOverLimits(_ state: inout WriterState, now: UInt64) {
        // Each live entry can be passed over once (second chance), so 2 × count
        // steps always reach a victim.
        var budget = 2 * state.clock.count
        while state.count > limits.maxEntries || state.bytes > limits.maxBytes, budget > 0,
            let entry = state.clock.popFirst()
        {
            budget -= 1
            guard isCurrent(entry) else { continue }  // replaced or removed
            let expiredForGood = now >= entry.expires && now - entry.expires > limits.maxStaleNanoseconds
            if entry.referenced.load(ordering: .relaxed) && !expiredForGood {
                entry.referenced.store(false, ordering: .relaxed)
                state.clock.append(entry)
                continue
            }
            _ = publish(removing: entry.key, hash: entry.hash)
            state.forget(entry, isCurrent: isCurrent, inClock: false)
        }
    }

    // MARK: Storage

    private final class Entry: Sendable {
        // What a hit reads comes first, so it shares the object's first cache line
        // with the reference count (a large key would push it onto a third line).
        // The one-byte mark after the key, not before it: in front of a `NameKey` it
        // would cost 7 bytes of padding, one more 16-byte malloc block per entry.
        /// `key.hashValue`: picks the shard (low bits) and the table slot (the bits above).
        let hash: Int
        let value: Value
        let expires: UInt64
        let key: Key
        /// The CLOCK mark, inline (a `ManagedAtomic` is an object of its own: 32 heap
        /// bytes and a pointer per entry).
        let referenced: Synchronization.Atomic<Bool>
        let tags: Tags

        init(key: Key, value: Value, expires: UInt64, tags: Tags, referenced: Bool = false) {
            self.key = key
            self.hash = key.hashValue
            self.value = value
            self.expires = expires
            self.referenced = Synchronization.Atomic(referenced)
            self.tags = tags
        }
    }

    /// One shard: an immutable open-addressing table (linear probing, at most half
    /// full, so every probe sequence ends at an empty slot). Writers build a new one.
    private final class Shard: AtomicReference, Sendable {
        private let slots: [Entry?]
        private let count: Int

        static var empty: Shard { Shard([], shardBits: 0) }

        init(_ entries: [Entry], shardBits: Int) {
            var capacity = 2
            while capacity < 2 * entries.count { capacity <<= 1 }
            var slots = [Entry?](repeating: nil, count: capacity)
            for entry in entries {
                var index = Self.home(entry.hash, shardBits: shardBits, capacity: capacity)
                while slots[index] != nil { index = (index + 1) & (capacity - 1) }
                slots[index] = entry
            }
            self.slots = slots
            self.count = entries.count
        }

        var entries: [Entry] {
            var out: [Entry] = []
            out.reserveCapacity(count + 1)
            for case let entry? in slots { out.append(entry) }
            return out
        }

        @inline(__always)
        func find(_ key: Key, hash: Int, shardBits: Int) -> Entry? {
            let mask = slots.count - 1
            var index = Self.home(hash, shardBits: shardBits, capacity: slots.count)
            while let entry = slots[index] {
                if entry.hash == hash && entry.key == key { return entry }
                index = (index + 1) & mask
            }
            return nil
        }

        /// The first slot to probe: the hash bits the shard choice did not use.
        @inline(__always)
        private static func home(_ hash: Int, shardBits: Int, capacity: Int) -> Int {
            Int(truncatingIfNeeded: UInt(bitPattern: hash) >> UInt(shardBits)) & (capacity - 1)
        }
    }

    /// An entry's tags, inline: nearly always none or one, so no array then.
    private enum Tags: Sendable {
        case none
        case one(Tag)
        case many([Tag])

        init(_ tags: [Tag]) {
            switch tags.count {
            case 0: self = .none
            case 1: self = .one(tags[0])
            default: self = .many(tags)
            }
        }

        func forEach(_ body: (Tag) -> Void) {
            switch self {
            case .none: break
            case .one(let tag): body(tag)
            case .many(let tags): tags.forEach(body)
            }
        }
    }

    /// The entries one tag marks: nearly always one (a node's name), so no array then.
    private enum Tagged {
        case one(Entry)
        case many([Entry])

        var entries: [Entry] {
            switch self {
            case .one(let entry): [entry]
            case .many(let entries): entries
            }
        }

        func adding(_ entry: Entry) -> Tagged {
            switch self {
            case .one(let first): .many([first, entry])
            case .many(let entries): .many(entries + [entry])
            }
        }

        /// Nil when `entry` was the last one.
        func removing(_ entry: Entry) -> Tagged? {
            switch self {
            case .one(let only): return only === entry ? nil : self
            case .many(let entries):
                let rest = entries.filter { $0 !== entry }
                if rest.count > 1 { return .many(rest) }
                return rest.first.map { .one($0) }
            }
        }
    }

    /// Bookkeeping only the writer touches: sizes, the CLOCK queue, the tag index.
    private struct WriterState {
        let cost: Cost
        var count = 0
        var bytes = 0
        var clock: Deque<Entry> = []
        var entriesByTag: [Tag: Tagged] = [:]

        init(cost: @escaping Cost) { self.cost = cost }

        mutating func remember(_ entry: Entry) {
            count += 1
            bytes += max(1, cost(entry.value))
            clock.append(entry)
            entry.tags.forEach { entriesByTag[$0] = entriesByTag[$0]?.adding(entry) ?? .one(entry) }
        }

        /// Removes the accounting for an entry that has left the shards. Its CLOCK
        /// slot stays until popped (it is skipped then) unless `inClock` is false.
        mutating func forget(_ entry: Entry, isCurrent: (Entry) -> Bool, inClock: Bool = true) {
            count -= 1
            bytes -= max(1, cost(entry.value))
            entry.tags.forEach { entriesByTag[$0] = entriesByTag[$0]?.removing(entry) }
            // A dead slot keeps its entry (and value) alive: rebuild once they reach a
            // quarter of the live count, so replaced values cost at most 25 % extra
            // memory (amortised O(1) per removal).
            if inClock, clock.count > count + max(count / 4, 64) {
                clock = Deque(clock.filter(isCurrent))
            }
        }
    }
}
