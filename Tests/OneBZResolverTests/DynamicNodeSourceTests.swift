import ChainReader
import DNSEngine
import DNSTestSupport
import DNSWire
import NIOConcurrencyHelpers
import NodeRegistry
import Testing
import ZoneCache

@testable import OneBZResolver

/// The dynamic source's policy without sockets: a fault-injecting chain fake (named as
/// such) stands in for the RPC so failures, counts and timing are under the test's control.
@Suite("DynamicNodeSource", .timeLimit(.minutes(3)))
struct DynamicNodeSourceTests {
    /// FAKE chain for fault injection: knows a fixed set of names, can be told to fail
    /// or to block until released, and counts calls.
    final class FaultInjectingChain: ChainNodeReader {
        struct Down: Error {}
        let nodes: NIOLockedValueBox<[String: ResolvedNode]>
        let failing = NIOLockedValueBox(false)
        let calls = NIOLockedValueBox(0)
        let gate = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let gated = NIOLockedValueBox(false)

        init(_ nodes: [String: ResolvedNode]) { self.nodes = NIOLockedValueBox(nodes) }

        func lookup(_ name: String, at block: UInt64) async throws -> ResolvedNode? {
            calls.withLockedValue { $0 += 1 }
            if gated.withLockedValue({ $0 }) {
                await withCheckedContinuation { continuation in gate.withLockedValue { $0 = continuation } }
            }
            if failing.withLockedValue({ $0 }) { throw Down() }
            return nodes.withLockedValue { $0[name] }
        }

        func node(_ nodeHash: Bytes32, at block: UInt64) async throws -> Node? {
            if failing.withLockedValue({ $0 }) { throw Down() }
            return nodes.withLockedValue { $0.values.first { $0.nodeHash == nodeHash }?.node }
        }

        func release() { gate.withLockedValue { $0?.resume(); $0 = nil } }
    }

    final class ManualClock: Sendable {
        let nanoseconds = NIOLockedValueBox<UInt64>(1_000)
        func advance(seconds: UInt64) { nanoseconds.withLockedValue { $0 += seconds * 1_000_000_000 } }
    }

    static let hash = Bytes32(Array(repeating: 0x11, count: 32))!
    static let wallet = EthereumAddress(Array(repeating: 0x22, count: 20))!
    static let shashi = ResolvedNode(
        nodeHash: hash, node: Node(wallet: wallet, dnsName: "shashi.1bz", verified: true, stakeAmount: .zero, registeredAt: 1))

    struct Fixture {
        let chain: FaultInjectingChain
        let clock = ManualClock()
        let head = ChainHead()
        let source: DynamicNodeSource
        let engine: QueryEngine

        /// `missTimeout` nil: no deadline, so no test depends on the machine's speed
        /// (the deadline has its own test, with a chain that never answers in time).
        init(synced: Bool = true, missTimeout: Duration? = nil) {
            chain = FaultInjectingChain(["shashi.1bz": DynamicNodeSourceTests.shashi])
            var settings = DynamicNodeSource.Settings()
            settings.positiveTTL = 60
            settings.missTimeout = missTimeout
            settings.limits = AnswerCacheLimits(maxEntries: 100, maxBytes: 1 << 20, maxStaleNanoseconds: 3_600_000_000_000)
            let clock = self.clock
            source = DynamicNodeSource(
                resolver: NodeResolver(chain: chain, registry: nil), head: head, settings: settings,
                now: { clock.nanoseconds.withLockedValue { $0 } })
            engine = QueryEngine(zone: EngineFixture.shippedZone, dynamicSource: source)
            if synced { head.advance(to: 7) }
        }

        /// Asks like a transport does: cache, else resolve and answer.
        func ask(_ name: String, _ type: RRType = .txt) async throws -> Message {
            let request = EngineFixture.query(name, type)
            if let answer = engine.respond(to: request, transport: .udp) { return try Message(decoding: answer) }
            let resolved = await source.resolve(name: try Name(name), type: type)
            return try Message(decoding: engine.respond(to: request, transport: .udp, resolved: resolved)!)
        }
    }

    static func txt(_ message: Message) -> [String] {
        message.answers.map { String(decoding: $0.rdata.dropFirst(), as: UTF8.self) }
    }

