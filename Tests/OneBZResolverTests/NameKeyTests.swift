import DNSEngine
import DNSWire
import NodeRegistry
import Testing

@testable import OneBZResolver

/// The dynamic cache's inline key: case-insensitive, exact otherwise, built from wire.
@Suite struct NameKeyTests {
    static func key(_ text: String) -> NameKey? {
        (try! Name(text)).wire.withUnsafeBytes { NameKey(wire: $0) }
    }

    @Test func foldsASCIICaseOnly() {
        #expect(Self.key("ShAsHi.1BZ") == Self.key("shashi.1bz"))
        #expect(Self.key("ShAsHi.1BZ")?.hashValue == Self.key("shashi.1bz")?.hashValue)
        #expect(Self.key("sh\\195ashi.1bz") != Self.key("sh\\227ashi.1bz"), "0xC3 and 0xE3 differ (not ASCII)")
    }

    @Test(arguments: [
        ("shashi.1bz", "shash.1bz"),
        ("a.id.1bz", "a.xy.1bz"),
        ("a.1bz", "a\\000.1bz"),
        ("a.1bz", "a.1bz.1bz"),
    ])
    func distinguishes(_ first: String, _ second: String) {
        #expect(Self.key(first) != Self.key(second))
    }

    @Test func holdsNamesPastTheFirstVectorAndRefusesLongerOnes() {
        let long = String(repeating: "a", count: 63) + ".1bz"  // 69 octets
        #expect(Self.key(long) == Self.key(long.uppercased()))
        #expect(Self.key(long) != Self.key(String(repeating: "a", count: 62) + "b.1bz"))
        #expect(Self.key(String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 20) + ".1bz") == nil)
    }

    /// The miss path keys by the parsed name, the hit path by the query's bytes: they
    /// must agree, or answers are stored where no query finds them.
    @Test(arguments: ["ShAsHi.1bz", String(repeating: "X", count: 63) + ".1BZ", "node-7.1bz"])
    func aliasKeyMatchesTheQueryKey(_ query: String) throws {
        let name = try #require(NodeName(dnsName: try Name(query)))
        #expect(NameKey(name) == Self.key(query))
    }

    @Test func nodeIDKeyMatchesTheQueryKey() throws {
        let id = NodeID(publicKeyPEM: Array("a key".utf8))
        let query = id.dnsName.uppercased()
        let name = try #require(NodeName(dnsName: try Name(query)))
        #expect(NameKey(name) == Self.key(query))
        #expect(NameKey(.nodeID(id)) == Self.key(id.dnsName))
    }
}
