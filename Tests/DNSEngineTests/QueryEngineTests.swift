import DNSEngine
import DNSTestSupport
import DNSWire
import Testing
import ZoneCache

@Suite struct QueryEngineTests {
    let engine = QueryEngine(zone: EngineFixture.shippedZone)

    struct Expectation: Sendable, CustomTestStringConvertible {
        let name: String
        let type: RRType
        let rcode: Rcode
        let authoritative: Bool
        let answer: [RRType]
        let authority: [RRType]
        let additional: Int
        var testDescription: String { "\(name) \(type)" }
    }

    static let expectations: [Expectation] = [
        .init(
            name: "ns1.1bz", type: .a, rcode: .noError, authoritative: true, answer: [.a], authority: [], additional: 0),
        .init(
            name: "ns2.1bz", type: .aaaa, rcode: .noError, authoritative: true, answer: [.aaaa], authority: [],
            additional: 0),
        .init(
            name: "1bz", type: .soa, rcode: .noError, authoritative: true, answer: [.soa], authority: [], additional: 0),
        .init(
            name: "1bz", type: .ns, rcode: .noError, authoritative: true, answer: [.ns, .ns], authority: [],
            additional: 4),
        .init(
            name: "1bz", type: .mx, rcode: .noError, authoritative: true, answer: [.mx], authority: [], additional: 1),
        // NODATA: the name exists, the type does not.
        .init(
            name: "www.1bz", type: .mx, rcode: .noError, authoritative: true, answer: [], authority: [.soa],
            additional: 0),
        // Empty non-terminal: NODATA, not NXDOMAIN (RFC 8020).
        .init(
            name: "info.1bz", type: .a, rcode: .noError, authoritative: true, answer: [], authority: [.soa],
            additional: 0),
        .init(
            name: "nope.1bz", type: .a, rcode: .nxDomain, authoritative: true, answer: [], authority: [.soa],
            additional: 0),
        .init(
            name: "a.b.www.1bz", type: .a, rcode: .nxDomain, authoritative: true, answer: [], authority: [.soa],
            additional: 0),
        .init(
            name: "x._dns.info.1bz", type: .txt, rcode: .nxDomain, authoritative: true, answer: [], authority: [.soa],
            additional: 0),
        // Referrals: NS in authority, in-bailiwick glue, AA clear.
        .init(
            name: "example.1bz", type: .a, rcode: .noError, authoritative: false, answer: [], authority: [.ns, .ns],
            additional: 2),
        .init(
            name: "example.1bz", type: .ns, rcode: .noError, authoritative: false, answer: [], authority: [.ns, .ns],
            additional: 2),
        .init(
            name: "www.example.1bz", type: .aaaa, rcode: .noError, authoritative: false, answer: [],
            authority: [.ns, .ns], additional: 2),
        .init(
            name: "ns1.example.1bz", type: .a, rcode: .noError, authoritative: false, answer: [],
            authority: [.ns, .ns], additional: 2),
        // DS at the cut belongs to the parent: authoritative answer.
        .init(
            name: "example.1bz", type: .ds, rcode: .noError, authoritative: true, answer: [.ds], authority: [],
            additional: 0),
        .init(
            name: "docs.1bz", type: .a, rcode: .noError, authoritative: true, answer: [.cname, .a], authority: [],
            additional: 0),
        .init(
            name: "docs.1bz", type: .mx, rcode: .noError, authoritative: true, answer: [.cname], authority: [.soa],
            additional: 0),
        // Outside the zone: REFUSED, no AA, no referral to the root.
        .init(
            name: "example.com", type: .a, rcode: .refused, authoritative: false, answer: [], authority: [],
            additional: 0),
        .init(name: ".", type: .ns, rcode: .refused, authoritative: false, answer: [], authority: [], additional: 0),
        .init(
            name: "1bz.com", type: .a, rcode: .refused, authoritative: false, answer: [], authority: [], additional: 0),
        .init(
            name: "1bz", type: .axfr, rcode: .refused, authoritative: false, answer: [], authority: [], additional: 0),
        // Minimal ANY (RFC 8482): one RRset.
        .init(
            name: "www.1bz", type: .any, rcode: .noError, authoritative: true, answer: [.a], authority: [],
            additional: 0),
        .init(
            name: "info.1bz", type: .any, rcode: .noError, authoritative: true, answer: [], authority: [.soa],
            additional: 0),
    ]

