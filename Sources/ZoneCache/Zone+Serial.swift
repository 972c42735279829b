import DNSWire

extension Zone {
    /// The SOA serial (RFC 1035 3.3.13: after MNAME and RNAME).
    public var serial: UInt32 {
        guard let offset = Self.serialOffset(soa.rdata) else { return 0 }
        return soa.rdata[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// The same zone with another SOA serial. With a chain configured the serial is the
    /// block number the answers reflect (docs/design.md#serials), so the zone is
    /// swapped whole each time the follower advances; the rest is unchanged.
    public func withSerial(_ serial: UInt32) -> Zone {
        guard let offset = Self.serialOffset(soa.rdata) else { return self }
        var records: [ResourceRecord] = []
        for node in nodes {
            for type in node.types {
                for var record in node.rrsets[type] ?? [] {
                    if type == .soa, node.isApex {
                        record.rdata.replaceSubrange(
                            offset..<offset + 4, with: withUnsafeBytes(of: serial.bigEndian, Array.init))
                    }
                    records.append(record)
                }
            }
        }
        // The records came from a valid zone, so rebuilding cannot fail.
        return (try? Zone(apex: apex, records: records, source: "serial \(serial)")) ?? self
    }

    /// Offset of the serial in SOA RDATA (two uncompressed names first), if well formed.
    private static func serialOffset(_ rdata: [UInt8]) -> Int? {
        var index = 0
        for _ in 0..<2 {
            while index < rdata.count, rdata[index] != 0 { index += 1 + Int(rdata[index]) }
            index += 1
        }
        return index + 20 <= rdata.count ? index : nil
    }
}
