import Atomics

/// Registered names as 64-bit fingerprints, read without a lock: what the uncached query
/// path asks first (`MaterializedZone.isAbsent`), so a flood of names that do not exist
/// never waits on the lock the follower and the materialiser write under.
///
/// Sharded snapshots swapped whole, as `AnswerCache` does: a reader loads one shard (a
/// sorted array) and binary-searches it; a writer rebuilds only the shards it adds to
/// (writers are serialised by the caller). A fingerprint is added with the registration
/// that brings it (before the name set holds it) and removed once no node holds it, so
/// the index is always a superset of the names: "not in the index" is certain absence,
/// "in the index" means "look it up" (the rare fingerprint collision takes the lookup
/// path, which answers correctly, only slower).
package final class NameFingerprints: Sendable {
    private final class Shard: AtomicReference, Sendable {
        let keys: [UInt64]
        init(_ keys: [UInt64]) { self.keys = keys }
    }

    private let shards: [ManagedAtomic<Shard>]
    private let mask: UInt64

    /// `shardBits`: 2^bits shards (1,024 by default: ~2,000 keys a shard at a million
    /// names, so adding a name copies ~16 KB).
    package init(shardBits: Int = 10) {
        let empty = Shard([])
        shards = (0..<(1 << shardBits)).map { _ in ManagedAtomic(empty) }
        mask = UInt64(1 << shardBits) - 1
    }

    package func contains(_ key: UInt64) -> Bool {
        let keys = shards[Int(key & mask)].load(ordering: .acquiring).keys
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < keys.count && keys[low] == key
    }

    /// Adds `keys`. Callers serialise writers (the materialised zone's lock).
    package func insert(_ keys: [UInt64]) {
        guard !keys.isEmpty else { return }
        var byShard: [Int: [UInt64]] = [:]
        for key in keys { byShard[Int(key & mask), default: []].append(key) }
        for (index, added) in byShard {
            let current = shards[index].load(ordering: .relaxed).keys
            let merged = Array(Set(current).union(added)).sorted()
            guard merged.count != current.count else { continue }
            shards[index].store(Shard(merged), ordering: .releasing)
        }
    }

    /// Removes `keys` (ones nothing holds any more). Callers serialise writers.
    package func remove(_ keys: [UInt64]) {
        guard !keys.isEmpty else { return }
        var byShard: [Int: Set<UInt64>] = [:]
        for key in keys { byShard[Int(key & mask), default: []].insert(key) }
        for (index, removed) in byShard {
            let current = shards[index].load(ordering: .relaxed).keys
            let kept = current.filter { !removed.contains($0) }
            guard kept.count != current.count else { continue }
            shards[index].store(Shard(kept), ordering: .releasing)
        }
    }

    /// Keys held (a walk over every shard: for measurements, not the query path).
    package var count: Int { shards.reduce(0) { $0 + $1.load(ordering: .acquiring).keys.count } }

    /// Bytes held: 8 per key, plus each shard's object and array header.
    package var approximateBytes: Int { count * 8 + shards.count * 64 }
}
