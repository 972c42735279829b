import DNSEngine
import DNSSEC
import DNSTestSupport
import DNSWire
import Synchronization
import Testing
import ZoneCache

/// `denial = "nsec3"` in the engine: DO=1 negatives carry the NSEC3 proof copied from
/// the published chain (NXDOMAIN stays NXDOMAIN, CO or not), referrals to an insecure
/// delegation the cut's NSEC3 before the glue, DO=0 unchanged; without a published
/// chain, compact denial and a counted fallback.
@Suite struct NSEC3DenialEngineTests {
    static let now = DNSSECSigningTests.now
    static let signer = DNSSECSigningTests.signer

    /// Counts the engine's fallbacks to compact denial.
    final class Fallbacks: Sendable {
        let count = Atomic<Int>(0)
    }

    static func records(_ zone: Zone) -> [ResourceRecord] {
        zone.nodes.flatMap { node in node.types.flatMap { node.rrsets[$0] ?? [] } }
    }

    static func engine(_ zone: Zone, published: Bool) throws -> (QueryEngine, Fallbacks) {
        let fallbacks = Fallbacks()
        let chain = NSEC3DenialChain(onFallback: { _ = fallbacks.count.add(1, ordering: .relaxed) })
        if published {
            chain.publish(try NSEC3ZoneMaintainer(zone: records(zone), signer: signer, now: now).signedZone)
        }
        var configuration = QueryEngine.Configuration()
        configuration.nsec3Denial = chain
        return (QueryEngine(zone: zone, configuration: configuration, signer: signer, unixTime: now), fallbacks)
    }

    static func hashed(_ name: String) -> Name {
        NSEC3Parameters.rfc9276.hashedOwner(NSEC3Parameters.rfc9276.hash(try! Name(name)), apex: EngineFixture.apex)
    }

    @Test func nameErrorIsNXDOMAINWithTheClosestEncloserProof() throws {
        let (engine, fallbacks) = try Self.engine(EngineFixture.shippedZone, published: true)
        for compactOK in [false, true] {
            for name in ["No.Such.1bz", "nope.1bz", "a.b.c.www.1bz"] {
                let response = try EngineFixture.ask(engine, DNSSECSigningTests.doQuery(name, .a, compactOK: compactOK))
                #expect(response.rcode == .nxDomain && response.answers.isEmpty, "\(name)")
                let types = response.authorities.map(\.type)
                #expect(Array(types.prefix(2)) == [.soa, .rrsig], "\(name)")
                let nsec3s = response.authorities.filter { $0.type == .nsec3 }
                // One to three: an NSEC3 that also covers another target appears once.
                #expect((1...3).contains(nsec3s.count), "\(name): \(types)")
                #expect(response.authorities.filter { $0.type == .rrsig }.count == 1 + nsec3s.count)
                #expect(!types.contains(.nsec))
            }
        }
        let deep = try EngineFixture.ask(engine, DNSSECSigningTests.doQuery("a.b.c.www.1bz", .a))
        #expect(deep.authorities.first { $0.type == .nsec3 }?.name == Self.hashed("www.1bz."), "closest encloser first")
        // DO=0: the plain NXDOMAIN, byte for byte as without DNSSEC.
        let plain = EngineFixture.query("no.such.1bz", .a)
        #expect(
            engine.respond(to: plain, transport: .udp)
                == DNSSECSigningTests.plainEngine.respond(to: plain, transport: .udp))
        #expect(fallbacks.count.load(ordering: .relaxed) == 0)
    }

    @Test func noDataIsTheMatchingNSEC3() throws {
        let (engine, _) = try Self.engine(EngineFixture.shippedZone, published: true)
        for (name, type) in [("www.1bz", RRType.txt), ("info.1bz", .a), ("1bz", .aaaa)] {
            let response = try EngineFixture.ask(engine, DNSSECSigningTests.doQuery(name, type))
            #expect(response.rcode == .noError && response.answers.isEmpty, "\(name) \(type)")
            #expect(response.authorities.map(\.type) == [.soa, .rrsig, .nsec3, .rrsig], "\(name) \(type)")
            #expect(response.authorities[2].name == Self.hashed(name + "."), "\(name) \(type)")
        }
    }

    @Test func insecureReferralCarriesTheCutsNSEC3BeforeTheGlue() throws {
        let records = Self.records(EngineFixture.shippedZone).filter { $0.type != .ds }
        let zone = try Zone(apex: EngineFixture.apex, records: records, source: "no DS")
        let (engine, _) = try Self.engine(zone, published: true)
        let referral = try EngineFixture.ask(engine, DNSSECSigningTests.doQuery("host.example.1bz", .a))
        #expect(referral.authorities.map(\.type) == [.ns, .ns, .nsec3, .rrsig], "\(referral.authorities)")
        #expect(referral.authorities[2].name == Self.hashed("example.1bz."))
        #expect(!referral.additionals.isEmpty && referral.additionals.allSatisfy { $0.type == .a || $0.type == .aaaa })
        let ds = try EngineFixture.ask(engine, DNSSECSigningTests.doQuery("example.1bz", .ds))
        #expect(ds.authorities.map(\.type) == [.soa, .rrsig, .nsec3, .rrsig])
    }

    @Test func withoutAChainItFallsBackToCompactDenial() throws {
        let (engine, fallbacks) = try Self.engine(EngineFixture.shippedZone, published: false)
        let response = try EngineFixture.ask(engine, DNSSECSigningTests.doQuery("no.such.1bz", .a))
        #expect(response.rcode == .noError)
        #expect(response.authorities.map(\.type) == [.soa, .rrsig, .nsec, .rrsig])
        #expect(fallbacks.count.load(ordering: .relaxed) == 1)
    }
}
