import DNSWire

/// One version of a zone signed by `NSEC3ZoneMaintainer`: a snapshot (copy on write:
/// taking it costs nothing, the maintainer's next change copies its index once), whose
/// records are rendered name by name while it is iterated, so an AXFR of a million
/// names never holds them as one array.
public struct NSEC3SignedZone: Sequence, Sendable {
    /// The apex SOA (not among the iterated records).
    public let soa: ResourceRecord
    let entries: [NSEC3ZoneMaintainer.Entry]
    let renderer: NSEC3ZoneMaintainer.Renderer

    public var serial: UInt32 { SerialNumber.of(soa: soa) ?? 0 }

    /// Names held: with data, empty non-terminals, glue.
    public var nameCount: Int { entries.count }

    /// Every record but the apex SOA: the unsigned data, DNSKEY, CDS, CDNSKEY,
    /// NSEC3PARAM, the NSEC3 chain and every RRSIG, in hash order.
    public func makeIterator() -> Iterator { Iterator(zone: self) }

    public struct Iterator: IteratorProtocol {
        let zone: NSEC3SignedZone
        var index = 0
        var pending: [ResourceRecord] = []
        var position = 0

        init(zone: NSEC3SignedZone) { self.zone = zone }

        public mutating func next() -> ResourceRecord? {
            while position == pending.count {
                guard index < zone.entries.count else { return nil }
                let entry = zone.entries[index]
                index += 1
                pending = zone.renderer.records(of: NSEC3ZoneNode(decoding: entry.blob), hash: entry.hash)
                position = 0
            }
            defer { position += 1 }
            return pending[position]
        }
    }
}

extension UInt32 {
    init(bigEndianBytes bytes: some Collection<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }
}
