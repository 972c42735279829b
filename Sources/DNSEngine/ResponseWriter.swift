import DNSWire
import NIOCore

/// Plans a response from the request and a template: header and question copied from
/// the request (ID, RD, CD, 0x20 case echo), the template's sections, and an OPT when
/// the request had one (with the server cookie, when cookies are on). Applies the size
/// limit: drop optional additionals, else TC=1 with the question only (a minimal
/// truncated answer, as Knot sends).
///
/// Planning and writing are separate steps (as NSD plans an answer, then encodes it):
/// the plan knows its exact size, so a transport writes it into whatever memory it owns
/// (a ByteBuffer for TCP and HTTP, a preallocated slot for the UDP fast path).
package struct ResponseWriter {
    let raw: UnsafeRawBufferPointer
    let query: QueryView
    let limit: Int
    /// The COOKIE option for the response's OPT (nil: none).
    let cookie: ResponseCookie?

    /// Our advertised payload size in OPT.
    static let advertisedPayload: UInt16 = 1232

    init(
        raw: UnsafeRawBufferPointer, query: QueryView, transport: Transport, maxUDPPayload: Int,
        cookie: ResponseCookie?
    ) {
        self.raw = raw
        self.query = query
        self.cookie = cookie
        switch transport {
        case .tcp: limit = 65535
        case .udp: limit = Self.udpLimit(query, maxUDPPayload: maxUDPPayload)
        }
    }

    /// The size limit of a UDP answer to `query`. RFC 6891 6.2.5: an advertised size
    /// below 512 counts as 512; RFC 1035 4.2.1: 512 without EDNS.
    package static func udpLimit(_ query: QueryView, maxUDPPayload: Int) -> Int {
        guard let edns = query.edns else { return 512 }
        return max(512, min(Int(edns.udpPayloadSize), maxUDPPayload))
    }

    private var question: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[12..<query.questionEnd]) }

    func plan(_ template: ResponseTemplate) -> ResponsePlan {
        plan(template, denial: nil, rcode: template.rcode)
    }

    /// `template`, then (DNSSEC) the records of a denial at the end of its authority
    /// section (before any additionals: a referral's glue), with `rcode` in place of the
    /// template's (compact denial, RFC 9824: NOERROR, or NXDOMAIN when the query set CO).
    func plan(_ template: ResponseTemplate, denial: SignedDenial?, rcode: Rcode) -> ResponsePlan {
        let opt = query.edns.map {
            ResponsePlan.OPT(
                rcode: rcode, dnssecOK: $0.dnssecOK, cookie: cookie, compactOK: $0.compactOK,
                extendedError: template.extendedError)
        }
        let fixed = 12 + question.count + (opt?.size ?? 0)
        var tailLength = template.tail.count
        var counts = (template.answerCount, template.authorityCount, template.additionalCount)
        var extra = denial?.tail ?? []
        if let denial { counts.1 += denial.count }
        var truncated = false
        if fixed + tailLength + extra.count > limit {
            if denial == nil, template.additionalOptional, fixed + template.additionalStart <= limit {
                tailLength = template.additionalStart
                counts.2 = 0
            } else {
                tailLength = 0
                extra = []
                counts = (0, 0, 0)
                truncated = true
            }
        }
        var flags = Self.responseFlags(query.flags, rcode: rcode)
        if template.authoritative { flags |= Header.aaBit }
        if truncated { flags |= Header.tcBit }
        return ResponsePlan(
            id: query.id, flags: flags, counts: (1, counts.0, counts.1, counts.2), question: question,
            tail: template.tail, tailLength: tailLength, extra: extra, extraAt: min(template.additionalStart, tailLength),
            opt: opt, rcode: rcode, cacheTTL: template.cacheTTL)
    }

    /// BADVERS, and FORMERR for a malformed COOKIE: no sections, question echoed, OPT
    /// carrying the extended rcode.
    func plan(extendedError rcode: Rcode) -> ResponsePlan {
        ResponsePlan(
            id: query.id, flags: Self.responseFlags(query.flags, rcode: rcode), counts: (1, 0, 0, 0),
            question: question, tail: [], tailLength: 0,
            opt: .init(rcode: rcode, dnssecOK: query.edns?.dnssecOK ?? false, cookie: nil), rcode: rcode, cacheTTL: 0)
    }

    /// FORMERR / NOTIMP for requests we could not fully parse: header, and the question
    /// when it was readable. No OPT: the request's OPT may be what was wrong.
    static func planError(
        _ rcode: Rcode, id: UInt16, flags requestFlags: UInt16, question: Slice<UnsafeRawBufferPointer>?
    ) -> ResponsePlan {
        let questionBytes = question.map { UnsafeRawBufferPointer(rebasing: $0) }
        return ResponsePlan(
            id: id, flags: responseFlags(requestFlags, rcode: rcode), counts: (question == nil ? 0 : 1, 0, 0, 0),
            question: questionBytes ?? UnsafeRawBufferPointer(start: nil, count: 0), tail: [], tailLength: 0, opt: nil,
            rcode: rcode, cacheTTL: 0)
    }

    /// QR set; opcode, RD and CD copied from the request (RFC 1035 4.1.1); AA, TC, RA,
    /// AD clear; the rcode's header bits.
    static func responseFlags(_ requestFlags: UInt16, rcode: Rcode) -> UInt16 {
        let opcodeMask: UInt16 = 0x7800
        return Header.qrBit | (requestFlags & (Header.rdBit | Header.cdBit | opcodeMask)) | UInt16(rcode.headerBits)
    }
}

