import DNSWire
import NIOCore

/// Assembles a response from the request and a template: header and question copied
/// from the request (ID, RD, CD, 0x20 case echo), the template's sections, and an OPT
/// when the request had one. Applies the size limit: drop optional additionals, else
/// TC=1 with the question only (a minimal truncated answer, as Knot sends).
struct ResponseWriter {
    let raw: UnsafeRawBufferPointer
    let query: QueryView
    let limit: Int

    /// Our advertised payload size in OPT.
    static let advertisedPayload: UInt16 = 1232
    static let optLength = 11

    init(raw: UnsafeRawBufferPointer, query: QueryView, transport: Transport, maxUDPPayload: Int) {
        self.raw = raw
        self.query = query
        switch transport {
        case .tcp:
            limit = 65535
        case .udp:
            // RFC 6891 6.2.5: below 512 counts as 512; RFC 1035 4.2.1: 512 without EDNS.
            if let edns = query.edns {
                limit = max(512, min(Int(edns.udpPayloadSize), maxUDPPayload))
            } else {
                limit = 512
            }
        }
    }

    func write(_ template: ResponseTemplate, allocator: ByteBufferAllocator) -> ByteBuffer {
        let questionLength = query.questionEnd - 12
        let optLength = query.edns == nil ? 0 : Self.optLength
        let fixed = 12 + questionLength + optLength
        var tailLength = template.tail.count
        var counts = (template.answerCount, template.authorityCount, template.additionalCount)
        var truncated = false
        if fixed + tailLength > limit {
            if template.additionalOptional, fixed + template.additionalStart <= limit {
                tailLength = template.additionalStart
                counts.2 = 0
            } else {
                tailLength = 0
                counts = (0, 0, 0)
                truncated = true
            }
        }
        var buffer = allocator.buffer(capacity: fixed + tailLength)
        var flags = Self.responseFlags(query.flags, rcode: template.rcode)
        if template.authoritative { flags |= Header.aaBit }
        if truncated { flags |= Header.tcBit }
        buffer.writeMultipleIntegers(
            query.id, flags, UInt16(1), counts.0, counts.1, counts.2 + (optLength == 0 ? 0 : 1))
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[12..<query.questionEnd]))
        template.tail.withUnsafeBytes { tail in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: tail[0..<tailLength]))
        }
        if let edns = query.edns { Self.writeOPT(into: &buffer, rcode: template.rcode, dnssecOK: edns.dnssecOK) }
        return buffer
    }

    /// BADVERS and similar: no sections, question echoed, OPT carrying the extended rcode.
    func write(extendedError rcode: Rcode, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: query.questionEnd + Self.optLength)
        let flags = Self.responseFlags(query.flags, rcode: rcode)
        buffer.writeMultipleIntegers(query.id, flags, UInt16(1), UInt16(0), UInt16(0), UInt16(1))
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[12..<query.questionEnd]))
        Self.writeOPT(into: &buffer, rcode: rcode, dnssecOK: query.edns?.dnssecOK ?? false)
        return buffer
    }

    /// FORMERR / NOTIMP for requests we could not fully parse: header, and the question
    /// when it was readable. No OPT: the request's OPT may be what was wrong.
    static func error(
        _ rcode: Rcode, id: UInt16, flags requestFlags: UInt16, question: Slice<UnsafeRawBufferPointer>?,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 12 + (question?.count ?? 0))
        let flags = responseFlags(requestFlags, rcode: rcode)
        buffer.writeMultipleIntegers(id, flags, UInt16(question == nil ? 0 : 1), UInt16(0), UInt16(0), UInt16(0))
        if let question { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: question)) }
        return buffer
    }

    /// QR set; opcode, RD and CD copied from the request (RFC 1035 4.1.1); AA, TC, RA,
    /// AD clear; the rcode's header bits.
    static func responseFlags(_ requestFlags: UInt16, rcode: Rcode) -> UInt16 {
        let opcodeMask: UInt16 = 0x7800
        return Header.qrBit | (requestFlags & (Header.rdBit | Header.cdBit | opcodeMask)) | UInt16(rcode.headerBits)
    }

    /// OPT RR (RFC 6891 6.1.2): root owner, our payload size, extended rcode, version 0,
    /// DO copied from the request (RFC 3225 3), no options.
    static func writeOPT(into buffer: inout ByteBuffer, rcode: Rcode, dnssecOK: Bool) {
        buffer.writeInteger(UInt8(0))
        buffer.writeMultipleIntegers(
            RRType.opt.rawValue, advertisedPayload, rcode.extendedBits, UInt8(0), UInt16(dnssecOK ? 0x8000 : 0),
            UInt16(0))
    }
}