    @Test func answersFromChainThenFromCache() async throws {
        let f = Fixture()
        let first = try await f.ask("shashi.1bz")
        #expect(first.rcode == .noError && first.header.authoritative)
        #expect(Self.txt(first).contains("verified=yes"))
        #expect(Self.txt(first).contains("wallet=0x" + String(repeating: "22", count: 20)))
        _ = try await f.ask("SHASHI.1bz")
        #expect(f.chain.calls.withLockedValue { $0 } == 1)
        // Without registry metadata there are no addresses: NODATA, not NXDOMAIN.
        let a = try await f.ask("shashi.1bz", .a)
        #expect(a.rcode == .noError && a.answers.isEmpty && a.authorities.first?.type == .soa)
        #expect(f.chain.calls.withLockedValue { $0 } == 1, "other types answer from the cached facts")
    }

    @Test func unknownNameIsNXDOMAINAndNegativelyCached() async throws {
        let f = Fixture()
        #expect(try await f.ask("nobody.1bz").rcode == .nxDomain)
        #expect(try await f.ask("nobody.1bz").rcode == .nxDomain)
        #expect(f.chain.calls.withLockedValue { $0 } == 1)
        // NodeRegistered drops the negative entry.
        f.chain.nodes.withLockedValue { $0["nobody.1bz"] = DynamicNodeSourceTests.shashi }
        f.source.invalidate(name: .alias("nobody.1bz"))
        #expect(try await f.ask("nobody.1bz").rcode == .noError)
    }

    @Test func failureServesStaleWithShortTTLElseSERVFAILNeverNXDOMAIN() async throws {
        let f = Fixture()
        _ = try await f.ask("shashi.1bz")
        f.clock.advance(seconds: 61)  // past the positive TTL
        f.chain.failing.withLockedValue { $0 = true }
        let stale = try await f.ask("shashi.1bz")
        #expect(stale.rcode == .noError && Self.txt(stale).contains("verified=yes"))
        #expect(stale.answers.allSatisfy { $0.ttl == 30 })
        let uncached = try await f.ask("other.1bz")
        #expect(uncached.rcode == .servFail)
        // Past max-stale nothing is left: SERVFAIL, still not NXDOMAIN.
        f.clock.advance(seconds: 7200)
        #expect(try await f.ask("shashi.1bz").rcode == .servFail)
    }

    /// One cache entry per name holds the answers of every type asked; an answer
    /// rendered from stale facts lives only the stale TTL, and invalidation drops them all.
    @Test func oneEntryPerNameHoldsEveryTypeWithItsOwnExpiry() async throws {
        let f = Fixture()
        func cached(_ type: RRType) throws -> Bool {
            if f.source.cachedAnswer(name: try Name("ShAsHi.1bz"), type: type) != nil { return true }
            return false
        }
        _ = try await f.ask("shashi.1bz", .txt)
        _ = try await f.ask("shashi.1bz", .a)
        #expect(try cached(.txt) && cached(.a) && !cached(.aaaa))
        #expect(f.source.cachedNameCount == 1)
        f.clock.advance(seconds: 61)  // facts and answers past the positive TTL
        #expect(try !cached(.txt))
        f.chain.failing.withLockedValue { $0 = true }
        #expect(try await f.ask("shashi.1bz", .txt).answers.allSatisfy { $0.ttl == 30 })
        #expect(try cached(.txt) && !cached(.a), "only the stale-served type was rendered")
        f.clock.advance(seconds: 31)  // past the stale TTL, facts still within max-stale
        #expect(try !cached(.txt))
        #expect(try await f.ask("shashi.1bz", .txt).rcode == .noError, "served stale again")
        f.source.invalidate(nodeHash: Self.hash)
        #expect(try !cached(.txt) && f.source.cachedNameCount == 0)
    }

    @Test func notSyncedIsSERVFAIL() async throws {
        let f = Fixture(synced: false)
        #expect(try await f.ask("shashi.1bz").rcode == .servFail)
        #expect(f.chain.calls.withLockedValue { $0 } == 0)
    }

    @Test func invalidationDuringALookupKeepsItsResultOutOfTheCache() async throws {
        let f = Fixture()
        f.chain.gated.withLockedValue { $0 = true }
        async let first = f.ask("shashi.1bz")
        while f.chain.gate.withLockedValue({ $0 == nil }) { try await Task.sleep(for: .milliseconds(1)) }
        f.source.invalidate(nodeHash: Self.hash)  // the chain changed while we were asking
        f.chain.gated.withLockedValue { $0 = false }
        f.chain.release()
        #expect(try await first.rcode == .noError)
        _ = try await f.ask("shashi.1bz")
        #expect(f.chain.calls.withLockedValue { $0 } == 2, "the outdated result was not cached")
    }

