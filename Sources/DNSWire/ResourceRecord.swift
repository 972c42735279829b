/// A resource record (RFC 1035 4.1.3). RDATA is kept as uncompressed wire bytes: names
/// inside RFC 1035 types are decompressed on decode and may be compressed on encode.
public struct ResourceRecord: Hashable, Sendable {
    public var name: Name
    public var type: RRType
    public var rrClass: RRClass
    public var ttl: UInt32
    public var rdata: [UInt8]

    public init(name: Name, type: RRType, rrClass: RRClass = .in, ttl: UInt32, rdata: [UInt8]) {
        self.name = name
        self.type = type
        self.rrClass = rrClass
        self.ttl = ttl
        self.rdata = rdata
    }

    /// Names embedded in the RDATA of the RFC 1035 types we serve, as (offset, length)
    /// ranges into `rdata`, plus the offset of trailing fixed fields. Used by the
    /// encoder to compress them, and by the zone to find glue targets.
    package var embeddedNameRanges: [Range<Int>] {
        guard type.hasCompressibleRDATA else { return [] }
        let count: Int
        let start: Int
        switch type {
        case .soa, RRType(14): (count, start) = (2, 0)  // MNAME RNAME / MINFO
        case .mx: (count, start) = (1, 2)
        default: (count, start) = (1, 0)
        }
        var ranges: [Range<Int>] = []
        var offset = start
        rdata.withUnsafeBytes { raw in
            for _ in 0..<count {
                guard let end = try? WireReader.skipUncompressedName(raw, at: offset) else { return }
                ranges.append(offset..<end)
                offset = end
            }
        }
        return ranges
    }

    /// The target name of NS / CNAME / MX / PTR records, if any.
    public var targetName: Name? {
        guard type == .ns || type == .mx || type == .cname || type == .ptr,
            let range = embeddedNameRanges.first
        else { return nil }
        return Name(uncheckedWire: Array(rdata[range]))
    }
}
