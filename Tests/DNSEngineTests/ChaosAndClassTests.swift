import DNSEngine
import DNSTestSupport
import DNSWire
import Testing

@Suite struct ChaosAndClassTests {
    static let answering = QueryEngine(
        zone: EngineFixture.shippedZone, configuration: .init(identity: "ns-test", version: "onebzd 0.1"))
    static let refusing = QueryEngine(
        zone: EngineFixture.shippedZone, configuration: .init(identity: nil, version: nil))

    @Test(arguments: [
        ("version.bind", "onebzd 0.1"), ("VERSION.SERVER", "onebzd 0.1"), ("id.server", "ns-test"),
        ("hostname.bind", "ns-test"),
    ])
    func answersChaosTXT(name: String, text: String) throws {
        let response = try EngineFixture.ask(Self.answering, EngineFixture.query(name, .txt, rrClass: .ch))
        #expect(response.rcode == .noError)
        #expect(response.answers.count == 1)
        #expect(response.answers.first?.rrClass == .ch)
        #expect(response.answers.first?.rdata == [UInt8(text.utf8.count)] + Array(text.utf8))
    }

    @Test(arguments: [("version.bind", RRType.txt), ("id.server", .txt), ("version.bind", .a), ("other.bind", .txt)])
    func refusesChaosWhenDisabledOrUnknown(name: String, type: RRType) throws {
        let engine = type == .txt && name != "other.bind" ? Self.refusing : Self.answering
        let response = try EngineFixture.ask(engine, EngineFixture.query(name, type, rrClass: .ch))
        #expect(response.rcode == .refused)
        #expect(response.answers.isEmpty)
    }

    @Test(arguments: [RRClass.hs, .none, RRClass(42)])
    func otherClassesAreRefused(rrClass: RRClass) throws {
        let response = try EngineFixture.ask(Self.answering, EngineFixture.query("www.1bz", .a, rrClass: rrClass))
        #expect(response.rcode == .refused)
    }

    /// QCLASS ANY (255) is answered exactly as IN, as Knot DNS does: the same records,
    /// AA set, the SOA in negative answers; the question echoes class ANY.
    @Test(arguments: [("www.1bz", RRType.a), ("www.1bz", .txt), ("nothere.1bz", .a), ("x.example.1bz", .a)])
    func classAnyIsAnsweredAsIN(name: String, type: RRType) throws {
        let asIN = try EngineFixture.ask(Self.answering, EngineFixture.query(name, type, rrClass: .in))
        let asAny = try EngineFixture.ask(Self.answering, EngineFixture.query(name, type, rrClass: .any))
        #expect(asAny.rcode == asIN.rcode && asAny.rcode != .refused)
        #expect(asAny.header.authoritative == asIN.header.authoritative)
        #expect(asAny.answers == asIN.answers && asAny.authorities == asIN.authorities)
        #expect(asAny.additionals == asIN.additionals)
        #expect(asAny.questions.first?.rrClass == .any)
    }
}
