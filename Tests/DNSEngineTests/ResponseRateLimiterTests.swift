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
