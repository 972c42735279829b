import DNSWire
import Testing

/// Packets captured from independent implementations: queries as `dig` 9.18 sends
/// them, responses from NSD 4.6 (captured with `drill -w`), all serving zones/1bz.zone.
@Suite struct GoldenPacketTests {
    /// `dig WwW.1bz AAAA +norec +nocookie`: EDNS 1232, no options, mixed case.
    static let digQuery = hex("9add00200001000000000001035777570331627a00001c000100002904d0000000000000")
    /// `dig ns1.1bz A +cookie=0123456789abcdef +bufsize=4096`: RD and AD set, a COOKIE option.
    static let digCookieQuery = hex(
        "132601200001000000000001036e73310331627a0000010001000029100000000000000c000a00080123456789abcdef")
    /// NSD's answer to `1bz NS` (no EDNS): compressed NS targets and glue.
    static let nsdApexNS = hex(
        """
        4ac5850000010002000000040331627a0000020001c00c0002000100000e100006036e7331c00cc00c0002000100000e10\
        0006036e7332c00cc0210001000100000e100004c0000235c0330001000100000e100004c6336435c021001c000100000e\
        10001020010db8000000000000000000000053c033001c000100000e10001020010db8000100000000000000000053
        """)
    /// NSD's referral for `foo.example.1bz A`: no AA, NS in authority, glue in additional.
    static let nsdReferral = hex(
        """
        78e68100000100000002000203666f6f076578616d706c650331627a0000010001c0100002000100000e100006036e7331\
        c010c0100002000100000e100011026e73076f757473696465047465737400c02d0001000100000e100004c0000264c02d\
        001c000100000e10001020010db8000200000000000000000100
        """)

    @Test func digQueryDecodes() throws {
        let message = try Message(decoding: Self.digQuery)
        #expect(message.header.id == 0x9add)
        #expect(!message.header.isResponse)
        #expect(message.header.authenticData)
        #expect(!message.header.recursionDesired)
        #expect(message.questions == [Question(name: try Name("www.1bz."), type: .aaaa)])
        #expect(message.questions[0].name.description == "WwW.1bz.")  // case preserved
        #expect(message.edns == EDNS(udpPayloadSize: 1232))
        #expect(message.additionals.isEmpty)
    }

    @Test func digCookieQueryDecodes() throws {
        let message = try Message(decoding: Self.digCookieQuery)
        #expect(message.header.recursionDesired)
        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 4096)
        #expect(edns.options.count == 1)
        #expect(edns.options.first?.code == 10)
        #expect(edns.options.first?.data == hex("0123456789abcdef"))
    }

    @Test func nsdApexAnswerDecodes() throws {
        let message = try Message(decoding: Self.nsdApexNS)
        #expect(message.header.isResponse && message.header.authoritative)
        #expect(message.rcode == .noError)
        #expect(message.answers.map(\.type) == [.ns, .ns])
        #expect(message.answers.map(\.targetName) == [try Name("ns1.1bz."), try Name("ns2.1bz.")])
        // The decompressed RDATA is the full name.
        #expect(message.answers[0].rdata == hex("036e73310331627a00"))
        #expect(message.additionals.map(\.type) == [.a, .a, .aaaa, .aaaa])
        #expect(message.additionals[0].name == (try Name("ns1.1bz")))
        #expect(message.additionals[0].rdata == [192, 0, 2, 53])
        #expect(message.additionals[0].ttl == 3600)
    }

    @Test func nsdReferralDecodes() throws {
        let message = try Message(decoding: Self.nsdReferral)
        #expect(!message.header.authoritative)
        #expect(message.answers.isEmpty)
        #expect(message.authorities.map(\.targetName) == [try Name("ns1.example.1bz"), try Name("ns.outside.test")])
        #expect(message.additionals.map(\.name) == [try Name("ns1.example.1bz"), try Name("ns1.example.1bz")])
    }

    /// Re-encoding NSD's answers with our compressor gives byte-identical packets
    /// (same compression choices: first occurrence, longest suffix).
    @Test(arguments: [nsdApexNS, nsdReferral])
    func reencodingMatchesNSD(packet: [UInt8]) throws {
        let message = try Message(decoding: packet)
        #expect(try message.encoded() == packet)
    }

    @Test(arguments: [digQuery, digCookieQuery])
    func reencodingMatchesDig(packet: [UInt8]) throws {
        #expect(try Message(decoding: packet).encoded() == packet)
    }
}
