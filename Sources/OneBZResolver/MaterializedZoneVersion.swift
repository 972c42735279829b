import DNSEngine
import DNSWire
import ZoneTransfer

/// One version of the materialised zone: the static zone's records and every node's,
/// read from a copy-on-write snapshot of the store's entries (taking it copies nothing;
/// the store copies its entry array once if it changes while a transfer still reads).
package struct MaterializedZoneVersion: ZoneVersion {
    package let serial: UInt32
    package let soa: ResourceRecord
    let staticRecords: [ResourceRecord]
    let entries: [MaterializedNames.Entry]
    let ttl: UInt32

    package func makeRecordIterator() -> any IteratorProtocol<ResourceRecord> {
        Iterator(version: self)
    }

    /// Static records first, then each node's records (decoded one node at a time).
    struct Iterator: IteratorProtocol {
        let version: MaterializedZoneVersion
        var staticIndex = 0
        var entryIndex = 0
        var pending: [ResourceRecord] = []
        var pendingIndex = 0

        init(version: MaterializedZoneVersion) { self.version = version }

        mutating func next() -> ResourceRecord? {
            if staticIndex < version.staticRecords.count {
                defer { staticIndex += 1 }
                return version.staticRecords[staticIndex]
            }
            while pendingIndex == pending.count {
                guard entryIndex < version.entries.count else { return nil }
                let entry = version.entries[entryIndex]
                entryIndex += 1
                pending = entry.decoded?.zoneRecords(ttl: version.ttl) ?? []
                pendingIndex = 0
            }
            defer { pendingIndex += 1 }
            return pending[pendingIndex]
        }
    }
}
