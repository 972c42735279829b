import ChainReader
import DNSEngine
import DNSSEC
import DNSTestSupport
import DNSWire
import NIOConcurrencyHelpers
import NodeRegistry
import Testing
import ZoneCache

@testable import OneBZResolver

/// Signing of chain-backed answers, with fake clocks: signed once when the answer is
/// cached, served from the cache unchanged, re-signed when an event drops the name or
/// the signature nears its refresh time; never served expired; DO=0 unchanged.
@Suite struct DynamicSigningTests {
    typealias Chain = DynamicNodeSourceTests.FaultInjectingChain

    static let key = try! SigningKey.generate(algorithm: .ecdsaP256SHA256)
    static let signer = ZoneSigner(apex: EngineFixture.apex, keys: [key])
    static let start: UInt32 = 1_780_000_000

    struct Fixture {
        let chain = Chain(["shashi.1bz": DynamicNodeSourceTests.shashi])
        let monotonic = NIOLockedValueBox<UInt64>(1_000)
        let wall = NIOLockedValueBox<UInt32>(DynamicSigningTests.start)
        let head = ChainHead()
        let source: DynamicNodeSource
        let engine: QueryEngine

        init(positiveTTL: UInt32 = 60, signed: Bool = true) {
            var settings = DynamicNodeSource.Settings()
            settings.missTimeout = nil  // no deadline: a loaded machine is slow, not wrong
            settings.positiveTTL = positiveTTL
            settings.limits = AnswerCacheLimits(maxEntries: 100, maxBytes: 1 << 20, maxStaleNanoseconds: 3_600_000_000_000)
            let wall = self.wall
            if signed { settings.signer = { DynamicSigningTests.signer } }
            settings.wallClock = { wall.withLockedValue { $0 } }
            let monotonic = self.monotonic
            source = DynamicNodeSource(
                resolver: NodeResolver(chain: chain, registry: nil), head: head, settings: settings,
                now: { monotonic.withLockedValue { $0 } })
            engine = QueryEngine(
                zone: EngineFixture.shippedZone, dynamicSource: source, signer: signed ? DynamicSigningTests.signer : nil,
                unixTime: DynamicSigningTests.start)
            head.advance(to: 7)
        }

        func advance(seconds: UInt32) {
            monotonic.withLockedValue { $0 += UInt64(seconds) * 1_000_000_000 }
            wall.withLockedValue { $0 += seconds }
        }

        func ask(_ name: String, _ type: RRType = .txt, dnssec: Bool = true) async throws -> Message {
            try Message(decoding: try await raw(name, type, dnssec: dnssec))
        }

        func raw(_ name: String, _ type: RRType = .txt, dnssec: Bool = true) async throws -> [UInt8] {
            let request = EngineFixture.query(name, type, edns: EDNS(udpPayloadSize: 1232, dnssecOK: dnssec))
            if let answer = engine.respond(to: request, transport: .udp) { return answer }
            let resolved = await source.resolve(name: try Name(name), type: type)
            return try #require(engine.respond(to: request, transport: .udp, resolved: resolved))
        }
    }

