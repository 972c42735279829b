import DNSWire
import NIOCore
import Testing

@testable import OneBZResolver

/// RRL as NSD/Knot: per-netblock budget per second, slip, bounded table; time injected.
struct ResponseRateLimiterTests {
    static let second: UInt64 = 1_000_000_000

    static func limiter(rate: Int = 5, slip: Int = 2, tableSize: Int = 1024) -> ResponseRateLimiter {
        var configuration = ResponseRateLimiter.Configuration(responsesPerSecond: rate)
        configuration.slip = slip
        configuration.tableSize = tableSize
        return ResponseRateLimiter(configuration: configuration)
    }

    static func address(_ ip: String) -> SocketAddress { try! SocketAddress(ipAddress: ip, port: 5300) }

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

    @Test func slippedResponseIsHeaderAndQuestionWithTC() throws {
        var query = Message()
        query.header.id = 0xBEEF
        query.questions = [Question(name: try Name("WwW.1bz"), type: .a)]
        var response = query
        response.header.isResponse = true
        response.header.authoritative = true
        response.answers = [ResourceRecord(name: try Name("www.1bz"), type: .a, ttl: 60, rdata: [192, 0, 2, 1])]
        response.edns = EDNS(udpPayloadSize: 1232)
        let bytes = ByteBuffer(bytes: try response.encoded())
        let slipped = try Message(
            decoding: Array(ResponseRateLimiter.truncated(bytes, allocator: ByteBufferAllocator()).readableBytesView))
        #expect(slipped.header.id == 0xBEEF && slipped.header.truncated && slipped.header.isResponse)
        #expect(slipped.questions == query.questions)
        #expect(slipped.answers.isEmpty && slipped.authorities.isEmpty && slipped.additionals.isEmpty)
    }

    @Test func configurationKeysAndOffByDefault() throws {
        #expect(try ServerConfiguration(toml: "[server]\n").server.rateLimit == nil)
        let on = try ServerConfiguration(
            toml: "[server]\nrrl_responses_per_second = 20\nrrl_slip = 3\nrrl_ipv4_prefix = 32\nrrl_ipv6_prefix = 64\n")
        #expect(on.server.rateLimit?.responsesPerSecond == 20)
        #expect(on.server.rateLimit?.slip == 3 && on.server.rateLimit?.ipv4PrefixLength == 32)
        #expect(on.server.rateLimit?.ipv6PrefixLength == 64)
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(toml: "[server]\nrrl_slip = 2\n") }
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(toml: "[server]\nrrl_responses_per_second = 5\nrrl_ipv4_prefix = 40\n")
        }
    }
}