    @Test(arguments: expectations)
    func answers(_ expected: Expectation) throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query(expected.name, expected.type))
        #expect(response.header.isResponse)
        #expect(response.rcode == expected.rcode)
        #expect(response.header.authoritative == expected.authoritative)
        #expect(!response.header.truncated)
        #expect(response.answers.map(\.type) == expected.answer)
        #expect(response.authorities.map(\.type) == expected.authority)
        #expect(response.additionals.count == expected.additional)
        #expect(response.questions == [Question(name: try Name(expected.name), type: expected.type)])
    }

    @Test func minimalAnyAtApexIsOneRRset() throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("1bz", .any))
        #expect(Set(response.answers.map(\.type)).count == 1)
        #expect(response.header.authoritative)
    }

    @Test func referralGlueIsInBailiwickOnly() throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("host.example.1bz", .a))
        #expect(response.additionals.allSatisfy { $0.name == (try! Name("ns1.example.1bz")) })
        #expect(!response.authorities.contains { $0.type == .ds })
    }

    @Test func negativeTTLIsSOAMinimum() throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("nope.1bz", .a))
        #expect(response.authorities.first?.ttl == 300)  // min(3600, MINIMUM 300), RFC 2308 3
    }

    @Test(arguments: [UInt16(0), 1, 0xBEEF, 0xFFFF])
    func echoesID(id: UInt16) throws {
        #expect(try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a, id: id)).header.id == id)
        #expect(try EngineFixture.ask(engine, EngineFixture.query("nope.1bz", .a, id: id)).header.id == id)
        #expect(try EngineFixture.ask(engine, EngineFixture.query("x.com", .a, id: id)).header.id == id)
    }

    @Test(arguments: [(UInt16(0x0100), true), (0, false)])
    func echoesRDAndNeverSetsRA(flags: UInt16, rd: Bool) throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a, flags: flags))
        #expect(response.header.recursionDesired == rd)
        #expect(!response.header.recursionAvailable)
    }

    @Test func echoesCD() throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a, flags: 0x0010))
        #expect(response.header.checkingDisabled)
    }

    /// 0x20: the question and the owner names pointing at it keep the asker's case.
    @Test(arguments: ["wWw.1Bz", "NS1.1BZ", "ExAmPlE.1bz", "nOpE.1bZ"])
    func echoesQuestionCase(name: String) throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query(name, .a))
        #expect(response.questions[0].name.description == name + ".")
        if let owner = response.answers.first?.name {
            #expect(owner.description == name + ".")
        }
    }

    @Test func ednsAnswerHasOPTAndCopiesDO() throws {
        let plain = try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a, edns: nil))
        #expect(plain.edns == nil)
        let withEDNS = try EngineFixture.ask(
            engine, EngineFixture.query("www.1bz", .a, edns: EDNS(udpPayloadSize: 4096, dnssecOK: true)))
        #expect(withEDNS.edns?.udpPayloadSize == 1232)
        #expect(withEDNS.edns?.dnssecOK == true)
        #expect(withEDNS.edns?.version == 0)
    }

    @Test(arguments: [UInt8(1), 2, 255])
    func unknownEDNSVersionIsBADVERS(version: UInt8) throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a, edns: EDNS(version: version)))
        #expect(response.rcode == .badVers)
        #expect(response.edns?.version == 0)
        #expect(response.answers.isEmpty)
        #expect(!response.header.authoritative)
    }

    /// Knot DNS 3.2 answers FORMERR to a query with bytes after its last record
    /// (checked against knotd); so do we.
    @Test func trailingGarbageIsFORMERR() throws {
        let response = try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a) + [0xde, 0xad])
        #expect(response.rcode == .formErr)
        #expect(response.answers.isEmpty)
        let plain = try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a, edns: nil) + [0])
        #expect(plain.rcode == .formErr)
    }
}
