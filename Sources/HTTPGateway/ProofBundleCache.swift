/// Proof bundles by (name, block) (`/resolve?...&proof=1`): the proofs at a block never
/// change, so a bundle is read once per name and block, not per request. Pure (time
/// passed in); bounded by `capacity` (oldest first out) and by `maxAge`, since the
/// bundle also carries the registry's record, which may change within a block.
struct ProofBundleCache: Sendable {
    struct Key: Hashable, Sendable {
        var name: String
        var block: UInt64
    }

    private struct Entry {
        var bundle: [UInt8]
        var stored: UInt64
    }

    let capacity: Int
    let maxAgeNanoseconds: UInt64
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []

    init(capacity: Int = 4096, maxAgeNanoseconds: UInt64 = 30_000_000_000) {
        self.capacity = max(1, capacity)
        self.maxAgeNanoseconds = maxAgeNanoseconds
    }

    var count: Int { entries.count }

    func bundle(_ key: Key, now: UInt64) -> [UInt8]? {
        guard let entry = entries[key], now &- entry.stored < maxAgeNanoseconds else { return nil }
        return entry.bundle
    }

    mutating func store(_ bundle: [UInt8], for key: Key, now: UInt64) {
        if entries.updateValue(Entry(bundle: bundle, stored: now), forKey: key) == nil { order.append(key) }
        while entries.count > capacity, !order.isEmpty {
            entries[order.removeFirst()] = nil
        }
        // Keep `order` from growing past the live entries (keys re-stored after eviction).
        if order.count > 2 * capacity { order = order.filter { entries[$0] != nil } }
    }
}
