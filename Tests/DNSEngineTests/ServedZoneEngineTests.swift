import DNSEngine
import DNSSEC
import DNSTestSupport
import DNSWire
import Testing
import ZoneCache

/// `[[zones]]` in the engine: the longest origin answers, wildcards (RFC 4592), the
/// main zone untouched, names under no zone REFUSED.
@Suite struct ServedZoneEngineTests {
    static func zone(_ origin: String, extra: [ResourceRecord] = []) -> Zone {
        let soa = EngineFixture.record(
            origin, .soa,
            EngineFixture.nameRDATA("ns1.\(origin)") + EngineFixture.nameRDATA("h.\(origin)")
                + [0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 60])
        let records =
            [
                soa, EngineFixture.record(origin, .ns, EngineFixture.nameRDATA("ns1.\(origin)")),
                EngineFixture.record("ns1.\(origin)", .a, [192, 0, 2, 53]),
            ] + extra
        return try! Zone(apex: try! Name(origin), records: records)
    }

    static func engine(signer: ZoneSigner? = nil) -> QueryEngine {
        var configuration = QueryEngine.Configuration()
        configuration.servedZones = [
            ServedZone(zone: zone("example."), signer: nil, now: 0),
            ServedZone(
                zone: zone(
                    "gw.example.",
                    extra: [
                        EngineFixture.record("*.gw.example", .a, [192, 0, 2, 80]),
                        EngineFixture.record("static.gw.example", .txt, [2, 104, 105]),
                    ]), signer: signer, now: 1_800_000_000),
        ]
        return QueryEngine(zone: EngineFixture.shippedZone, configuration: configuration)
    }

    @Test func theLongestOriginAnswers() throws {
        let engine = Self.engine()
        let gw = try EngineFixture.ask(engine, EngineFixture.query("gw.example", .soa))
        #expect(gw.rcode == .noError && gw.header.authoritative)
        let apex = try Name("gw.example.")
        #expect(gw.answers.first.flatMap { SerialNumber.of(soa: $0) } == 5 && gw.answers[0].name == apex)
        // A name of example. outside gw.example.: example.'s NXDOMAIN with its SOA.
        let other = try EngineFixture.ask(engine, EngineFixture.query("nothere.example", .a))
        let parent = try Name("example.")
        #expect(other.rcode == .nxDomain && other.authorities.first?.name == parent)
        #expect(try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a)).rcode == .noError)
        #expect(try EngineFixture.ask(engine, EngineFixture.query("gw.other", .a)).rcode == .refused)
    }

    @Test(arguments: ["a.gw.example", "shashi.1bz.gw.example", "A.B.C.gw.example"])
    func wildcardsSynthesiseForTheQueryName(name: String) throws {
        let answer = try EngineFixture.ask(Self.engine(), EngineFixture.query(name, .a))
        #expect(answer.rcode == .noError && answer.header.authoritative)
        let owner = try Name(name)
        #expect(answer.answers.map(\.name) == [owner] && answer.answers[0].rdata == [192, 0, 2, 80])
        // A type the wildcard lacks: NODATA with the SOA.
        let noData = try EngineFixture.ask(Self.engine(), EngineFixture.query(name, .txt))
        #expect(noData.rcode == .noError && noData.answers.isEmpty && noData.authorities.first?.type == .soa)
    }

    @Test func anExistingNameBlocksTheWildcard() throws {
        let engine = Self.engine()
        let node = try EngineFixture.ask(engine, EngineFixture.query("static.gw.example", .a))
        #expect(node.rcode == .noError && node.answers.isEmpty)
        // Below an existing name the closest encloser is that name: no `*.static`: NXDOMAIN.
        #expect(try EngineFixture.ask(engine, EngineFixture.query("x.static.gw.example", .a)).rcode == .nxDomain)
    }

    @Test func aSignedWildcardAnswerCarriesItsSignature() throws {
        let key = try SigningKey.generate(algorithm: .ecdsaP256SHA256)
        let signer = ZoneSigner(apex: try Name("gw.example."), keys: [key], activeKeys: [key])
        let answer = try EngineFixture.ask(
            Self.engine(signer: signer),
            EngineFixture.query("x.gw.example", .a, edns: EDNS(udpPayloadSize: 1232, dnssecOK: true)))
        #expect(answer.answers.map(\.type) == [.a, .rrsig])
        let owner = try Name("x.gw.example.")
        #expect(answer.answers.allSatisfy { $0.name == owner })
    }

    @Test func updatesSwapTheZoneAndRaiseTheSerial() throws {
        let served = ServedZone(zone: Self.zone("gw.example."), signer: nil, now: 0)
        var configuration = QueryEngine.Configuration()
        configuration.servedZones = [served]
        let engine = QueryEngine(zone: EngineFixture.shippedZone, configuration: configuration)
        let challenge = EngineFixture.record("_acme-challenge.gw.example", .txt, [3, 97, 98, 99], ttl: 60)
        served.modify(now: 0) { zone in (ServedZone.records(of: zone) + [challenge], ()) }
        let answer = try EngineFixture.ask(engine, EngineFixture.query("_acme-challenge.gw.example", .txt))
        #expect(answer.answers == [challenge])
        #expect(served.serial == 6)
        // No change, no new serial (RFC 2136 3.6).
        served.modify(now: 0) { zone in (ServedZone.records(of: zone), ()) }
        #expect(served.serial == 6)
    }
}
