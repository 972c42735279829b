import NIOCore
import Testing

@testable import onebz_web

/// Addresses that lead to a refused IPv4 through a translator or tunnel, the node
/// connection pool's rules, and how a node's redirect is rewritten.
@Suite struct NodeRulesTests {
    @Test(arguments: [
        ("64:ff9b::7f00:1", "NAT64 address for 127.0.0.1, a loopback"),
        ("64:ff9b::a00:1", "NAT64 address for 10.0.0.1, a private"),
        ("64:ff9b::169.254.169.254", "NAT64 address for 169.254.169.254, a link-local"),
        ("64:ff9b:1:c0a8:1:100::", "NAT64 address for 192.168.1.1, a private"),
        ("2002:7f00:1::1", "6to4 address for 127.0.0.1, a loopback"),
        ("2002:a9fe:a9fe::", "6to4 address for 169.254.169.254, a link-local"),
        // Teredo: client 10.0.0.1 stored inverted (f5ff:fffe), server 192.0.2.1.
        ("2001:0:c000:201:0:0:f5ff:fffe", "Teredo address for 10.0.0.1, a private"),
        ("2001:0:7f00:1:0:0:3fff:fffe", "Teredo server address for 127.0.0.1, a loopback"),
    ])
    func embeddedRefusedIPv4IsRefused(address: String, why: String) {
        let refusal = AddressPolicy(allowed: [], own: []).refusal(address)
        #expect(refusal?.contains(why) == true, "\(address): \(refusal ?? "allowed")")
    }

    @Test func embeddedPublicIPv4PassesAndAllowancesApplyToIt() {
        let strict = AddressPolicy(allowed: [], own: [NetworkPrefix.parse("203.0.113.9")!])
        #expect(strict.refusal("64:ff9b::5db8:d822") == nil, "NAT64 for 93.184.216.34")
        #expect(strict.refusal("2002:5db8:d822::1") == nil, "6to4 for 93.184.216.34")
        #expect(strict.refusal("2001:0:5db8:d822:0:0:a247:27dd") == nil, "Teredo, server and client public")
        #expect(strict.refusal("64:ff9b::cb00:7109")?.contains("the gateway's own address") == true)
        let loopback = AddressPolicy(allowed: [NetworkPrefix("127.0.0.0/8")!], own: [])
        #expect(loopback.refusal("64:ff9b::7f00:1") == nil, "the allowed IPv4 network, reached by NAT64")
        #expect(AddressPolicy.embeddedIPv4(NetworkPrefix.parse("2001:db8::1")!).isEmpty)
    }

    static let key = NodeKey(address: "192.0.2.1", port: 443, serverName: "shashi.1bz", spkiSHA256: [[1]])

    @Test func poolReusesTheNewestFreshConnectionOfItsKey() {
        var pool = IdlePool<Int>(maxPerKey: 4, maxTotal: 10, idleTime: .seconds(30))
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(pool.checkout(Self.key, now: start) { _ in true }.0 == nil)
        #expect(pool.checkin(1, key: Self.key, now: start).isEmpty)
        #expect(pool.checkin(2, key: Self.key, now: start + .seconds(1)).isEmpty)
        #expect(pool.checkout(Self.key, now: start + .seconds(2)) { _ in true }.0 == 2)
        var other = Self.key
        other.address = "192.0.2.2"
        #expect(pool.checkout(other, now: start + .seconds(2)) { _ in true }.0 == nil, "another address is another node")
        // The other address for the same name is now current: shashi's connections to the first one go.
        #expect(pool.count == 0)
        let (_, closed) = (pool.checkout(Self.key, now: start + .seconds(2)) { _ in true })
        #expect(closed.isEmpty)
    }

    @Test func aChangedTLSAClosesTheConnectionsMadeUnderTheOldOne() {
        var pool = IdlePool<Int>(maxPerKey: 4, maxTotal: 10, idleTime: .seconds(30))
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        _ = pool.checkout(Self.key, now: now) { _ in true }
        _ = pool.checkin(1, key: Self.key, now: now)
        _ = pool.checkin(2, key: Self.key, now: now)
        var rekeyed = Self.key
        rekeyed.spkiSHA256 = [[2]]
        let (found, closed) = pool.checkout(rekeyed, now: now) { _ in true }
        #expect(found == nil && Set(closed) == [1, 2] && pool.count == 0)
        // A connection of the old key that was in use when the key changed is closed on its return.
        #expect(pool.checkin(3, key: Self.key, now: now) == [3])
    }

    @Test func capsAndIdleTimeAreKept() {
        var pool = IdlePool<Int>(maxPerKey: 2, maxTotal: 3, idleTime: .seconds(10))
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var second = Self.key
        second.serverName = "two.1bz"
        _ = pool.checkout(Self.key, now: now) { _ in true }
        _ = pool.checkout(second, now: now) { _ in true }
        #expect(pool.checkin(1, key: Self.key, now: now).isEmpty)
        #expect(pool.checkin(2, key: Self.key, now: now + .seconds(1)).isEmpty)
        #expect(pool.checkin(3, key: Self.key, now: now + .seconds(2)) == [1], "per node: the oldest goes")
        #expect(pool.checkin(4, key: second, now: now + .seconds(3)).isEmpty)
        #expect(pool.checkin(5, key: second, now: now + .seconds(4)) == [2], "in all: the oldest anywhere goes")
        #expect(pool.count == 3)
        #expect(Set(pool.expire(now: now + .seconds(13))) == [3, 4] && pool.count == 1)
        // A closed connection is passed over (and handed back to be closed), an expired one too.
        _ = pool.checkin(6, key: second, now: now + .seconds(13))
        let (found, closed) = pool.checkout(second, now: now + .seconds(13)) { $0 != 6 }
        #expect(found == 5 && closed == [6], "\(String(describing: found)) \(closed)")
        #expect(pool.checkout(second, now: now + .seconds(30)) { _ in true }.0 == nil)
        var none = IdlePool<Int>(maxPerKey: 0, maxTotal: 0, idleTime: .seconds(10))
        _ = none.checkout(Self.key, now: now) { _ in true }
        #expect(none.checkin(7, key: Self.key, now: now) == [7], "0: nothing kept")
    }

    @Test(arguments: [
        ("https://shashi.1bz/a?b=1#c", "https://shashi.1bz.gw.test/a?b=1#c"),
        ("http://Shashi.1BZ:8443/x", "https://shashi.1bz.gw.test/x"),
        ("https://shashi.1bz.", "https://shashi.1bz.gw.test"),
        ("https://other.1bz?q", "https://other.1bz.gw.test?q"),
        ("/elsewhere", "/elsewhere"),
        ("https://example.com/", "https://example.com/"),
        ("https://a.b.1bz/", "https://a.b.1bz/"),
        ("https://user@shashi.1bz/", "https://user@shashi.1bz/"),
        ("ftp://shashi.1bz/", "ftp://shashi.1bz/"),
        ("https://shashi.1bz.evil.example/", "https://shashi.1bz.evil.example/"),
    ])
    func nodeRedirectsToA1bzNameStayOnTheGateway(location: String, expected: String) {
        #expect(GatewayResponder.rewriteLocation(location, domain: "1bz.gw.test", scheme: "https") == expected)
    }

    @Test func theGatewayPortIsKept() {
        #expect(GatewayResponder.rewriteLocation("https://shashi.1bz/", domain: "1bz.gw.test:8443", scheme: "https") == "https://shashi.1bz.gw.test:8443/")
    }
}
