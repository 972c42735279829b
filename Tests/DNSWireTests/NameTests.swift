import DNSWire
import Testing

@Suite struct NameTests {
    @Test func parsesAndPrints() throws {
        let name = try Name("WwW.1bz")
        #expect(name.wire == [3, 87, 119, 87, 3, 49, 98, 122, 0])
        #expect(name.description == "WwW.1bz.")
        #expect(name.labelCount == 2)
        #expect(try Name(".") == .root)
        #expect(Name.root.description == ".")
    }

    @Test func comparesCaseInsensitively() throws {
        let a = try Name("ShAsHi.1BZ.")
        let b = try Name("shashi.1bz")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        #expect(a.lowercased.description == "shashi.1bz.")
        #expect(try Name("shashi.1bz") != (try Name("shash.1bz")))
    }

    @Test func escapes() throws {
        let name = try Name(#"a\.b.c\032d.1bz"#)
        #expect(name.labels.count == 3)
        #expect(Array(name.labels[0]) == Array("a.b".utf8))
        #expect(Array(name.labels[1]) == Array("c d".utf8))
        #expect(name.description == #"a\.b.c\032d.1bz."#)
    }

    @Test func subdomains() throws {
        let apex = try Name("1bz")
        #expect(try Name("a.b.1BZ").isSubdomain(of: apex))
        #expect(apex.isSubdomain(of: apex))
        #expect(!(try Name("a1bz").isSubdomain(of: apex)))
        #expect(!(try Name("1bz.com").isSubdomain(of: apex)))
        #expect(try Name("x.1bz").parent == apex)
    }

    @Test(arguments: ["a..b", String(repeating: "a", count: 64) + ".1bz", "\\300.x"])
    func rejectsBadText(text: String) {
        #expect(throws: DNSWireError.self) { try Name(text) }
    }

    @Test func rejectsLongNames() {
        let label = String(repeating: "a", count: 63)
        #expect(throws: DNSWireError.self) { try Name([label, label, label, label, "x"].joined(separator: ".")) }
        #expect(throws: DNSWireError.self) { try Name(wire: [3, 97, 98]) }
        #expect(throws: DNSWireError.self) { try Name(wire: [0xC0, 0]) }
    }
}
