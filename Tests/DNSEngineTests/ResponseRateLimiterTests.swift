import DNSTestSupport
import DNSWire
import NIOCore
import Testing

@testable import DNSEngine

/// RRL as NSD/Knot: per-netblock budget per second, slip, bounded table; time injected.
struct ResponseRateLimiterTests {
    static let second: UInt64 = 1_000_000_000

    static func limiter(rate: Int = 5, slip: Int = 2, tableSize: Int = 1024) -> ResponseRateLimiter {
        var configuration = ResponseRateLimiter.Configuration(responsesPerSecond: rate)
        configuration.slip = slip
        configuration.tableSize = tableSize
        return ResponseRateLimiter(configuration: configuration)
    }

    static func address(_ ip: String) -> ClientAddress { ClientAddress(try! SocketAddress(ipAddress: ip, port: 5300))! }

    @Test func underTheRateEverythingIsSent() {
        var rrl = Self.limiter(rate: 5)
        for second in 0..<10 {
            for _ in 0..<5 {
                #expect(rrl.decide(client: Self.address("192.0.2.1"), nanoseconds: UInt64(second) * Self.second) == .send)
            }
        }
    }

    @Test(arguments: [0, 1, 2, 3])
    func overTheRateEverySlipthResponseIsTruncatedTheRestDropped(slip: Int) {
        var rrl = Self.limiter(rate: 5, slip: slip)
        let decisions = (0..<25).map { _ in rrl.decide(client: Self.address("192.0.2.1"), nanoseconds: 7 * Self.second) }
        #expect(decisions.prefix(5).allSatisfy { $0 == .send })
        let limited = Array(decisions.dropFirst(5))
        let slipped = limited.filter { $0 == .slip }.count
        #expect(slipped == (slip == 0 ? 0 : 20 / slip), "\(decisions)")
        #expect(limited.filter { $0 == .drop }.count == 20 - slipped)
        // The next second refills the budget.
        #expect(rrl.decide(client: Self.address("192.0.2.1"), nanoseconds: 8 * Self.second) == .send)
    }

