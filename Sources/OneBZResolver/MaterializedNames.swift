import ChainReader
import DNSWire
import NodeRegistry

/// Every node registered on chain, with its records once resolved: the materialised
/// zone's contents (docs/design.md#the-materialised-zone). Pure (no locks, no I/O):
/// `MaterializedZone` holds one behind a lock.
///
/// Memory: one entry per node (hash inline, one packed `NodePayload` array) in a
/// contiguous array, and two indexes keyed by 64-bit fingerprints (alias label, first
/// word of the node hash) whose hits are confirmed against the entry; the rare
/// fingerprint collision goes to a small overflow table. `approximateBytes` counts it.
package struct MaterializedNames: Sendable {
    /// A node hash held inline (no heap block per node).
    package struct HashKey: Hashable, Sendable {
        let w0: UInt64
        let w1: UInt64
        let w2: UInt64
        let w3: UInt64

        package init(_ hash: NodeHash) {
            func word(_ at: Int) -> UInt64 { hash.bytes[at..<at + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
            (w0, w1, w2, w3) = (word(0), word(8), word(16), word(24))
        }

        package init(words: (UInt64, UInt64, UInt64, UInt64)) { (w0, w1, w2, w3) = words }

        package var nodeHash: NodeHash {
            NodeHash(unchecked: [w0, w1, w2, w3].flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (56 - 8 * $0)) } })
        }
    }

    package struct Entry: Sendable {
        package var hash: HashKey
        package var payload: [UInt8]
        /// The synced block that closed the batch of the last event about this node: a
        /// reorg from block b re-resolves every node touched at or after b.
        package var touched: UInt64
        package var inUse: Bool
        package var dirty: Bool
        package var materialised: Bool
        /// Taken by the materialiser and not committed yet: a snapshot counts it dirty
        /// (its payload may be older than the events that marked it).
        package var pending = false

        /// Whether the payload may be behind the chain (marked, or being resolved).
        package var isStale: Bool { dirty || pending }

        package var decoded: NodePayload? { inUse ? NodePayload(encoded: payload) : nil }
    }

    /// A node to resolve: its slot, hash and the name to ask for.
    package struct Work: Sendable, Equatable {
        package let slot: Int32
        package let hash: NodeHash
        package let name: NodeName?
    }

    package private(set) var entries: [Entry] = []
    private var free: [Int32] = []
    private var byHash: [UInt64: Int32] = [:]
    private var hashOverflow: [HashKey: Int32] = [:]
    private var byAlias: [Int: Int32] = [:]
    private var aliasOverflow: [[UInt8]: Int32] = [:]
    package private(set) var count = 0
    /// Index keys that lost a holder since `takeReleasedKeys` (alias fingerprints, node-hash
    /// first words): candidates to leave `MaterializedZone`'s lock-free index.
    private var releasedAliasKeys: [Int] = []
    private var releasedHashWords: [UInt64] = []
    package private(set) var unmaterialised = 0
    package private(set) var dirtyCount = 0

    package init() {}

    // MARK: Membership (the hot path: no allocation)

    /// Whether an alias label (`shashi` of `shashi.1bz`, any case) is registered.
    package func containsAlias(label: UnsafeRawBufferPointer) -> Bool {
        if let slot = byAlias[Self.fingerprint(label)], NodePayload.alias(of: entries[Int(slot)].payload, equals: label) {
            return true
        }
        guard !aliasOverflow.isEmpty else { return false }
        return aliasOverflow[label.map(asciiLower)] != nil
    }

    package func contains(hash: NodeHash) -> Bool { slot(of: HashKey(hash)) != nil }

    /// The node's payload for a name in the zone (an alias, or a node-id name whose id
    /// the payload holds), with whether it may be behind the chain; nil: not held.
    package func payload(for name: NodeName) -> (payload: NodePayload, stale: Bool)? {
        guard let held = encodedPayload(for: name), let payload = NodePayload(encoded: held.bytes) else { return nil }
        if case .nodeID(let id) = name, payload.nodeID != id { return nil }
        return (payload, held.stale)
    }

    /// The encoded payload of the materialised node an alias names, or of the node a
    /// node-id name hashes to (the caller checks that the payload holds that node id),
    /// without decoding it: a copy-on-write reference, so a reader under a lock holds it
    /// briefly. Nil: not held or not materialised.
    package func encodedPayload(for name: NodeName) -> (bytes: [UInt8], hash: HashKey, stale: Bool)? {
        let slot: Int32?
        switch name {
        case .alias(let text):
            slot = Array(text.utf8.dropLast(4)).withUnsafeBytes { (label: UnsafeRawBufferPointer) -> Int32? in
                if let slot = byAlias[Self.fingerprint(label)], NodePayload.alias(of: entries[Int(slot)].payload, equals: label) {
                    return slot
                }
                return aliasOverflow[label.map(asciiLower)]
            }
        case .nodeID(let id):
            slot = self.slot(of: HashKey(NodeHash(nodeID: id)))
        }
        guard let slot else { return nil }
        let entry = entries[Int(slot)]
        guard entry.inUse, entry.materialised else { return nil }
        return (entry.payload, entry.hash, entry.isStale)
    }

    // MARK: Restoring a snapshot

    /// The alias label an encoded payload holds (nil: none).
    package static func aliasLabel(of payload: [UInt8]) -> [UInt8]? {
        guard let length = payload.first, length > 0, payload.count > Int(length) else { return nil }
        return Array(payload[1...Int(length)])
    }

    /// Adds a node as a snapshot holds it (into an empty set, before anything else): a
    /// stale one is marked to be resolved again.
    package mutating func restore(hash: NodeHash, payload: [UInt8], touched: UInt64, stale: Bool, materialised: Bool) {
        let key = HashKey(hash)
        guard slot(of: key) == nil else { return }
        // Not materialised yet: it is to be resolved, whatever the flag said.
        let stale = stale || !materialised
        let slot = Int32(entries.count)
        entries.append(
            Entry(hash: key, payload: payload, touched: touched, inUse: true, dirty: stale, materialised: materialised))
        count += 1
        if stale { dirtyCount += 1 }
        if !materialised { unmaterialised += 1 }
        indexHash(key, slot: slot)
        if let alias = NodePayload(encoded: payload)?.alias, !alias.isEmpty { claimAlias(alias, for: slot) }
    }

    // MARK: Changes from the chain's events

    /// A NodeRegistered event: the node exists, under `alias` (nil: the event's name is
    /// not a node name). Marks it to be resolved.
    package mutating func register(hash: NodeHash, alias: String?, block: UInt64) {
        let key = HashKey(hash)
        let label = alias.map { Array($0.utf8.dropLast(4)) } ?? []
        if let slot = slot(of: key) {
            var payload = entries[Int(slot)].decoded ?? NodePayload(alias: [])
            if payload.alias != label, !label.isEmpty {
                unindexAlias(payload.alias, slot: slot)
                payload.alias = label
                entries[Int(slot)].payload = payload.encoded()
                claimAlias(label, for: slot)
            }
            touch(slot, block: block)
            return
        }
        let entry = Entry(
            hash: key, payload: NodePayload(alias: []).encoded(), touched: block, inUse: true, dirty: true,
            materialised: false)
        let slot: Int32
        if let reused = free.popLast() {
            slot = reused
            entries[Int(slot)] = entry
        } else {
            slot = Int32(entries.count)
            entries.append(entry)
        }
        count += 1
        unmaterialised += 1
        dirtyCount += 1
        indexHash(key, slot: slot)
        if !label.isEmpty {
            entries[Int(slot)].payload = NodePayload(alias: label).encoded()
            claimAlias(label, for: slot)
        }
    }

    /// An event about an existing node (verified, stake, trust, a registry change):
    /// re-resolve it. Unknown hashes are ignored (the registration comes first).
    package mutating func touch(hash: NodeHash, block: UInt64) {
        if let slot = slot(of: HashKey(hash)) { touch(slot, block: block) }
    }

    /// A reorg from `block`: every node touched at or after it is resolved again.
    package mutating func touchAll(since block: UInt64) {
        for slot in entries.indices where entries[slot].inUse && entries[slot].touched >= block {
            touch(Int32(slot), block: entries[slot].touched)
        }
    }

    private mutating func touch(_ slot: Int32, block: UInt64) {
        if !entries[Int(slot)].dirty { dirtyCount += 1 }
        entries[Int(slot)].dirty = true
        entries[Int(slot)].touched = max(entries[Int(slot)].touched, block)
    }

    /// The nodes to resolve now (their marks are cleared; a later event marks them again).
    package mutating func takeDirty(limit: Int = .max) -> [Work] {
        var work: [Work] = []
        for slot in entries.indices where entries[slot].inUse && entries[slot].dirty {
            guard work.count < limit else { break }
            work.append(take(slot))
        }
        return work
    }

    /// The nodes of `hashes` that are marked, taken as `takeDirty(limit:)` takes them.
    package mutating func takeDirty(hashes: [NodeHash]) -> [Work] {
        var work: [Work] = []
        for hash in hashes {
            guard let slot = slot(of: HashKey(hash)), entries[Int(slot)].dirty else { continue }
            work.append(take(Int(slot)))
        }
        return work
    }

    private mutating func take(_ slot: Int) -> Work {
        entries[slot].dirty = false
        entries[slot].pending = true
        dirtyCount -= 1
        let payload = entries[slot].decoded
        var name: NodeName? = nil
        if let alias = payload?.alias, !alias.isEmpty {
            name = .alias(String(decoding: alias, as: UTF8.self) + ".1bz")
        } else if let id = payload?.nodeID {
            name = .nodeID(id)
        }
        return Work(slot: Int32(slot), hash: entries[slot].hash.nodeHash, name: name)
    }

    /// Marks a node to be resolved again (its lookup failed).
    package mutating func retry(_ work: Work) {
        guard isCurrent(work) else { return }
        entries[Int(work.slot)].pending = false
        touch(work.slot, block: entries[Int(work.slot)].touched)
    }

    /// Whether `work` still describes the node in its slot.
    package func isCurrent(_ work: Work) -> Bool {
        Int(work.slot) < entries.count && entries[Int(work.slot)].inUse
            && entries[Int(work.slot)].hash == HashKey(work.hash)
    }

    /// The outcome of resolving `work` at `block`: the node's new records (or its
    /// removal when the chain has no such name, e.g. after a reorg, unless an event
    /// newer than `block` registered it again). Returns the zone's records removed and
    /// added.
    package mutating func apply(
        _ outcome: NodeLookupOutcome, for work: Work, at block: UInt64, ttl: UInt32
    ) -> (removed: [ResourceRecord], added: [ResourceRecord]) {
        guard isCurrent(work) else { return ([], []) }
        let slot = Int(work.slot)
        entries[slot].pending = false
        let old = entries[slot].decoded ?? NodePayload(alias: [])
        let before = old.zoneRecords(ttl: ttl)
        // Nonexistent at `block`, or the alias now names another node (a reorg): this
        // registration is gone, unless an event newer than `block` brought it back.
        guard case .found(let facts) = outcome, facts.nodeHash == work.hash else {
            guard entries[slot].touched <= block, !entries[slot].dirty else { return ([], []) }
            remove(Int32(slot), alias: old.alias)
            return (before, [])
        }
        // The chain says the alias is this node's (`resolveDNS(alias)` returned it): it
        // takes the alias from whichever node held it, and only now.
        if !old.alias.isEmpty, aliasOwner(old.alias) != work.slot { takeAlias(old.alias, for: work.slot) }
        var new = old
        if let id = facts.nodeID { new.nodeID = id }
        let owner = new.aliasName ?? new.nodeIDName ?? .root
        new.records = NodeAnswerRenderer.zoneRecords(facts, owner: owner, ttl: ttl).compactMap {
            NodePayload.record($0, owner: owner)
        }
        entries[slot].payload = new.encoded()
        if !entries[slot].materialised {
            entries[slot].materialised = true
            unmaterialised -= 1
        }
        let after = new.zoneRecords(ttl: ttl)
        return Self.difference(before, after)
    }

    /// A node with nothing to ask for (no alias, no node id): nothing to list.
    package mutating func markEmpty(_ work: Work) {
        guard isCurrent(work) else { return }
        entries[Int(work.slot)].pending = false
        guard !entries[Int(work.slot)].materialised else { return }
        entries[Int(work.slot)].materialised = true
        unmaterialised -= 1
    }

    /// Records in `before` but not `after`, and in `after` but not `before`.
    static func difference(
        _ before: [ResourceRecord], _ after: [ResourceRecord]
    ) -> (removed: [ResourceRecord], added: [ResourceRecord]) {
        let old = Set(before)
        let new = Set(after)
        return (before.filter { !new.contains($0) }, after.filter { !old.contains($0) })
    }

    // MARK: Memory

    /// Bytes held: entries, the payload blocks (with malloc's 16-byte rounding and the
    /// array header), and the index tables at their capacity.
    package var approximateBytes: Int {
        let entryBytes = entries.capacity * MemoryLayout<Entry>.stride
        let payloadBytes = entries.reduce(0) { total, entry in
            entry.inUse ? total + ((32 + entry.payload.capacity + 15) & ~15) : total
        }
        // Dictionary storage: keys and values per bucket, plus a bit map.
        let indexBytes =
            byHash.capacity * 4 / 3 * (8 + 4) + byAlias.capacity * 4 / 3 * (8 + 4)
            + hashOverflow.capacity * 4 / 3 * (32 + 4) + aliasOverflow.capacity * 4 / 3 * (8 + 4 + 48)
        return entryBytes + payloadBytes + indexBytes + free.capacity * 4
    }

    // MARK: Indexes

    private func slot(of key: HashKey) -> Int32? {
        if let slot = byHash[key.w0], entries[Int(slot)].inUse, entries[Int(slot)].hash == key { return slot }
        return hashOverflow.isEmpty ? nil : hashOverflow[key]
    }

    private mutating func indexHash(_ key: HashKey, slot: Int32) {
        if let other = byHash[key.w0], entries[Int(other)].inUse, other != slot {
            hashOverflow[key] = slot
        } else {
            byHash[key.w0] = slot
        }
    }

    /// The index keys no node holds any more since the last call: an alias fingerprint
    /// or a node hash's first word whose last holder was removed or renamed.
    package mutating func takeReleasedKeys() -> (aliases: [UInt64], hashes: [UInt64]) {
        defer {
            releasedAliasKeys = []
            releasedHashWords = []
        }
        let aliases = releasedAliasKeys.filter { byAlias[$0] == nil }.map { UInt64(bitPattern: Int64($0)) }
        return (aliases, releasedHashWords.filter { byHash[$0] == nil })
    }

    private mutating func unindexHash(_ key: HashKey, slot: Int32) {
        releasedHashWords.append(key.w0)
        if byHash[key.w0] == slot {
            byHash[key.w0] = nil
            // Promote an overflowed hash with the same first word, if any.
            if let other = hashOverflow.first(where: { $0.key.w0 == key.w0 }) {
                hashOverflow[other.key] = nil
                byHash[key.w0] = other.value
            }
        } else {
            hashOverflow[key] = nil
        }
    }

    /// The slot whose alias `label` is, if any.
    private func aliasOwner(_ label: [UInt8]) -> Int32? {
        label.withUnsafeBytes { raw -> Int32? in
            if let other = byAlias[Self.fingerprint(raw)], NodePayload.alias(of: entries[Int(other)].payload, equals: raw) {
                return other
            }
            return aliasOverflow[label]
        }
    }

    /// A registration naming `label`: the node gets the alias when nobody holds it. When
    /// another node holds it (a reorg, or a contract that let a name be registered
    /// twice), nothing moves yet: both are resolved again and `apply` gives the alias to
    /// the node `resolveDNS(alias)` returns. A registration alone never takes a name.
    private mutating func claimAlias(_ label: [UInt8], for slot: Int32) {
        switch aliasOwner(label) {
        case nil: takeAlias(label, for: slot)
        case let owner? where owner != slot: touch(owner, block: entries[Int(owner)].touched)
        default: break
        }
    }

    /// Gives `label` to `slot`, taking it from another node that held it (the chain
    /// said whose it is; the former holder is resolved again).
    private mutating func takeAlias(_ label: [UInt8], for slot: Int32) {
        let owner = aliasOwner(label)
        if let owner, owner != slot, var payload = entries[Int(owner)].decoded {
            unindexAlias(label, slot: owner)
            payload.alias = []
            entries[Int(owner)].payload = payload.encoded()
            touch(owner, block: entries[Int(owner)].touched)
        }
        let fingerprint = label.withUnsafeBytes { Self.fingerprint($0) }
        if let other = byAlias[fingerprint], other != slot, entries[Int(other)].inUse {
            aliasOverflow[label] = slot
        } else {
            byAlias[fingerprint] = slot
        }
    }

    private mutating func unindexAlias(_ label: [UInt8], slot: Int32) {
        guard !label.isEmpty else { return }
        let fingerprint = label.withUnsafeBytes { Self.fingerprint($0) }
        releasedAliasKeys.append(fingerprint)
        if byAlias[fingerprint] == slot {
            byAlias[fingerprint] = nil
            if let other = aliasOverflow.first(where: { entry in
                entry.key.withUnsafeBytes { Self.fingerprint($0) } == fingerprint
            }) {
                aliasOverflow[other.key] = nil
                byAlias[fingerprint] = other.value
            }
        } else if aliasOverflow[label] == slot {
            aliasOverflow[label] = nil
        }
    }

    private mutating func remove(_ slot: Int32, alias: [UInt8]) {
        unindexAlias(alias, slot: slot)
        unindexHash(entries[Int(slot)].hash, slot: slot)
        if entries[Int(slot)].dirty { dirtyCount -= 1 }
        if !entries[Int(slot)].materialised { unmaterialised -= 1 }
        entries[Int(slot)].inUse = false
        entries[Int(slot)].payload = []
        count -= 1
        free.append(slot)
    }

    /// A label's fingerprint, case-folded (the process's random hash seed: collisions
    /// cannot be chosen from outside).
    package static func fingerprint(_ label: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        for byte in label { hasher.combine(asciiLower(byte)) }
        hasher.combine(label.count)
        return hasher.finalize()
    }
}
