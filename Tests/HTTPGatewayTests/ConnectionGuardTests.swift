import ConnectionLimits
import DNSEngine
import NIOCore
import NIOEmbedded
import Testing

@testable import HTTPGateway
@testable import HTTPServerGuard

/// Issue 21 findings 3 and 4, the pure parts: connection caps, the admission handler on
/// an EmbeddedChannel, the `/resolve` token buckets and the proof bundle cache.
@Suite struct ConnectionGuardTests {
    static func key(_ ip: String) -> ConnectionLimiter.ClientKey? {
        ConnectionLimiter.ClientKey(try? SocketAddress(ipAddress: ip, port: 1))
    }

    @Test func limiterCapsTotalAndPerClientAndGivesSlotsBack() {
        var limiter = ConnectionLimiter(maxConnections: 3, maxConnectionsPerClient: 2)
        let a = Self.key("192.0.2.1")
        let b = Self.key("192.0.2.2")
        #expect(limiter.opened(a) == .admit)
        #expect(limiter.opened(a) == .admit)
        #expect(limiter.opened(a) == .refusePerClient)
        #expect(limiter.opened(b) == .admit)
        #expect(limiter.opened(b) == .refuseTotal)
        limiter.closed(a)
        #expect(limiter.opened(b) == .admit)
        #expect(limiter.open == 3 && limiter.count(a!) == 1 && limiter.count(b!) == 2)
        for _ in 0..<3 { limiter.closed(b) }
        limiter.closed(a)
        #expect(limiter.open == 0 && limiter.count(a!) == 0 && limiter.count(b!) == 0)
    }

    @Test(arguments: [
        ("::ffff:192.0.2.1", "192.0.2.1", true),  // IPv4-mapped counts as the IPv4 address
        ("2001:db8:1:2::1", "2001:db8:1:2::ffff", true),  // one /64
        ("2001:db8:1:2::1", "2001:db8:1:3::1", false),
        ("192.0.2.1", "192.0.2.2", false),
    ])
    func clientKeys(_ a: String, _ b: String, _ same: Bool) {
        #expect((Self.key(a) == Self.key(b)) == same)
    }

    @Test func admissionHandlerClosesConnectionsPastTheCapAndReleasesOnClose() throws {
        var limits = HTTPServerLimits()
        limits.maxConnectionsPerClient = 1
        let connectionGuard = HTTPConnectionGuard(limits: limits)
        let peer = try SocketAddress(ipAddress: "192.0.2.7", port: 4000)
        func connect() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel(handler: ConnectionAdmissionHandler(guard: connectionGuard))
            try channel.connect(to: peer).wait()  // becomes active with that remote address
            return channel
        }
        let first = try connect()
        #expect(first.isActive && connectionGuard.openConnections == 1)
        let second = try connect()
        #expect(!second.isActive, "the second connection from one client is closed at once")
        #expect(connectionGuard.openConnections == 1)
        _ = try first.finish()
        #expect(connectionGuard.openConnections == 0)
        let third = try connect()
        #expect(third.isActive, "the slot came back")
        _ = try third.finish()
    }

    @Test func rateLimiterRefillsAndSaysWhenToRetry() throws {
        var limiter = ClientRateLimiter(configuration: .init(rate: 2, burst: 3))
        let client = ClientAddress([192, 0, 2, 9])!
        let other = ClientAddress([192, 0, 2, 10])!
        let second: UInt64 = 1_000_000_000
        for _ in 0..<3 { #expect(limiter.decide(client, nanoseconds: 0) == .allow) }
        #expect(limiter.decide(client, nanoseconds: 0) == .limit(retryAfter: 1))
        #expect(limiter.decide(other, nanoseconds: 0) == .allow, "buckets are per client")
        #expect(limiter.decide(client, nanoseconds: second / 2) == .allow, "one token back after 0.5 s")
        #expect(limiter.decide(client, nanoseconds: second / 2) == .limit(retryAfter: 1))
        var off = ClientRateLimiter(configuration: .init(rate: 0, burst: 1))
        #expect(off.decide(client, nanoseconds: 0) == .allow)
    }

    @Test func rateLimiterTableIsBounded() {
        var limiter = ClientRateLimiter(configuration: .init(rate: 1, burst: 1, maxClients: 4))
        for last in 0..<4 as Range<UInt8> {
            #expect(limiter.decide(ClientAddress([10, 0, 0, last])!, nanoseconds: 0) == .allow)
        }
        // Full, nobody refilled: a new client is limited, the table does not grow.
        #expect(limiter.decide(ClientAddress([10, 0, 0, 9])!, nanoseconds: 0) == .limit(retryAfter: 1))
        #expect(limiter.clientCount == 4)
        // A second later everyone refilled: idle buckets are dropped for the newcomer.
        #expect(limiter.decide(ClientAddress([10, 0, 0, 9])!, nanoseconds: 1_000_000_000) == .allow)
        #expect(limiter.clientCount <= 4)
    }

    @Test func proofBundlesAreCachedPerNameAndBlockBoundedAndExpire() {
        var cache = ProofBundleCache(capacity: 2, maxAgeNanoseconds: 10)
        let a = ProofBundleCache.Key(name: "a.1bz.", block: 7)
        cache.store([1], for: a, now: 0)
        #expect(cache.bundle(a, now: 5) == [1])
        #expect(cache.bundle(.init(name: "a.1bz.", block: 8), now: 5) == nil, "another block is another bundle")
        #expect(cache.bundle(a, now: 10) == nil, "expired")
        cache.store([2], for: .init(name: "b.1bz.", block: 7), now: 0)
        cache.store([3], for: .init(name: "c.1bz.", block: 7), now: 0)
        #expect(cache.count == 2 && cache.bundle(a, now: 1) == nil, "oldest out first")
    }
}
