import DNSWire
import Testing

@testable import OneBZResolver

/// The dynamic cache's inline key: case-insensitive, exact otherwise, built from wire.
@Suite struct AnswerKeyTests {
    static func key(_ text: String, _ type: RRType = .a) -> AnswerKey? {
        (try! Name(text)).wire.withUnsafeBytes { AnswerKey(wire: $0, type: type) }
    }

    @Test func foldsASCIICaseOnly() {
        #expect(Self.key("ShAsHi.1BZ") == Self.key("shashi.1bz"))
        #expect(Self.key("ShAsHi.1BZ")?.hashValue == Self.key("shashi.1bz")?.hashValue)
        #expect(Self.key("sh\\195ashi.1bz") != Self.key("sh\\227ashi.1bz"), "0xC3 and 0xE3 differ (not ASCII)")
    }

    @Test(arguments: [
        ("shashi.1bz", "shashi.1bz", RRType.txt),
        ("shashi.1bz", "shash.1bz", RRType.a),
        ("a.id.1bz", "a.xy.1bz", RRType.a),
        ("a.1bz", "a\\000.1bz", RRType.a),
    ])
    func distinguishes(_ first: String, _ second: String, _ type: RRType) {
        #expect(Self.key(first) != Self.key(second, type))
    }

    @Test func holdsNamesPastTheFirstVectorAndRefusesLongerOnes() {
        let long = String(repeating: "a", count: 63) + ".1bz"  // 69 octets
        #expect(Self.key(long) == Self.key(long.uppercased()))
        #expect(Self.key(long) != Self.key(String(repeating: "a", count: 62) + "b.1bz"))
        #expect(Self.key(String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 20) + ".1bz") == nil)
    }
}
