/// An allocation-free parse of an incoming query: offsets into the request bytes plus
/// the few fields an authoritative server acts on. The fast path reads only this; the
/// question bytes are later copied verbatim into the response (ID and 0x20 case echo).
public struct QueryView: Sendable {
    public var id: UInt16
    public var flags: UInt16
    /// Question name spans `12..<questionNameEnd`; type and class follow.
    public var questionNameEnd: Int
    public var questionType: RRType
    public var questionClass: RRClass
    public var opcode: Opcode { Opcode(UInt8((flags >> 11) & 0x0F)) }
    /// End of the question section (the question is `12..<questionEnd`).
    public var questionEnd: Int { questionNameEnd + 4 }
    public var edns: EDNSInfo?

    /// The OPT fields the server needs: the options are checked for framing, and the
    /// one the server acts on (COOKIE, RFC 7873) is located, not copied.
    public struct EDNSInfo: Sendable, Hashable {
        public var udpPayloadSize: UInt16
        public var version: UInt8
        public var dnssecOK: Bool
        /// Compact Answers OK (RFC 9824 4): the client wants NXDOMAIN restored in
        /// compact denial answers.
        public var compactOK: Bool = false
        /// Where the first COOKIE option's data sits in the request (empty: none).
        /// Its length is checked by the server that implements cookies (RFC 7873 5.2.2).
        public var cookie: Range<Int> = 0..<0

        public init(udpPayloadSize: UInt16, version: UInt8, dnssecOK: Bool, cookie: Range<Int> = 0..<0) {
            self.udpPayloadSize = udpPayloadSize
            self.version = version
            self.dnssecOK = dnssecOK
            self.cookie = cookie
        }
    }

    /// RFC 7873 4: the COOKIE option code.
    public static let cookieOptionCode: UInt16 = 10

    /// Why a request gets no normal answer.
    public enum Failure: Error, Sendable, Hashable {
        /// Not worth answering: shorter than a header, or a response (QR=1).
        case drop
        /// FORMERR; `questionEnd` is set when the question itself was readable (so it
        /// can be echoed), `edns` when an OPT was understood.
        case formErr(id: UInt16, flags: UInt16, questionEnd: Int?)
        /// Opcode other than QUERY (RFC 1035 4.1.1): NOTIMP, echoing the question if readable.
        case notImp(id: UInt16, flags: UInt16, questionEnd: Int?)
    }

    public static func parse(_ raw: UnsafeRawBufferPointer) -> Result<QueryView, Failure> {
        guard raw.count >= 12 else { return .failure(.drop) }
        let id = UInt16(raw[0]) << 8 | UInt16(raw[1])
        let flags = UInt16(raw[2]) << 8 | UInt16(raw[3])
        guard flags & Header.qrBit == 0 else { return .failure(.drop) }
        let qdCount = UInt16(raw[4]) << 8 | UInt16(raw[5])
        let anCount = UInt16(raw[6]) << 8 | UInt16(raw[7])
        let nsCount = UInt16(raw[8]) << 8 | UInt16(raw[9])
        let arCount = UInt16(raw[10]) << 8 | UInt16(raw[11])
        let opcode = Opcode(UInt8((flags >> 11) & 0x0F))

        // The question: exactly one, uncompressed (nothing earlier to point at).
        var questionEnd: Int? = nil
        var view = QueryView(id: id, flags: flags, questionNameEnd: 0, questionType: .a, questionClass: .in)
        if qdCount == 1, let nameEnd = try? WireReader.skipUncompressedName(raw, at: 12), nameEnd + 4 <= raw.count {
            view.questionNameEnd = nameEnd
            view.questionType = RRType(UInt16(raw[nameEnd]) << 8 | UInt16(raw[nameEnd + 1]))
            view.questionClass = RRClass(UInt16(raw[nameEnd + 2]) << 8 | UInt16(raw[nameEnd + 3]))
            questionEnd = nameEnd + 4
        }
        guard opcode == .query else { return .failure(.notImp(id: id, flags: flags, questionEnd: questionEnd)) }
        guard let questionEnd else { return .failure(.formErr(id: id, flags: flags, questionEnd: nil)) }
        // A query carries nothing in answer or authority (NSD query.c does the same).
        guard anCount == 0, nsCount == 0 else {
            return .failure(.formErr(id: id, flags: flags, questionEnd: questionEnd))
        }
        do {
            let (edns, end) = try parseAdditional(raw, count: Int(arCount), at: questionEnd)
            // Bytes after the last counted record: FORMERR, as Knot DNS answers.
            guard end == raw.count else { throw DNSWireError.truncated(at: end) }
            view.edns = edns
        } catch {
            return .failure(.formErr(id: id, flags: flags, questionEnd: questionEnd))
        }
        return .success(view)
    }

    /// Walks the additional section; returns the OPT fields if there is exactly one
    /// well-formed OPT owned by the root (RFC 6891 6.1.1), and where the section ends.
    private static func parseAdditional(
        _ raw: UnsafeRawBufferPointer, count: Int, at start: Int
    ) throws(DNSWireError) -> (EDNSInfo?, Int) {
        var offset = start
        var edns: EDNSInfo? = nil
        for _ in 0..<count {
            let ownerStart = offset
            let next = try WireReader.walkName(raw, at: offset)
            let type = try WireReader.u16(raw, at: next)
            let rrClass = try WireReader.u16(raw, at: next + 2)
            let ttl = try WireReader.u32(raw, at: next + 4)
            let rdLength = Int(try WireReader.u16(raw, at: next + 8))
            let rdStart = next + 10
            guard rdStart + rdLength <= raw.count else { throw .truncated(at: rdStart) }
            if type == RRType.opt.rawValue {
                guard edns == nil, raw[ownerStart] == 0 else { throw .badOPT(at: ownerStart) }
                var option = rdStart
                var cookie = 0..<0
                while option < rdStart + rdLength {
                    guard option + 4 <= rdStart + rdLength else { throw .badOPT(at: option) }
                    let code = try WireReader.u16(raw, at: option)
                    let length = Int(try WireReader.u16(raw, at: option + 2))
                    let data = option + 4
                    option = data + length
                    guard option <= rdStart + rdLength else { throw .badOPT(at: option) }
                    if code == cookieOptionCode, cookie.isEmpty { cookie = data..<option }
                }
                edns = EDNSInfo(
                    udpPayloadSize: rrClass, version: UInt8((ttl >> 16) & 0xFF), dnssecOK: ttl & 0x8000 != 0,
                    cookie: cookie)
                edns?.compactOK = ttl & 0x4000 != 0
            }
            offset = rdStart + rdLength
        }
        return (edns, offset)
    }
}
