import DNSEngine
import DNSTestSupport
import DNSWire
import Testing

/// RFC 1035 4.2.1 (512 without EDNS), RFC 6891 6.2.5 (the client's size, floored at 512,
/// capped by ours: 1232), TC=1 with a minimal answer when it does not fit.
@Suite struct TruncationTests {
    let engine = QueryEngine(zone: EngineFixture.sizedZone)

    @Test(
        arguments: [
            // name, EDNS size (nil = no EDNS), transport, truncated?
            ("big.1bz", UInt16?.none, Transport.udp, true),
            ("big.1bz", 4096, .udp, true),
            ("big.1bz", 65535, .udp, true),
            ("big.1bz", nil, .tcp, false),
            ("medium.1bz", nil, .udp, true),
            ("medium.1bz", 512, .udp, true),
            ("medium.1bz", 100, .udp, true),  // below 512 counts as 512
            ("medium.1bz", 1232, .udp, false),
            ("medium.1bz", 4096, .udp, false),
        ] as [(String, UInt16?, Transport, Bool)])
    func sizeLimits(name: String, size: UInt16?, transport: Transport, truncated: Bool) throws {
        let request = EngineFixture.query(name, .txt, edns: size.map { EDNS(udpPayloadSize: $0) })
        let bytes = try #require(engine.respond(to: request, transport: transport))
        let response = try Message(decoding: bytes)
        #expect(response.header.truncated == truncated)
        if transport == .udp {
            #expect(bytes.count <= (size == nil ? 512 : min(1232, max(512, Int(size!)))))
        }
        if truncated {
            // Minimal: question (and OPT) only.
            #expect(response.answers.isEmpty && response.authorities.isEmpty && response.additionals.isEmpty)
            #expect(response.questions.count == 1)
            #expect(response.header.authoritative)
            #expect((response.edns != nil) == (size != nil))
        } else {
            #expect(!response.answers.isEmpty)
        }
    }

    /// Optional additional data is left out before anything is truncated.
    @Test func dropsAnswerGlueBeforeTruncating() throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("mx.1bz", .mx, edns: nil))
        #expect(!response.header.truncated)
        #expect(response.answers.count == 20)
        #expect(response.additionals.isEmpty)
        let tcp = try EngineFixture.ask(engine, EngineFixture.query("mx.1bz", .mx, edns: nil), transport: .tcp)
        #expect(tcp.additionals.count == 20)
    }

    /// Referral glue is required (RFC 9471): no room means TC=1.
    @Test func truncatesReferralsWhoseGlueDoesNotFit() throws {
        let udp = try EngineFixture.ask(engine, EngineFixture.query("x.wide.1bz", .a, edns: nil))
        #expect(udp.header.truncated)
        #expect(!udp.header.authoritative)
        let tcp = try EngineFixture.ask(engine, EngineFixture.query("x.wide.1bz", .a, edns: nil), transport: .tcp)
        #expect(!tcp.header.truncated)
        #expect(tcp.authorities.count == 20 && tcp.additionals.count == 20)
    }
}
