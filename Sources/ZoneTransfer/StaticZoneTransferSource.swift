import DNSEngine
import DNSWire
import NIOConcurrencyHelpers
import ZoneCache

/// The static zone as a transfer source (no chain configured): one version, the zone
/// file as loaded; no journal, so an IXFR from an older serial is answered AXFR-style.
/// `update` swaps in a new zone (e.g. a reloaded file or a new serial).
public final class StaticZoneTransferSource: ZoneTransferSource {
    private let box: NIOLockedValueBox<Version>

    public init(zone: Zone) { box = NIOLockedValueBox(Version(zone: zone)) }

    public func currentVersion() -> (any ZoneVersion)? { box.withLockedValue { $0 } }

    public func differences(since serial: UInt32) -> [ZoneDifference]? {
        serial == box.withLockedValue { $0 }.serial ? [] : nil
    }

    /// Serves `zone` from now on.
    public func update(_ zone: Zone) { box.withLockedValue { $0 = Version(zone: zone) } }

    /// One zone as a transfer version.
    public struct Version: ZoneVersion {
        public let zone: Zone
        public var serial: UInt32 { zone.serial }
        public var soa: ResourceRecord { zone.soa }

        public func makeRecordIterator() -> any IteratorProtocol<ResourceRecord> { ZoneRecordIterator(zone: zone) }
    }
}

/// Every record of a zone but the apex SOA, node by node, RRset by RRset.
struct ZoneRecordIterator: IteratorProtocol {
    let zone: Zone
    private var node = 0
    private var type = 0
    private var record = 0

    init(zone: Zone) { self.zone = zone }

    mutating func next() -> ResourceRecord? {
        while node < zone.nodes.count {
            let current = zone.nodes[node]
            while type < current.types.count {
                let rrtype = current.types[type]
                let records = current.rrsets[rrtype] ?? []
                if record < records.count, !(current.isApex && rrtype == .soa) {
                    record += 1
                    return records[record - 1]
                }
                type += 1
                record = 0
            }
            node += 1
            type = 0
        }
        return nil
    }
}
