/// EDNS(0) padding (RFC 7830) for encrypted transports, with the block-length policy of
/// RFC 8467 4.1: a server pads a response only when the query carried a Padding option,
/// to a multiple of 468 octets. Pure: the transports (DoT) call it on finished messages,
/// before a TSIG signature is added (the MAC covers the OPT).
public enum EDNSPadding {
    /// RFC 7830 3: the Padding option code.
    public static let optionCode: UInt16 = 12
    /// RFC 8467 4.1: responses are padded to a multiple of this many octets.
    public static let responseBlockLength = 468

    /// Whether `query` has an OPT record holding a Padding option. False for anything
    /// that does not walk (the engine answers those FORMERR, unpadded).
    public static func isRequested(_ query: UnsafeRawBufferPointer) -> Bool {
        guard let records = try? additionalRecords(query) else { return false }
        for record in records where record.type == RRType.opt.rawValue {
            var option = record.rdata.lowerBound
            while option + 4 <= record.rdata.upperBound {
                let code = UInt16(query[option]) << 8 | UInt16(query[option + 1])
                if code == optionCode { return true }
                option += 4 + (Int(query[option + 2]) << 8 | Int(query[option + 3]))
            }
        }
        return false
    }

    /// `response` with a Padding option appended to its OPT so that its length is a
    /// multiple of `blockLength`; nil when it cannot be padded safely: no OPT, or the
    /// OPT is not the last record (an option inserted before later records would move
    /// names they may point into), or the result would exceed 65,535 octets.
    public static func padded(_ response: UnsafeRawBufferPointer, blockLength: Int = responseBlockLength) -> [UInt8]? {
        guard blockLength > 0, let records = try? additionalRecords(response), let last = records.last,
            last.type == RRType.opt.rawValue, last.rdata.upperBound == response.count
        else { return nil }
        let unpadded = response.count + 4
        let fill = (blockLength - unpadded % blockLength) % blockLength
        let rdLength = last.rdata.count + 4 + fill
        guard unpadded + fill <= 65_535, rdLength <= 65_535 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(unpadded + fill)
        out.append(contentsOf: response)
        out[last.rdata.lowerBound - 2] = UInt8(rdLength >> 8)
        out[last.rdata.lowerBound - 1] = UInt8(rdLength & 0xFF)
        out += [UInt8(optionCode >> 8), UInt8(optionCode & 0xFF), UInt8(fill >> 8), UInt8(fill & 0xFF)]
        // RFC 7830 4: the padding octets SHOULD be zero.
        out += repeatElement(0, count: fill)
        return out
    }

    struct Record {
        var type: UInt16
        var rdata: Range<Int>
    }

    /// The additional section's records (type and RDATA range), after walking every
    /// section with bounds checks; throws when the message does not walk to its end.
    static func additionalRecords(_ raw: UnsafeRawBufferPointer) throws(DNSWireError) -> [Record] {
        guard raw.count >= 12 else { throw .truncated(at: 0) }
        var offset = 12
        let questions = Int(raw[4]) << 8 | Int(raw[5])
        for _ in 0..<questions { offset = try WireReader.walkName(raw, at: offset) + 4 }
        let answers = (Int(raw[6]) << 8 | Int(raw[7])) + (Int(raw[8]) << 8 | Int(raw[9]))
        let additional = Int(raw[10]) << 8 | Int(raw[11])
        var records: [Record] = []
        for index in 0..<(answers + additional) {
            let next = try WireReader.walkName(raw, at: offset)
            let type = try WireReader.u16(raw, at: next)
            let rdStart = next + 10
            let rdEnd = rdStart + Int(try WireReader.u16(raw, at: next + 8))
            guard rdEnd <= raw.count else { throw .truncated(at: rdStart) }
            if index >= answers { records.append(Record(type: type, rdata: rdStart..<rdEnd)) }
            offset = rdEnd
        }
        guard offset == raw.count else { throw .truncated(at: offset) }
        return records
    }
}
