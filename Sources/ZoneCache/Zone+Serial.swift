import DNSWire

extension Zone {
    /// The SOA serial (RFC 1035 3.3.13: after MNAME and RNAME).
    public var serial: UInt32 { SerialNumber.of(soa: soa) ?? 0 }

    /// The same zone with another SOA serial. With a chain configured the serial is the
    /// block number the answers reflect (docs/design.md#serials), so the zone is
    /// swapped whole each time the follower advances; the rest is unchanged.
    public func withSerial(_ serial: UInt32) -> Zone {
        var records: [ResourceRecord] = []
        for node in nodes {
            for type in node.types {
                for record in node.rrsets[type] ?? [] {
                    records.append(type == .soa && node.isApex ? record.withSOASerial(serial) : record)
                }
            }
        }
        // The records came from a valid zone, so rebuilding cannot fail.
        return (try? Zone(apex: apex, records: records, source: "serial \(serial)")) ?? self
    }
}