    /// A lookup slower than the miss timeout: the query gets SERVFAIL at the timeout
    /// (nothing stale to serve), the lookup runs on and caches, and the retry is a hit.
    @Test func slowLookupIsSERVFAILAtTheMissTimeoutThenCachedForTheRetry() async throws {
        let f = Fixture(missTimeout: .milliseconds(100))
        f.chain.gated.withLockedValue { $0 = true }
        #expect(try await f.ask("shashi.1bz").rcode == .servFail)
        f.chain.gated.withLockedValue { $0 = false }
        f.chain.release()
        let name = try Name("shashi.1bz")
        for _ in 0..<200 {
            if f.source.cachedAnswer(name: name, type: .txt) != nil { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(try await f.ask("shashi.1bz").rcode == .noError)
        #expect(f.chain.calls.withLockedValue { $0 } == 1, "the timed-out lookup was not repeated")
    }

    @Test func jsonLookupSharesTheCache() async throws {
        let f = Fixture()
        let info = try await f.source.lookupNode("ShAsHi.1bz.")
        #expect(info.name == "shashi.1bz" && info.verified && info.block == 7 && !info.metadataVerified)
        #expect(info.nodeHash == Self.hash.hex && info.ipv4.isEmpty)
        _ = try await f.ask("shashi.1bz")
        #expect(f.chain.calls.withLockedValue { $0 } == 1)
        await #expect(throws: NodeLookupError.notFound) { _ = try await f.source.lookupNode("nobody.1bz") }
        f.chain.failing.withLockedValue { $0 = true }
        await #expect(throws: NodeLookupError.self) { _ = try await f.source.lookupNode("other.1bz") }
    }

    @Test func chainEventsApplyAtSyncAfterTheHeadMoved() async throws {
        let f = Fixture()
        let synced = NIOLockedValueBox<[UInt64]>([])
        let changes = NIOLockedValueBox<[Bool]>([])
        let applier = ChainEventApplier(source: f.source, head: f.head) { block, changed in
            synced.withLockedValue { $0.append(block) }
            changes.withLockedValue { $0.append(changed) }
        }
        _ = try await f.ask("shashi.1bz")
        await applier.handle(.verified(nodeHash: Self.hash))
        _ = try await f.ask("shashi.1bz")
        #expect(f.chain.calls.withLockedValue { $0 } == 1, "held until the block is synced")
        await applier.handle(.synced(block: 9))
        #expect(f.head.current == 9 && synced.withLockedValue { $0 } == [9])
        _ = try await f.ask("shashi.1bz")
        #expect(f.chain.calls.withLockedValue { $0 } == 2, "dropped at sync, looked up again at block 9")

        // A registration drops the name's negative entry; a reorg drops everything.
        #expect(try await f.ask("newcomer.1bz").rcode == .nxDomain)
        f.chain.nodes.withLockedValue { $0["newcomer.1bz"] = DynamicNodeSourceTests.shashi }
        await applier.handle(.registered(nodeHash: Self.hash, name: "newcomer.1bz", wallet: EthereumAddress(unchecked: Array(repeating: 0, count: 20)), block: 1))
        await applier.handle(.synced(block: 10))
        #expect(try await f.ask("newcomer.1bz").rcode == .noError)
        await applier.handle(.reorg(fromBlock: 8))
        await applier.handle(.synced(block: 8))
        #expect(f.source.cachedNameCount == 0)
        #expect(f.head.current == 8 && f.head.highestBlock == 10)
        await applier.handle(.synced(block: 9))
        #expect(changes.withLockedValue { $0 } == [true, true, true, false], "a block without events changed nothing")
    }

    @Test func historyBeforeTheFirstSyncIsNotBuffered() async {
        let f = Fixture(synced: false)
        let applier = ChainEventApplier(source: f.source, head: f.head)
        await applier.handle(.registered(nodeHash: Self.hash, name: "shashi.1bz", wallet: EthereumAddress(unchecked: Array(repeating: 0, count: 20)), block: 1))
        await applier.handle(.synced(block: 3))
        #expect(f.head.isSynced && f.head.current == 3)
    }

    @Test func chainHeadSerialNeverGoesBack() {
        let head = ChainHead()
        #expect(!head.isSynced)
        head.advance(to: 10)
        head.advance(to: 8)  // a reorg
        #expect(head.current == 8 && head.highestBlock == 10 && head.isSynced)
    }

    @Test func zoneSerialSwap() throws {
        let zone = EngineFixture.shippedZone
        let next = zone.withSerial(123_456)
        #expect(next.serial == 123_456)
        #expect(next.nodes.count == zone.nodes.count)
        let engine = QueryEngine(zone: zone)
        engine.replaceZone(next)
        let soa = try EngineFixture.ask(engine, EngineFixture.query("1bz", .soa))
        #expect(soa.answers.first.map { Array($0.rdata.suffix(20).prefix(4)) } == [0, 1, 0xe2, 0x40])
    }
}