    @Test func clientsOfOneNetblockShareABudgetOthersDoNot() {
        var rrl = Self.limiter(rate: 3)
        let now = 100 * Self.second
        for host in 1...3 { #expect(rrl.decide(client: Self.address("198.51.100.\(host)"), nanoseconds: now) == .send) }
        #expect(rrl.decide(client: Self.address("198.51.100.200"), nanoseconds: now) != .send, "same /24")
        #expect(rrl.decide(client: Self.address("198.51.101.1"), nanoseconds: now) == .send, "another /24")
        // IPv6: /56 shared, the next /56 not.
        for _ in 0..<3 { #expect(rrl.decide(client: Self.address("2001:db8:0:1::1"), nanoseconds: now) == .send) }
        #expect(rrl.decide(client: Self.address("2001:db8:0:ff::2"), nanoseconds: now) != .send, "same /56")
        #expect(rrl.decide(client: Self.address("2001:db8:0:100::1"), nanoseconds: now) == .send, "another /56")
    }

    @Test func aSpoofedFloodFromManyNetblocksKeepsTheTableBounded() {
        var rrl = Self.limiter(rate: 2, tableSize: 64)
        // 100k distinct netblocks cannot grow memory: buckets are reused.
        for n in 0..<100_000 {
            _ = rrl.decide(netblock: UInt64(n), nanoseconds: 5 * Self.second)
        }
        // A legitimate client in a fresh second is still answered.
        #expect(rrl.decide(client: Self.address("203.0.113.9"), nanoseconds: 6 * Self.second) == .send)
    }

    /// Issue 21, finding 5: two netblocks that share a bucket share its budget. Before,
    /// a colliding netblock reset the bucket to a full budget, so alternating two of
    /// them (spoofed) was never limited: here 200 of 200 were sent.
    @Test func collidingNetblocksChargeTheSharedBucketInsteadOfResettingIt() {
        var rrl = Self.limiter(rate: 5, slip: 0, tableSize: 1)  // every netblock collides
        let now = 9 * Self.second
        let decisions = (0..<200).map { index in
            rrl.decide(client: Self.address(index % 2 == 0 ? "192.0.2.1" : "198.51.100.1"), nanoseconds: now)
        }
        #expect(decisions.filter { $0 == .send }.count == 5, "\(decisions.filter { $0 == .send }.count) sent")
        // A new second: a full budget again.
        #expect(rrl.decide(client: Self.address("198.51.100.1"), nanoseconds: now + Self.second) == .send)
    }

    /// The bucket index is keyed: two limiters with different keys spread the same
    /// netblocks differently, so an outsider cannot pick netblocks that collide.
    @Test func bucketsAreChosenByAKeyedHash() {
        var a = ResponseRateLimiter(configuration: Self.configuration(tableSize: 64), key: SipHash24.Key(Array(0..<16)))
        var b = ResponseRateLimiter(configuration: Self.configuration(tableSize: 64), key: SipHash24.Key(Array(16..<32)))
        // Exhaust netblock 1's bucket in both; the netblocks limited with it differ.
        _ = a.decide(netblock: 1, nanoseconds: 0)
        _ = b.decide(netblock: 1, nanoseconds: 0)
        // Each probe on a copy (a value type), so only netblock 1's bucket is spent.
        func sharing(_ limiter: ResponseRateLimiter) -> [Int] {
            (2..<2000).filter { n in
                var copy = limiter
                return copy.decide(netblock: UInt64(n), nanoseconds: 0) != .send
            }
        }
        let sharedA = sharing(a)
        let sharedB = sharing(b)
        #expect(!sharedA.isEmpty && !sharedB.isEmpty)
        #expect(sharedA != sharedB)
    }

    static func configuration(rate: Int = 1, tableSize: Int) -> ResponseRateLimiter.Configuration {
        var configuration = ResponseRateLimiter.Configuration(responsesPerSecond: rate)
        configuration.slip = 0
        configuration.tableSize = tableSize
        return configuration
    }

    /// Loopback is exempt by default (it cannot be spoofed from off the host), IPv4-
    /// mapped loopback too; `exempt = []` limits it like anyone.
    @Test func loopbackIsExemptByDefault() {
        var rrl = Self.limiter(rate: 1, slip: 0)
        for ip in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
            #expect((0..<50).allSatisfy { _ in rrl.decide(client: Self.address(ip), nanoseconds: 0) == .send }, "\(ip)")
        }
        var configuration = Self.configuration(tableSize: 1024)
        configuration.exempt = []
        var strict = ResponseRateLimiter(configuration: configuration)
        #expect(strict.decide(client: Self.address("127.0.0.1"), nanoseconds: 0) == .send)
        #expect(strict.decide(client: Self.address("127.0.0.1"), nanoseconds: 0) == .drop)
    }

    /// Issue 21, finding 6: an IPv4 client seen on a `[::]` socket (`::ffff:a.b.c.d`) is
    /// the IPv4 client: its /24 bucket, not one /56 shared by every IPv4 client.
    @Test func ipv4MappedClientsAreCountedAsIPv4() {
        #expect(Self.address("::ffff:192.0.2.7") == Self.address("192.0.2.7"))
        #expect(Self.address("::ffff:192.0.2.7").isIPv4)
        var rrl = Self.limiter(rate: 2, slip: 0)
        #expect(rrl.decide(client: Self.address("::ffff:192.0.2.1"), nanoseconds: 0) == .send)
        #expect(rrl.decide(client: Self.address("192.0.2.2"), nanoseconds: 0) == .send)
        #expect(rrl.decide(client: Self.address("::ffff:192.0.2.3"), nanoseconds: 0) == .drop, "same /24")
        #expect(rrl.decide(client: Self.address("::ffff:203.0.113.1"), nanoseconds: 0) == .send, "another /24")
        // ACL prefixes match mapped clients, and a mapped prefix is its IPv4 prefix.
        #expect(AddressPrefix("192.0.2.0/24")!.contains(Self.address("::ffff:192.0.2.9")))
        #expect(AddressPrefix("::ffff:192.0.2.0/120") == AddressPrefix("192.0.2.0/24"))
        #expect(!AddressPrefix("::/0")!.contains(Self.address("::ffff:192.0.2.9")))
    }

    /// The slip is a variant of the engine's plan: header with TC=1 and the question
    /// (0x20 case kept), no records, no OPT; written in place like any answer.
    @Test func slippedResponseIsHeaderAndQuestionWithTC() throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone)
        var limiter: ResponseRateLimiter? = Self.limiter(rate: 1, slip: 1)
        let request = EngineFixture.query("WwW.1bz", .a, id: 0xBEEF)
        let context = QueryContext(client: Self.address("192.0.2.1"), unixTime: 0)
        var lengths: [Int] = []
        let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: 1232, alignment: 16)
        defer { slot.deallocate() }
        for _ in 0..<2 {
            request.withUnsafeBytes { raw in
                if case .response(let length) = engine.respond(
                    udp: raw, into: slot, context: context, limiter: &limiter, nanoseconds: 3 * Self.second)
                {
                    lengths.append(length)
                }
            }
        }
        #expect(lengths.count == 2)
        let slipped = try Message(decoding: Array(slot.prefix(lengths.last ?? 0)))
        #expect(slipped.header.id == 0xBEEF && slipped.header.truncated && slipped.header.isResponse)
        #expect(slipped.questions.map(\.name.description) == ["WwW.1bz."])
        #expect(slipped.answers.isEmpty && slipped.authorities.isEmpty && slipped.additionals.isEmpty)
        #expect(slipped.edns == nil)
    }

    /// Without a client address (unknown peer) nothing is limited.
    @Test func withoutAClientAddressNothingIsLimited() throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone)
        var limiter: ResponseRateLimiter? = Self.limiter(rate: 1, slip: 0)
        let request = ByteBuffer(bytes: EngineFixture.query("www.1bz", .a))
        for _ in 0..<3 {
            let disposition = engine.respond(
                to: request, transport: .udp, allocator: ByteBufferAllocator(), context: .none, resolved: nil,
                limiter: &limiter, nanoseconds: 0)
            guard case .response = disposition else {
                Issue.record("limited without a client address")
                return
            }
        }
    }
}