/// A response ready to write: header fields, the question bytes (borrowed from the
/// request: use the plan before the request's memory goes away), a prefix of the
/// template's sections, and the OPT record when the request had EDNS. Also what the
/// transports and the gateway need to know about the answer without decoding it: its
/// rcode and how long it may be cached, known when the answer was rendered.
package struct ResponsePlan {
    let id: UInt16
    let flags: UInt16
    /// QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT without the OPT.
    let counts: (UInt16, UInt16, UInt16, UInt16)
    let question: UnsafeRawBufferPointer
    let tail: [UInt8]
    let tailLength: Int
    /// Written after the tail's authority section: a denial's NSEC/NSEC3s and RRSIGs.
    var extra: [UInt8] = []
    /// Where in the tail `extra` goes (the end of the authority section).
    var extraAt: Int = .max
    let opt: OPT?
    package let rcode: Rcode
    package let cacheTTL: UInt32

    /// The OPT RR of a response (RFC 6891 6.1.2): root owner, our payload size, the
    /// extended rcode, version 0, DO copied from the request (RFC 3225 3), and the
    /// COOKIE option when there is one (RFC 7873 4). Extended DNS Errors (RFC 8914)
    /// belong here too.
    struct OPT {
        var rcode: Rcode
        var dnssecOK: Bool
        var cookie: ResponseCookie?
        /// RFC 9824 4: CO echoed.
        var compactOK = false
        /// RFC 8914: an EXTENDED-ERROR option with this info-code (no extra text).
        var extendedError: UInt16? = nil

        /// Wire size: the fixed 11 bytes, plus the options.
        var size: Int { 11 + (cookie == nil ? 0 : 4 + ResponseCookie.length) + (extendedError == nil ? 0 : 6) }
    }

    var size: Int { 12 + question.count + tailLength + extra.count + (opt?.size ?? 0) }

    /// Response-rate limiting's slip (RFC 1035 4.1.1; NSD/Knot RRL): with a client
    /// cookie, BADCOOKIE and a fresh cookie (RFC 7873 5.2.3: small, so it amplifies
    /// nothing, and the client's retry with the cookie is exempt); otherwise the header
    /// with TC=1 and the question, no records and no OPT (the client retries over TCP,
    /// which cannot be spoofed).
    package func slipped() -> ResponsePlan {
        let header = flags & ~(Header.tcBit | 0x000F)
        if let opt, let cookie = opt.cookie {
            return ResponsePlan(
                id: id, flags: header | UInt16(Rcode.badCookie.headerBits), counts: (counts.0, 0, 0, 0),
                question: question, tail: [], tailLength: 0,
                opt: OPT(rcode: .badCookie, dnssecOK: opt.dnssecOK, cookie: cookie), rcode: .badCookie, cacheTTL: 0)
        }
        return ResponsePlan(
            id: id, flags: flags | Header.tcBit, counts: (counts.0, 0, 0, 0), question: question, tail: [],
            tailLength: 0, opt: nil, rcode: rcode, cacheTTL: 0)
    }

    /// Writes the response at the start of `out` (at least `size` bytes); returns `size`.
    func write(into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count >= size, "response slot too small")
        var cursor = WireCursor(out)
        cursor.write(id)
        cursor.write(flags)
        cursor.write(counts.0)
        cursor.write(counts.1)
        cursor.write(counts.2)
        cursor.write(counts.3 + (opt == nil ? 0 : 1))
        cursor.write(question)
        let split = min(extraAt, tailLength)
        tail.withUnsafeBytes { cursor.write(UnsafeRawBufferPointer(rebasing: $0[0..<split])) }
        if !extra.isEmpty { extra.withUnsafeBytes { cursor.write($0) } }
        tail.withUnsafeBytes { cursor.write(UnsafeRawBufferPointer(rebasing: $0[split..<tailLength])) }
        if let opt { cursor.write(opt) }
        return cursor.offset
    }

    /// The response in a new buffer of exactly its size (the one allocation per answer).
    func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        let size = self.size
        var buffer = allocator.buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { write(into: $0) }
        return buffer
    }
}

/// Big-endian writes into raw memory whose size the caller checked beforehand.
private struct WireCursor {
    let base: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ base: UnsafeMutableRawBufferPointer) { self.base = base }

    mutating func write(_ value: UInt16) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
        offset += 2
    }

    mutating func write(_ value: UInt8) {
        base[offset] = value
        offset += 1
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: base[offset..<offset + bytes.count]).copyMemory(from: bytes)
        offset += bytes.count
    }

    mutating func write(_ opt: ResponsePlan.OPT) {
        write(UInt8(0))
        write(RRType.opt.rawValue)
        write(ResponseWriter.advertisedPayload)
        write(opt.rcode.extendedBits)
        write(UInt8(0))
        write(UInt16(opt.dnssecOK ? 0x8000 : 0) | (opt.compactOK ? 0x4000 : 0))
        write(UInt16(opt.size - 11))
        if let cookie = opt.cookie {
            write(QueryView.cookieOptionCode)
            write(UInt16(ResponseCookie.length))
            cookie.write(into: base, at: offset)
            offset += ResponseCookie.length
        }
        if let code = opt.extendedError {
            write(ExtendedDNSError.optionCode)
            write(UInt16(2))
            write(code)
        }
    }
}
