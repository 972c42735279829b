/// Writes messages with name compression (RFC 1035 4.1.4). Also used to pre-render
/// answer sections: `base` is the offset at which the produced bytes will sit in the
/// final message, and `register` seeds the table with names already written there
/// (the question), so pointers into it stay valid.
public struct MessageEncoder: Sendable {
    public private(set) var bytes: [UInt8] = []
    private let base: Int
    private var compression: [Name: Int] = [:]
    /// When false, names are written in full: the output is position independent.
    private let compress: Bool

    public init(base: Int = 0, compress: Bool = true) {
        self.base = base
        self.compress = compress
        bytes.reserveCapacity(512)
    }

    /// Records that `name` (and its suffixes) sit at absolute offset `offset`.
    public mutating func register(_ name: Name, at offset: Int) {
        guard compress else { return }
        var index = 0
        var suffix = name
        while !suffix.isRoot, offset + index < 0x4000 {
            if compression[suffix] == nil { compression[suffix] = offset + index }
            index += 1 + Int(suffix.wire[0])
            suffix = suffix.parent
        }
    }

    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    public mutating func write(_ value: UInt32) {
        write(UInt16(value >> 16))
        write(UInt16(value & 0xFFFF))
    }

    public mutating func write(name: Name, compressible: Bool = true) {
        var suffix = name
        var index = 0
        while !suffix.isRoot {
            if compress, compressible, let target = compression[suffix] {
                write(UInt16(0xC000) | UInt16(target))
                return
            }
            let here = base + bytes.count
            let length = Int(suffix.wire[0])
            if compress, here < 0x4000 { compression[suffix] = here }
            bytes += name.wire[index..<(index + 1 + length)]
            index += 1 + length
            suffix = suffix.parent
        }
        bytes.append(0)
    }

    public mutating func write(question: Question) {
        write(name: question.name)
        write(question.type.rawValue)
        write(question.rrClass.rawValue)
    }

    public mutating func write(record: ResourceRecord) {
        write(name: record.name)
        write(record.type.rawValue)
        write(record.rrClass.rawValue)
        write(record.ttl)
        let lengthAt = bytes.count
        write(UInt16(0))
        let ranges = record.embeddedNameRanges
        if ranges.isEmpty {
            bytes += record.rdata
        } else {
            var offset = 0
            for range in ranges {
                bytes += record.rdata[offset..<range.lowerBound]
                write(name: Name(uncheckedWire: Array(record.rdata[range])))
                offset = range.upperBound
            }
            bytes += record.rdata[offset...]
        }
        let length = bytes.count - lengthAt - 2
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }
}

extension Message {
    /// Encodes the whole message; OPT (if any) goes last in the additional section.
    public func encoded() throws(DNSWireError) -> [UInt8] {
        var encoder = MessageEncoder()
        encoder.write(header.id)
        encoder.write(header.flags)
        encoder.write(UInt16(questions.count))
        encoder.write(UInt16(answers.count))
        encoder.write(UInt16(authorities.count))
        encoder.write(UInt16(additionals.count + (edns == nil ? 0 : 1)))
        for question in questions { encoder.write(question: question) }
        for record in answers { encoder.write(record: record) }
        for record in authorities { encoder.write(record: record) }
        for record in additionals { encoder.write(record: record) }
        if let edns { encoder.write(record: edns.record) }
        guard encoder.bytes.count <= 65535 else { throw .tooLarge }
        return encoder.bytes
    }
}
