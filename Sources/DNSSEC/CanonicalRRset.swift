import DNSWire

/// The canonical form of an RRset for signing (RFC 4034 6.2, 6.3): owner names in
/// lowercase, names inside the RDATA of the listed types in lowercase, the original
/// TTL, no compression, RRs ordered by their canonical RDATA, duplicates removed.
enum CanonicalRRset {
    /// The bytes a signature covers after the RRSIG RDATA prefix (RFC 4034 3.1.8.1).
    static func bytes(_ rrset: [ResourceRecord], originalTTL: UInt32) -> [UInt8] {
        guard let first = rrset.first else { return [] }
        let owner = first.name.lowercased.wire
        var rdatas = rrset.map(canonicalRDATA)
        rdatas.sort { $0.lexicographicallyPrecedes($1) }
        var out: [UInt8] = []
        var previous: [UInt8]? = nil
        for rdata in rdatas where rdata != previous {
            previous = rdata
            out += owner
            out.append(be16: first.type.rawValue)
            out.append(be16: first.rrClass.rawValue)
            out.append(be32: originalTTL)
            out.append(be16: UInt16(rdata.count))
            out += rdata
        }
        return out
    }

    /// RFC 4034 6.2 item 3 (as amended by RFC 6840 5.1): names in the RDATA of NS, CNAME,
    /// SOA, PTR, MINFO, MX, SRV, DNAME (and the like) in lowercase.
    static func canonicalRDATA(_ record: ResourceRecord) -> [UInt8] {
        var rdata = record.rdata
        for range in nameRanges(record) {
            for index in range { rdata[index] = lower(rdata[index]) }
        }
        return rdata
    }

    private static func nameRanges(_ record: ResourceRecord) -> [Range<Int>] {
        switch record.type.rawValue {
        case 33:  // SRV: priority, weight, port, target
            return nameRange(record.rdata, at: 6).map { [$0] } ?? []
        case 39:  // DNAME
            return nameRange(record.rdata, at: 0).map { [$0] } ?? []
        default:
            return record.embeddedNameRanges
        }
    }

    private static func nameRange(_ rdata: [UInt8], at start: Int) -> Range<Int>? {
        var index = start
        while index < rdata.count {
            let length = Int(rdata[index])
            if length == 0 { return start..<(index + 1) }
            index += 1 + length
        }
        return nil
    }

    /// Only the label bytes are letters, but lowering length octets (< 64) is harmless:
    /// no length octet falls in 'A'...'Z' (65...90).
    private static func lower(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }
}

extension Array where Element == UInt8 {
    mutating func append(be16 value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func append(be32 value: UInt32) {
        append(be16: UInt16(value >> 16))
        append(be16: UInt16(value & 0xFFFF))
    }
}
