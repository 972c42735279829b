import DNSWire
import Testing

@Suite struct RoundTripTests {
    static func record(_ name: String, _ type: RRType, _ rdata: [UInt8], ttl: UInt32 = 300) -> ResourceRecord {
        ResourceRecord(name: try! Name(name), type: type, ttl: ttl, rdata: rdata)
    }
    static let soaRDATA =
        hex("036e73310331627a000a686f73746d61737465720331627a00") + hex("0000000100001c2000000e10001275000000012c")

    static let messages: [Message] = {
        var query = Message()
        query.header.id = 7
        query.header.recursionDesired = true
        query.questions = [Question(name: try! Name("ShAsHi.1bz"), type: .txt)]
        query.edns = EDNS(udpPayloadSize: 4096, dnssecOK: true, options: [(10, [1, 2, 3, 4, 5, 6, 7, 8])])

        var answer = Message()
        answer.header.id = 0xFFFF
        answer.header.isResponse = true
        answer.header.authoritative = true
        answer.questions = [Question(name: try! Name("1bz"), type: .ns)]
        answer.answers = [
            record("1bz", .ns, hex("036e73310331627a00")), record("1bz", .ns, hex("036e73320331627a00")),
        ]
        answer.authorities = [record("1bz", .soa, soaRDATA)]
        answer.additionals = [
            record("ns1.1bz", .a, [192, 0, 2, 53]), record("x.1bz", .mx, [0, 10] + hex("036e73310331627a00")),
            record("u.1bz", RRType(65280), [1, 2, 3]),  // unknown type passes through
        ]

        var badVers = Message()
        badVers.header.isResponse = true
        badVers.edns = EDNS()
        badVers.rcode = .badVers
        badVers.questions = [Question(name: .root, type: .soa, rrClass: .ch)]
        return [query, answer, badVers]
    }()

    @Test(arguments: messages)
    func roundTrips(message: Message) throws {
        let bytes = try message.encoded()
        #expect(try Message(decoding: bytes) == message)
    }

    @Test func extendedRcodeSplitsAcrossHeaderAndOPT() throws {
        let message = Self.messages[2]
        let decoded = try Message(decoding: try message.encoded())
        #expect(decoded.rcode == .badVers)
        #expect(decoded.header.rcodeBits == 0)
        #expect(decoded.edns?.extendedRcode == 1)
    }

    /// Compression: the answer's owners and NS targets point back into the question.
    @Test func compressesNames() throws {
        let message = Self.messages[1]
        let bytes = try message.encoded()
        var uncompressed = 12 + 9
        for record in message.answers + message.authorities + message.additionals {
            uncompressed += record.name.wire.count + 10 + record.rdata.count
        }
        #expect(bytes.count < uncompressed - 20)
        // First answer owner is a pointer to the question name at offset 12.
        #expect(Array(bytes[21..<23]) == [0xC0, 0x0C])
    }

    @Test func headerFlagsRoundTrip() {
        var header = Header()
        for flags: UInt16 in [0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0020, 0x0010, 0x2800, 0x0005, 0x85B3] {
            header.flags = flags
            #expect(header.flags == flags)
        }
    }

    @Test func openTypesKeepUnknownValues() {
        #expect(RRType(65280).description == "TYPE65280")
        #expect(RRType(rawValue: 28) == .aaaa)
        #expect(RRClass(3) == .ch)
        #expect(Rcode(16).description == "BADVERS")
        #expect(Opcode(5) == .update)
    }
}
