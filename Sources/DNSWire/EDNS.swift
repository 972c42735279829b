/// The EDNS(0) pseudo-record (RFC 6891 6.1): the OPT RR's fields given their meaning.
public struct EDNS: Hashable, Sendable {
    /// Requestor's UDP payload size (values below 512 are treated as 512, RFC 6891 6.2.5).
    public var udpPayloadSize: UInt16
    /// The upper eight bits of the extended rcode.
    public var extendedRcode: UInt8
    public var version: UInt8
    /// DNSSEC OK (RFC 3225).
    public var dnssecOK: Bool
    /// Raw options (code, data), kept in order.
    public var options: [(code: UInt16, data: [UInt8])]

    public init(
        udpPayloadSize: UInt16 = 1232, extendedRcode: UInt8 = 0, version: UInt8 = 0,
        dnssecOK: Bool = false, options: [(code: UInt16, data: [UInt8])] = []
    ) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRcode = extendedRcode
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    public static func == (lhs: EDNS, rhs: EDNS) -> Bool {
        lhs.udpPayloadSize == rhs.udpPayloadSize && lhs.extendedRcode == rhs.extendedRcode
            && lhs.version == rhs.version && lhs.dnssecOK == rhs.dnssecOK
            && lhs.options.elementsEqual(rhs.options) { $0.code == $1.code && $0.data == $1.data }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(udpPayloadSize)
        hasher.combine(version)
        hasher.combine(dnssecOK)
    }

    /// As the OPT RR to place in the additional section.
    public var record: ResourceRecord {
        var rdata: [UInt8] = []
        for option in options {
            rdata += [UInt8(option.code >> 8), UInt8(option.code & 0xFF)]
            rdata += [UInt8(option.data.count >> 8), UInt8(option.data.count & 0xFF)]
            rdata += option.data
        }
        let ttl = UInt32(extendedRcode) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
        return ResourceRecord(name: .root, type: .opt, rrClass: RRClass(udpPayloadSize), ttl: ttl, rdata: rdata)
    }

    /// Interprets an OPT RR; nil if the options are malformed (RFC 6891 6.1.2).
    public init?(record: ResourceRecord) {
        guard record.type == .opt, record.name.isRoot else { return nil }
        udpPayloadSize = record.rrClass.rawValue
        extendedRcode = UInt8(record.ttl >> 24)
        version = UInt8((record.ttl >> 16) & 0xFF)
        dnssecOK = record.ttl & 0x8000 != 0
        var options: [(code: UInt16, data: [UInt8])] = []
        var offset = 0
        let rdata = record.rdata
        while offset < rdata.count {
            guard offset + 4 <= rdata.count else { return nil }
            let code = UInt16(rdata[offset]) << 8 | UInt16(rdata[offset + 1])
            let length = Int(rdata[offset + 2]) << 8 | Int(rdata[offset + 3])
            guard offset + 4 + length <= rdata.count else { return nil }
            options.append((code, Array(rdata[(offset + 4)..<(offset + 4 + length)])))
            offset += 4 + length
        }
        self.options = options
    }
}