    static func times(_ rrsig: ResourceRecord) -> (inception: UInt32, expiration: UInt32) {
        let value = { (range: Range<Int>) in rrsig.rdata[range].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        return (value(12..<16), value(8..<12))
    }

    @Test func signedOnceThenServedFromTheCache() async throws {
        let f = Fixture()
        let first = try await f.ask("shashi.1bz")
        #expect(first.answers.filter { $0.type == .rrsig }.count == 1)
        #expect(first.answers.filter { $0.type == .txt }.count >= 2)
        let rrsig = try #require(first.answers.last)
        #expect(Self.times(rrsig) == (Self.start - 3600, Self.start + 2 * 86_400))
        f.advance(seconds: 10)
        let second = try await f.ask("ShAsHi.1bz")
        #expect(second.answers.last?.rdata == rrsig.rdata, "the cached signature, not a new one")
        #expect(f.chain.calls.withLockedValue { $0 } == 1)
    }

    @Test func answersWithoutDOAreUnchanged() async throws {
        let signed = Fixture()
        let plain = Fixture(signed: false)
        for (name, type) in [("shashi.1bz", RRType.txt), ("shashi.1bz", .a), ("nobody.1bz", .a)] {
            let a = try await signed.raw(name, type, dnssec: false)
            let b = try await plain.raw(name, type, dnssec: false)
            #expect(a == b, "\(name) \(type)")
        }
    }

    @Test func negativesCarryTheirCachedDenial() async throws {
        let f = Fixture()
        let missing = try await f.ask("nobody.1bz", .a)
        #expect(missing.rcode == .noError)
        try #require(missing.authorities.map(\.type) == [.soa, .rrsig, .nsec, .rrsig])
        let bitmap = Array(missing.authorities[2].rdata.dropFirst(try Name("\\000.nobody.1bz").wire.count))
        #expect(bitmap == TypeBitmap.encode([.rrsig, .nsec, .nxname]))
        // NODATA: shashi has no addresses here (no registry), TXT exists.
        let noA = try await f.ask("shashi.1bz", .a)
        try #require(noA.authorities.count == 4, "\(noA)")
        let noABitmap = Array(noA.authorities[2].rdata.dropFirst(try Name("\\000.shashi.1bz").wire.count))
        #expect(noABitmap == TypeBitmap.encode([.txt, .rrsig, .nsec]))
        let again = try await f.ask("nobody.1bz", .a)
        try #require(again.authorities.count == 4, "\(again)")
        #expect(again.authorities[2...] == missing.authorities[2...], "the cached NSEC and its signature")
        #expect(f.chain.calls.withLockedValue { $0 } == 2)
    }

    @Test func aChainEventDropsTheSignatureWithTheAnswer() async throws {
        let f = Fixture()
        let before = try await f.ask("shashi.1bz")
        f.advance(seconds: 5)
        f.source.invalidate(nodeHash: DynamicNodeSourceTests.hash)
        let after = try await f.ask("shashi.1bz")
        #expect(f.chain.calls.withLockedValue { $0 } == 2)
        #expect(Self.times(try #require(after.answers.last)).inception == Self.start + 5 - 3600)
        #expect(after.answers.last?.rdata != before.answers.last?.rdata)
    }

    @Test func aSignatureNearItsRefreshIsNeverServedFromTheCache() async throws {
        // A TTL longer than the signature's life in the cache (2 d validity, 0.5 d refresh).
        let f = Fixture(positiveTTL: 3 * 86_400)
        let first = try await f.ask("shashi.1bz")
        f.advance(seconds: 86_400)
        #expect(try await f.ask("shashi.1bz").answers.last?.rdata == first.answers.last?.rdata)
        f.advance(seconds: 86_400 / 2)  // 1.5 d: the refresh time
        let renewed = try await f.ask("shashi.1bz")
        let times = Self.times(try #require(renewed.answers.last))
        #expect(times.inception == Self.start + 86_400 * 3 / 2 - 3600)
        #expect(times.expiration > f.wall.withLockedValue { $0 })
    }

    @Test func staleAnswersCarryEDE3() async throws {
        let f = DynamicNodeSourceTests.Fixture()
        _ = try await f.ask("shashi.1bz")
        f.clock.advance(seconds: 61)
        f.chain.failing.withLockedValue { $0 = true }
        let stale = try await f.ask("shashi.1bz")
        let codes = (stale.edns?.options ?? []).filter { $0.code == 15 }.map(\.data)
        #expect(stale.rcode == .noError && codes == [[0, 3]])
        let failed = try await f.ask("other.1bz")
        #expect(failed.rcode == .servFail)
        #expect((failed.edns?.options ?? []).filter { $0.code == 15 }.map(\.data) == [[0, 22]])
    }
}
