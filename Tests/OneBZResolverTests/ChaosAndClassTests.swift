import DNSWire
import OneBZResolver
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

    @Test(arguments: [RRClass.hs, .any, RRClass(42)])
    func otherClassesAreRefused(rrClass: RRClass) throws {
        let response = try EngineFixture.ask(Self.answering, EngineFixture.query("www.1bz", .a, rrClass: rrClass))
        #expect(response.rcode == .refused)
    }
}
