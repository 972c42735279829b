import DNSEngine
import DNSWire
import NodeRegistry
import Testing

@testable import OneBZResolver

@Suite("NodeName")
struct NodeNameTests {
    static let id = NodeID(hex: String(repeating: "ab", count: 32))!

    @Test(arguments: [
        ("shashi.1bz.", "shashi.1bz"), ("ShAsHi.1BZ.", "shashi.1bz"), ("a-b_c9.1bz.", "a-b_c9.1bz"),
    ])
    func aliasNames(dns: String, alias: String) throws {
        #expect(NodeName(dnsName: try Name(dns)) == .alias(alias))
    }

    @Test func nodeIDNamesInAnyCase() throws {
        let upper = Self.id.base32Label.uppercased() + ".ID.1bz."
        #expect(NodeName(dnsName: try Name(upper)) == .nodeID(Self.id))
        #expect(NodeName(dnsName: try Name(Self.id.dnsName + ".")) == .nodeID(Self.id))
    }

    @Test(arguments: [
        "1bz.", "www.shashi.1bz.", "a.b.c.1bz.", "shashi.com.", "short.id.1bz.", "sp\\032ace.1bz.", "dot\\.ted.1bz.",
        "caf\\195\\169.1bz.",
    ])
    func notNodeNames(dns: String) throws {
        #expect(NodeName(dnsName: try Name(dns)) == nil)
    }

    @Test func userTextAcceptsHexAndTrailingDot() throws {
        #expect(try NodeName(userText: " ShAsHi.1bz. ") == .alias("shashi.1bz"))
        #expect(try NodeName(userText: Self.id.hex + ".1bz") == .nodeID(Self.id))
        #expect(try NodeName(userText: Self.id.dnsName) == .nodeID(Self.id))
    }

    @Test(arguments: ["shashi.com", "", "www.shashi.1bz", "bad name.1bz", "x..1bz"])
    func userTextRejectsWithAReason(text: String) {
        #expect {
            _ = try NodeName(userText: text)
        } throws: { error in
            guard case .invalidName(let reason) = error as? NodeLookupError else { return false }
            return !reason.isEmpty
        }
    }
}
