import DNSEngine
import DNSTestSupport
import DNSWire
import Testing
import ZoneCache
import ZoneTransfer

/// RFC 2136 narrowed to ACME DNS-01: what is accepted, what is refused and that a
/// refusal changes nothing.
@Suite struct UpdateResponderTests {
    static let key = try! Name("acme-key.")
    static let origin = try! Name("gw.example.")

    static func served() -> ServedZone {
        ServedZone(
            zone: ServedZoneEngineTests.zone(
                "gw.example.", extra: [EngineFixture.record("www.gw.example", .a, [192, 0, 2, 1])]),
            signer: nil, now: 0, updateKeys: [key], maxChallengeRecords: 3)
    }

    static func update(
        _ updates: [ResourceRecord], prerequisites: [ResourceRecord] = [], zone: String = "gw.example."
    ) -> Message {
        var message = Message()
        message.header.opcode = .update
        message.questions = [Question(name: try! Name(zone), type: .soa, rrClass: .in)]
        message.answers = prerequisites
        message.authorities = updates
        return message
    }

    static func txt(_ name: String, _ value: String, rrClass: RRClass = .in, ttl: UInt32 = 60) -> ResourceRecord {
        ResourceRecord(
            name: try! Name(name), type: .txt, rrClass: rrClass, ttl: ttl,
            rdata: value.isEmpty ? [] : [UInt8(value.utf8.count)] + Array(value.utf8))
    }

    @Test func aChallengeIsAddedAndDeleted() {
        let zone = Self.served()
        let responder = UpdateResponder(zones: [zone])
        let added = responder.apply(Self.update([Self.txt("_acme-challenge.gw.example", "t1")]), key: Self.key, now: 0)
        #expect(added.rcode == .noError && added.serial == 6)
        #expect(zone.zone.node(named: try! Name("_acme-challenge.gw.example."))?.rrsets[.txt]?.count == 1)
        let deleted = responder.apply(
            Self.update([Self.txt("_acme-challenge.gw.example", "", rrClass: .any, ttl: 0)]), key: Self.key, now: 0)
        #expect(deleted.rcode == .noError && deleted.serial == 7)
        #expect(zone.zone.node(named: try! Name("_acme-challenge.gw.example.")) == nil)
    }

    @Test(arguments: [
        ("unsigned", [UpdateResponderTests.txt("_acme-challenge.gw.example", "x")], nil as String?, Rcode.refused),
        ("another key", [UpdateResponderTests.txt("_acme-challenge.gw.example", "x")], "other.", .refused),
        (
            "an A record",
            [ResourceRecord(name: try! Name("_acme-challenge.gw.example"), type: .a, ttl: 60, rdata: [1, 2, 3, 4])],
            "acme-key.", .refused
        ),
        ("another owner", [UpdateResponderTests.txt("www.gw.example", "x")], "acme-key.", .refused),
        ("outside the zone", [UpdateResponderTests.txt("_acme-challenge.other.example", "x")], "acme-key.", Rcode(10)),
        (
            "one bad among good",
            [
                UpdateResponderTests.txt("_acme-challenge.gw.example", "ok"),
                UpdateResponderTests.txt("www.gw.example", "x"),
            ], "acme-key.", .refused
        ),
        (
            "past the limit", (1...4).map { UpdateResponderTests.txt("_acme-challenge.gw.example", "v\($0)") },
            "acme-key.", .refused
        ),
        (
            "a deletion of all types",
            [
                ResourceRecord(
                    name: try! Name("_acme-challenge.gw.example"), type: .any, rrClass: .any, ttl: 0, rdata: [])
            ], "acme-key.", .refused
        ),
    ])
    func refusedUpdatesChangeNothing(what: String, updates: [ResourceRecord], key: String?, rcode: Rcode) {
        let zone = Self.served()
        let verdict = UpdateResponder(zones: [zone]).apply(
            Self.update(updates), key: key.map { try! Name($0) }, now: 0)
        #expect(verdict.rcode == rcode, "\(what): \(verdict.reason ?? "")")
        #expect(zone.serial == 5, "\(what) changed the zone")
    }

    @Test func otherZonesAreNotAuth() {
        let verdict = UpdateResponder(zones: [Self.served()]).apply(
            Self.update([Self.txt("_acme-challenge.1bz", "x")], zone: "1bz."), key: Self.key, now: 0)
        #expect(verdict.rcode == .notAuth)
    }

    @Test func existencePrerequisitesAreChecked() {
        let zone = Self.served()
        let responder = UpdateResponder(zones: [zone])
        let absent = ResourceRecord(
            name: try! Name("_acme-challenge.gw.example"), type: .txt, rrClass: .none, ttl: 0, rdata: [])
        let first = responder.apply(
            Self.update([Self.txt("_acme-challenge.gw.example", "a")], prerequisites: [absent]), key: Self.key, now: 0)
        #expect(first.rcode == .noError)
        // The RRset exists now: the same prerequisite fails with YXRRSET (7).
        let second = responder.apply(
            Self.update([Self.txt("_acme-challenge.gw.example", "b")], prerequisites: [absent]), key: Self.key, now: 0)
        #expect(second.rcode == Rcode(7) && zone.serial == 6)
    }
}
