import Testing

@testable import DNSWire

/// SVCB/HTTPS RDATA against RFC 9460 Appendix D: the encoder writes the test vectors,
/// the strict parser reads them back and refuses the failure cases (D.3).
@Suite struct SVCBTests {
    // D.2, figure 7: `16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1`.
    static let figure7 = hex(
        """
        0010 03666f6f076578616d706c65036f726700
        0000 0004 0001 0004
        0001 0009 02683205 68332d3139
        0004 0004 c0000201
        """)

    @Test func encoderWritesTheRFCVectorsInKeyOrder() throws {
        // Parameters given out of order: the encoder sorts them (RFC 9460 2.2).
        let record = SVCBRDATA(
            priority: 16, target: try Name("foo.example.org."),
            params: [
                .ipv4hint([[192, 0, 2, 1]]), try .alpn(["h2", "h3-19"]), .mandatory([.ipv4hint, .alpn]),
            ])
        #expect(try record.encoded() == Self.figure7)
        // D.2, figure 3: `1 . port=53`.
        #expect(
            try SVCBRDATA(priority: 1, target: .root, params: [.port(53)]).encoded() == hex("0001 00 0003 0002 0035"))
        // D.2, figure 5: `1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1`.
        let v6a = hex("20010db8000000000000000000000001")
        let v6b = hex("20010db8000000000000000000530001")
        let figure5 = try SVCBRDATA(priority: 1, target: try Name("foo.example.com."), params: [.ipv6hint([v6a, v6b])])
            .encoded()
        #expect(figure5 == hex("0001 03666f6f076578616d706c6503636f6d00 0006 0020") + v6a + v6b)
        // D.1 AliasMode: `0 foo.example.com.`.
        #expect(
            try SVCBRDATA(priority: 0, target: try Name("foo.example.com."), params: []).encoded()
                == hex("0000 03666f6f076578616d706c6503636f6d00"))
    }

    @Test func parserRoundTrips() throws {
        let parsed = try SVCBRDATA(parsing: Self.figure7)
        #expect(parsed.priority == 16)
        #expect(parsed.target == (try Name("foo.example.org.")))
        #expect(parsed.params.map(\.key) == [.mandatory, .alpn, .ipv4hint])
        #expect(try parsed.encoded() == Self.figure7)
    }

    @Test(arguments: [
        ("0001 00 0003 0002 0035 0001 0003 026832", "keys out of order"),
        ("0001 00 0003 0002 0035 0003 0002 0035", "duplicate key"),
        ("0001 00 0000 0002 0001", "mandatory key missing"),
        ("0001 00 0000 0002 0000 0003 0002 0035", "mandatory lists mandatory"),
        ("0001 00 0000 0004 0003 0003 0003 0002 0035", "mandatory repeats a key"),
        ("0001 00 0003 0003 003500", "port of 3 octets"),
        ("0001 00 0004 0003 c00002", "ipv4hint not a multiple of 4"),
        ("0001 00 0006 0000", "empty ipv6hint"),
        ("0001 00 0001 0003 036832", "alpn id runs past its value"),
        ("0001 00 0001 0001 00", "empty alpn id"),
        ("0001 00 0002 0000", "no-default-alpn without alpn"),
        ("0001 00 0003 0002 00", "value runs past the RDATA"),
        ("0001 00 0003 00", "parameter header runs past the RDATA"),
        ("0000 00 0003 0002 0035", "AliasMode with parameters"),
        ("0001 c00c", "compressed target"),
        ("0001 03666f6f", "target runs past the RDATA"),
        ("00", "too short"),
        ("0001 00 ffff 0000", "key65535"),
    ])
    func strictParserRefuses(rdata: String, why: String) {
        #expect(throws: SVCBError.self, "\(why)") { try SVCBRDATA(parsing: hex(rdata)) }
    }

    @Test func encoderRefusesWhatTheParserWould() {
        #expect(throws: SVCBError.self) {
            try SVCBRDATA(priority: 1, target: .root, params: [.port(1), .port(2)]).encoded()
        }
        #expect(throws: SVCBError.self) {
            try SVCBRDATA(priority: 1, target: .root, params: [.mandatory([.port])]).encoded()
        }
        #expect(throws: SVCBError.self) { try SVCBRDATA.SvcParam.alpn([""]) }
        #expect(throws: SVCBError.self) { try SVCBRDATA.SvcParam.alpn([String(repeating: "x", count: 256)]) }
        #expect(throws: SVCBError.self) { try SVCBRDATA(priority: 1, target: .root, params: [.ipv4hint([])]).encoded() }
    }

    @Test func unknownKeysPassThrough() throws {
        let rdata = hex("0001 00 0007 0003 616263 0200 0000")
        let parsed = try SVCBRDATA(parsing: rdata)
        #expect(parsed.params.map(\.key.description) == ["key7", "key512"])
        #expect(try parsed.encoded() == rdata)
    }
}
