import DNSEngine
import DNSTestSupport
import DNSWire
import Synchronization
import Testing
import ZoneCache

/// The seam for chain-backed names: hits answer from the cache, misses ask the
/// transport to resolve, static names and deeper names never reach the source.
@Suite struct DynamicSourceTests {
    final class FakeSource: DynamicAnswerSource {
        let cached: Mutex<[Name: DynamicAnswer]> = Mutex([:])
        let asked: Mutex<[Name]> = Mutex([])

        func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer? {
            let name = Name(uncheckedWire: Array(qname)).lowercased
            asked.withLock { $0.append(name) }
            return cached.withLock { $0[name] }
        }

        func resolve(name: Name, type: RRType) async -> DynamicAnswer { .serverFailure }
    }

    static let shashiA = EngineFixture.record("shashi.1bz", .a, [203, 0, 113, 7], ttl: 60)

    func makeEngine() -> (QueryEngine, FakeSource) {
        let source = FakeSource()
        let engine = QueryEngine(zone: EngineFixture.shippedZone, dynamicSource: source)
        source.cached.withLock {
            $0[try! Name("shashi.1bz")] = .records(name: try! Name("shashi.1bz"), [Self.shashiA])
            $0[try! Name("gone.1bz")] = .nameError
        }
        return (engine, source)
    }

    @Test func cacheHitAnswersWithCaseEcho() throws {
        let (engine, _) = makeEngine()
        let response = try EngineFixture.ask(engine, EngineFixture.query("ShAsHi.1bz", .a))
        #expect(response.rcode == .noError && response.header.authoritative)
        #expect(response.answers.map(\.rdata) == [[203, 0, 113, 7]])
        #expect(response.answers.first?.name.description == "ShAsHi.1bz.")
    }

    @Test func missAsksTheTransportToResolve() throws {
        let (engine, _) = makeEngine()
        let request = EngineFixture.query("other.1bz", .txt)
        let disposition = engine.respond(to: .init(bytes: request), transport: .udp, allocator: .init())
        guard case .lookup(let pending) = disposition else {
            Issue.record("expected a lookup, got \(disposition)")
            return
        }
        #expect(pending == PendingLookup(name: try Name("other.1bz"), type: .txt))
        // After resolving, the transport asks again with the result.
        let failed = try Message(
            decoding: try #require(engine.respond(to: request, transport: .udp, resolved: .serverFailure)))
        #expect(failed.rcode == .servFail)
        let missing = try Message(
            decoding: try #require(engine.respond(to: request, transport: .udp, resolved: .nameError)))
        #expect(missing.rcode == .nxDomain && missing.authorities.map(\.type) == [.soa])
        let noData = try Message(
            decoding: try #require(engine.respond(to: request, transport: .udp, resolved: .noData)))
        #expect(noData.rcode == .noError && noData.answers.isEmpty && noData.authorities.map(\.type) == [.soa])
    }

    /// The source only says "NXDOMAIN"; the engine adds the SOA of the zone it serves
    /// now, so a negative cached before the serial moved carries the new serial.
    @Test func cachedNegativesCarryTheCurrentSerial() throws {
        let (engine, _) = makeEngine()
        let before = try EngineFixture.ask(engine, EngineFixture.query("gone.1bz", .a))
        engine.replaceZone(EngineFixture.shippedZone.withSerial(engine.zone.serial &+ 7))
        let after = try EngineFixture.ask(engine, EngineFixture.query("gone.1bz", .a))
        #expect(before.rcode == .nxDomain && after.rcode == .nxDomain)
        let serial = { (message: Message) in message.authorities.first.map { Array($0.rdata.suffix(20).prefix(4)) } }
        let expected = withUnsafeBytes(of: (engine.zone.serial).bigEndian) { Array($0) }
        #expect(serial(after) == expected && serial(before) != expected)
    }

    @Test(arguments: ["www.1bz", "1bz", "x.shashi.1bz", "x.example.1bz", "info.1bz", "example.com"])
    func staticAndDeepNamesNeverReachTheSource(name: String) throws {
        let (engine, source) = makeEngine()
        _ = try EngineFixture.ask(engine, EngineFixture.query(name, .a))
        #expect(source.asked.withLock { $0.isEmpty })
    }

    @Test func withoutASourceDynamicNamesAreNXDOMAIN() throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone)
        let response = try EngineFixture.ask(engine, EngineFixture.query("shashi.1bz", .a))
        #expect(response.rcode == .nxDomain)
    }
}
