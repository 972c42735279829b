/// Bounds-checked reading primitives over a message's bytes. Every read checks the
/// remaining length; names follow compression pointers only backwards (RFC 1035 4.1.4),
/// which rules out loops, and never beyond 255 octets of name.
package enum WireReader {
    @inline(__always)
    package static func u16(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(DNSWireError) -> UInt16 {
        guard offset >= 0, offset + 2 <= raw.count else { throw .truncated(at: offset) }
        return UInt16(raw[offset]) << 8 | UInt16(raw[offset + 1])
    }

    @inline(__always)
    package static func u32(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(DNSWireError) -> UInt32 {
        guard offset >= 0, offset + 4 <= raw.count else { throw .truncated(at: offset) }
        return UInt32(raw[offset]) << 24 | UInt32(raw[offset + 1]) << 16 | UInt32(raw[offset + 2]) << 8
            | UInt32(raw[offset + 3])
    }

    /// Skips a name that must not use compression (questions' owner in our fast path,
    /// RDATA of non-RFC 1035 types); returns the offset after it.
    package static func skipUncompressedName(_ raw: UnsafeRawBufferPointer, at start: Int) throws(DNSWireError) -> Int {
        var offset = start
        while true {
            guard offset < raw.count else { throw .truncated(at: offset) }
            let length = Int(raw[offset])
            if length == 0 { break }
            guard length & 0xC0 == 0 else {
                throw length & 0xC0 == 0xC0 ? .badPointer(at: offset) : .badLabelType(at: offset)
            }
            offset += 1 + length
            guard offset - start < 255 else { throw .nameTooLong(at: start) }
        }
        return offset + 1
    }

    /// Walks a possibly compressed name, calling `label` for every label (including the
    /// final empty one); returns the offset right after the name at `start`.
    package static func walkName(
        _ raw: UnsafeRawBufferPointer, at start: Int, label: (Int, Int) -> Void = { _, _ in }
    ) throws(DNSWireError) -> Int {
        var offset = start
        var end: Int? = nil
        var nameLength = 0
        // Pointers must go strictly backwards from the position where the previous
        // fragment began, so every hop makes progress: no loops are possible.
        var limit = start
        while true {
            guard offset < raw.count else { throw .truncated(at: offset) }
            let length = Int(raw[offset])
            switch length & 0xC0 {
            case 0x00:
                nameLength += 1 + length
                guard nameLength <= 255 else { throw .nameTooLong(at: start) }
                guard offset + 1 + length <= raw.count else { throw .truncated(at: offset) }
                label(offset + 1, length)
                if length == 0 { return end ?? offset + 1 }
                offset += 1 + length
            case 0xC0:
                guard offset + 2 <= raw.count else { throw .truncated(at: offset) }
                let target = (length & 0x3F) << 8 | Int(raw[offset + 1])
                guard target < limit else { throw .badPointer(at: offset) }
                if end == nil { end = offset + 2 }
                limit = target
                offset = target
            default:
                throw .badLabelType(at: offset)
            }
        }
    }

    /// Reads a possibly compressed name into its uncompressed form.
    package static func readName(_ raw: UnsafeRawBufferPointer, at start: Int) throws(DNSWireError) -> (Name, Int) {
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        let next = try walkName(raw, at: start) { offset, length in
            wire.append(UInt8(length))
            wire.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)]))
        }
        return (Name(uncheckedWire: wire), next)
    }
}
