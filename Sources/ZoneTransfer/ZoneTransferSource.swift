import DNSEngine
import DNSWire

/// What zone transfers (AXFR RFC 5936, IXFR RFC 1995) serve: the zone as a secondary
/// receives it, and the journal of differences between its versions. The static zone
/// implements it alone; with a chain the materialised zone (every registered name) does.
/// With DNSSEC on, versions and differences are the signed zone (DNSKEY, RRSIGs and the
/// NSEC3 chain included).
///
/// The seam between the transfer protocol (TSIG, message streams, ACLs, NOTIFY) and the
/// zone's contents: either side is built and tested without the other.
public protocol ZoneTransferSource: Sendable {
    /// The zone as it is now; nil while it cannot be served whole (e.g. before the chain
    /// names are materialised): the transfer is answered SERVFAIL.
    func currentVersion() -> (any ZoneVersion)?
    /// The differences leading from `serial` to the current version, oldest first
    /// (the first one's `oldSOA` has `serial`); nil when the journal does not reach back
    /// to `serial` (the transfer is answered AXFR-style, RFC 1995 4). Empty when
    /// `serial` is the current serial.
    func differences(since serial: UInt32) -> [ZoneDifference]?
}

/// One version of the zone. Records are produced on demand, so a large zone is never
/// held as one array of records (1M names stay within the cache's per-name budget).
public protocol ZoneVersion: Sendable {
    var serial: UInt32 { get }
    /// The apex SOA (its serial is `serial`).
    var soa: ResourceRecord { get }
    /// Every record but the apex SOA, each once, in any order (RRsets need not be
    /// contiguous; the transfer writer packs records into messages as they come).
    func makeRecordIterator() -> any IteratorProtocol<ResourceRecord>
}

/// One IXFR step (RFC 1995 2): from the zone at `oldSOA`'s serial to `newSOA`'s.
public struct ZoneDifference: Sendable, Equatable {
    public var oldSOA: ResourceRecord
    public var newSOA: ResourceRecord
    /// Records removed (not including the old SOA).
    public var removed: [ResourceRecord]
    /// Records added (not including the new SOA).
    public var added: [ResourceRecord]

    public init(oldSOA: ResourceRecord, newSOA: ResourceRecord, removed: [ResourceRecord], added: [ResourceRecord]) {
        self.oldSOA = oldSOA
        self.newSOA = newSOA
        self.removed = removed
        self.added = added
    }

    /// Records this step puts on the wire, SOAs included (journal size accounting).
    public var recordCount: Int { removed.count + added.count + 2 }
}
