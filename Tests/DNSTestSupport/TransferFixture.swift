import DNSEngine
import DNSWire
import NIOConcurrencyHelpers
import ZoneCache
import ZoneTransfer

/// An in-memory transfer source with a journal, for IXFR tests: versions are whole
/// record lists; `differences(since:)` reaches back as far as the journal holds.
public final class JournaledTransferSource: ZoneTransferSource {
    public struct Version: ZoneVersion {
        public let serial: UInt32
        public let soa: ResourceRecord
        public let records: [ResourceRecord]
        public func makeRecordIterator() -> any IteratorProtocol<ResourceRecord> { records.makeIterator() }
    }

    private let state: NIOLockedValueBox<(current: Version?, journal: [ZoneDifference])>

    public init() { state = NIOLockedValueBox((nil, [])) }

    /// Publishes a new version; with `journaled` its difference from the current one is kept.
    public func publish(serial: UInt32, records: [ResourceRecord], journaled: Bool = true) {
        let soa = TransferFixture.soa(serial: serial)
        let version = Version(serial: serial, soa: soa, records: records)
        state.withLockedValue { state in
            if let current = state.current, journaled {
                let old = Set(current.records)
                let new = Set(records)
                state.journal.append(
                    ZoneDifference(
                        oldSOA: current.soa, newSOA: soa, removed: current.records.filter { !new.contains($0) },
                        added: records.filter { !old.contains($0) }))
            } else if !journaled {
                state.journal = []
            }
            state.current = version
        }
    }

    public func currentVersion() -> (any ZoneVersion)? { state.withLockedValue { $0.current } }

    public func differences(since serial: UInt32) -> [ZoneDifference]? {
        state.withLockedValue { state in
            guard let current = state.current else { return nil }
            if serial == current.serial { return [] }
            guard let start = state.journal.firstIndex(where: { SerialNumber.of(soa: $0.oldSOA) == serial }) else {
                return nil
            }
            return Array(state.journal[start...])
        }
    }
}

/// Zones and requests for the transfer tests.
public enum TransferFixture {
    public static let apex = try! Name("1bz.")

    public static func soa(serial: UInt32) -> ResourceRecord {
        var rdata = try! Name("ns1.1bz.").wire + (try! Name("hostmaster.1bz.").wire)
        for value in [serial, 3600, 600, 86400, 60] {
            rdata += withUnsafeBytes(of: value.bigEndian, Array.init)
        }
        return ResourceRecord(name: apex, type: .soa, ttl: 3600, rdata: rdata)
    }

    /// The apex NS, its address, and `names` hosts with an A record each.
    public static func records(names: Int, salt: UInt8 = 0) -> [ResourceRecord] {
        var records = [
            ResourceRecord(name: apex, type: .ns, ttl: 3600, rdata: try! Name("ns1.1bz.").wire),
            ResourceRecord(name: try! Name("ns1.1bz."), type: .a, ttl: 3600, rdata: [127, 0, 0, 1]),
        ]
        for index in 0..<names {
            records.append(
                ResourceRecord(
                    name: try! Name("host\(index).1bz."), type: .a, ttl: 300,
                    rdata: [10, salt, UInt8(index >> 8), UInt8(index & 0xFF)]))
        }
        return records
    }

    public static func zone(serial: UInt32, names: Int) -> Zone {
        try! Zone(apex: apex, records: [soa(serial: serial)] + records(names: names))
    }

    /// Transfers allowed from 127.0.0.0/8, without a key.
    public static let loopbackACL = TransferACL([.init(prefix: AddressPrefix("127.0.0.0/8")!, key: nil)])

    /// A responder serving `source` at the fixture's apex.
    public static func responder(
        _ source: any ZoneTransferSource, keys: TSIGKeyring = TSIGKeyring(), acl: TransferACL = loopbackACL,
        messageSize: Int = 16_384
    ) -> ZoneTransferResponder {
        ZoneTransferResponder(
            apex: apex, source: source, configuration: .init(keys: keys, acl: acl, messageSize: messageSize))
    }

    /// An AXFR or IXFR request (IXFR with the client's SOA at `clientSerial`).
    public static func request(
        _ type: RRType, name: Name = apex, id: UInt16 = 0x1234, clientSerial: UInt32? = nil, edns: EDNS? = nil
    ) -> [UInt8] {
        var message = Message()
        message.header.id = id
        message.questions = [Question(name: name, type: type)]
        if let clientSerial { message.authorities = [soa(serial: clientSerial)] }
        message.edns = edns
        return try! message.encoded()
    }
}
