extension Message {
    /// Decodes a message with strict bounds: every count must be backed by bytes, every
    /// RDATA must be exactly RDLENGTH long, names follow pointers only backwards. Bytes
    /// after the last counted record are reported through `trailingBytes`, not rejected:
    /// the caller decides (the server's `QueryView` answers FORMERR, as Knot DNS does).
    public init(decoding bytes: [UInt8]) throws(DNSWireError) {
        var trailing = 0
        try self.init(decoding: bytes, trailingBytes: &trailing)
    }

    public init(decoding bytes: [UInt8], trailingBytes: inout Int) throws(DNSWireError) {
        let (message, end) = try bytes.withUnsafeBytes { raw in
            Result { () throws(DNSWireError) in try Message.decode(raw) }
        }.get()
        self = message
        trailingBytes = bytes.count - end
    }

    static func decode(_ raw: UnsafeRawBufferPointer) throws(DNSWireError) -> (Message, Int) {
        guard raw.count >= 12 else { throw .truncated(at: raw.count) }
        var header = Header()
        header.id = try WireReader.u16(raw, at: 0)
        header.flags = try WireReader.u16(raw, at: 2)
        let qdCount = Int(try WireReader.u16(raw, at: 4))
        let anCount = Int(try WireReader.u16(raw, at: 6))
        let nsCount = Int(try WireReader.u16(raw, at: 8))
        let arCount = Int(try WireReader.u16(raw, at: 10))
        var offset = 12
        var message = Message(header: header)
        for _ in 0..<qdCount {
            let (name, next) = try WireReader.readName(raw, at: offset)
            let type = RRType(try WireReader.u16(raw, at: next))
            let rrClass = RRClass(try WireReader.u16(raw, at: next + 2))
            message.questions.append(Question(name: name, type: type, rrClass: rrClass))
            offset = next + 4
        }
        message.answers = try readRecords(raw, count: anCount, offset: &offset)
        message.authorities = try readRecords(raw, count: nsCount, offset: &offset)
        let additionalStart = offset
        for record in try readRecords(raw, count: arCount, offset: &offset) {
            if record.type == .opt {
                // RFC 6891 6.1.1: one OPT, owned by the root, only in the additional section.
                guard message.edns == nil, let edns = EDNS(record: record) else {
                    throw .badOPT(at: additionalStart)
                }
                message.edns = edns
            } else {
                message.additionals.append(record)
            }
        }
        if message.answers.contains(where: { $0.type == .opt })
            || message.authorities.contains(where: { $0.type == .opt })
        {
            throw .badOPT(at: additionalStart)
        }
        return (message, offset)
    }

    private static func readRecords(
        _ raw: UnsafeRawBufferPointer, count: Int, offset: inout Int
    ) throws(DNSWireError) -> [ResourceRecord] {
        var records: [ResourceRecord] = []
        // A lying count cannot make us reserve much: each record needs at least 11 bytes.
        records.reserveCapacity(min(count, (raw.count - offset) / 11 + 1))
        for _ in 0..<count {
            let (name, next) = try WireReader.readName(raw, at: offset)
            let type = RRType(try WireReader.u16(raw, at: next))
            let rrClass = RRClass(try WireReader.u16(raw, at: next + 2))
            let ttl = try WireReader.u32(raw, at: next + 4)
            let rdLength = Int(try WireReader.u16(raw, at: next + 8))
            let rdStart = next + 10
            guard rdStart + rdLength <= raw.count else { throw .truncated(at: rdStart) }
            let rdata = try readRDATA(raw, type: type, range: rdStart..<(rdStart + rdLength))
            records.append(ResourceRecord(name: name, type: type, rrClass: rrClass, ttl: ttl, rdata: rdata))
            offset = rdStart + rdLength
        }
        return records
    }

    /// Copies RDATA, decompressing the names of RFC 1035 types; their layout must fill
    /// RDLENGTH exactly.
    private static func readRDATA(
        _ raw: UnsafeRawBufferPointer, type: RRType, range: Range<Int>
    ) throws(DNSWireError) -> [UInt8] {
        guard type.hasCompressibleRDATA else { return Array(raw[range]) }
        // Fixed fields before and after the names (RFC 1035 3.3).
        let (prefix, names, suffix): (Int, Int, Int) =
            switch type {
            case .soa: (0, 2, 20)
            case RRType(14): (0, 2, 0)
            case .mx: (2, 1, 0)
            default: (0, 1, 0)
            }
        guard range.count >= prefix else { throw .rdataLengthMismatch(at: range.lowerBound) }
        // Names are read against a view ending at the RDATA's end so they cannot run past it.
        let bounded = UnsafeRawBufferPointer(rebasing: raw[0..<range.upperBound])
        var out = Array(raw[range.lowerBound..<(range.lowerBound + prefix)])
        var offset = range.lowerBound + prefix
        for _ in 0..<names {
            do {
                let (name, next) = try WireReader.readName(bounded, at: offset)
                out += name.wire
                offset = next
            } catch {
                throw error == .truncated(at: error.offset) ? .rdataLengthMismatch(at: range.lowerBound) : error
            }
        }
        guard range.upperBound - offset == suffix else { throw .rdataLengthMismatch(at: range.lowerBound) }
        out += raw[offset..<range.upperBound]
        return out
    }
}
