import DNSWire
import Foundation
import Testing
import ZoneCache

@Suite struct ZoneTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let zoneFile = root.appendingPathComponent("zones/1bz.zone").path
    static let apex = try! Name("1bz.")

    static func zone() throws -> Zone { try Zone(file: zoneFile, apex: apex) }

    static func writeTemporary(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zone-\(UUID().uuidString).zone").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func loadsTheShippedZone() throws {
        let zone = try Self.zone()
        #expect(zone.apex == Self.apex)
        #expect(zone.soa.type == .soa)
        let apexNode = try #require(zone.node(named: Self.apex))
        #expect(apexNode.isApex)
        #expect(apexNode.rrsets[.ns]?.count == 2)
        #expect(zone.node(named: try Name("NS1.1BZ"))?.rrsets[.a]?.first?.rdata == [192, 0, 2, 53])
    }

    @Test func cutsAndEmptyNonTerminals() throws {
        let zone = try Self.zone()
        let cut = try #require(zone.node(named: try Name("example.1bz")))
        #expect(cut.isDelegation)
        let glue = try #require(zone.node(named: try Name("ns1.example.1bz")))
        #expect(glue.cut != nil && zone.nodes[glue.cut!].name == cut.name)
        let ent = try #require(zone.node(named: try Name("_dns.info.1bz")))
        #expect(ent.rrsets.isEmpty && ent.cut == nil)
        #expect(zone.node(named: try Name("info.1bz")) != nil)
        #expect(zone.node(named: try Name("www.1bz"))?.cut == nil)
    }

    @Test(arguments: [
        ("www.1bz", "exact"), ("WWW.1BZ", "exact"), ("1bz", "exact"), ("info.1bz", "exact"),
        ("nope.1bz", "below 1"), ("a.b.www.1bz", "below 2"), ("x.example.1bz", "below 1"),
        ("com", "out"), ("1bz.com", "out"), (".", "out"), ("example.org", "out"),
    ])
    func lookups(name: String, expected: String) throws {
        let zone = try Self.zone()
        let result: String =
            switch zone.lookup(try Name(name)) {
            case .exact: "exact"
            case .below(_, let extra): "below \(extra)"
            case .outOfZone: "out"
            }
        #expect(result == expected)
    }

    @Test func syntaxErrorNamesFileAndLine() throws {
        let path = try Self.writeTemporary(
            "$ORIGIN 1bz.\n$TTL 300\n@ IN SOA ns1 host 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.300\n")
        #expect {
            try Zone(file: path, apex: Self.apex)
        } throws: { error in
            guard let error = error as? ZoneError else { return false }
            return error.file == path && error.line == 5 && error.description.hasPrefix("\(path):5:")
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ZoneError.self) { try Zone(file: "/nonexistent/1bz.zone", apex: Self.apex) }
    }

    @Test(arguments: [
        ("missing SOA", "$ORIGIN 1bz.\n@ 300 IN NS ns1\n"),
        ("missing NS", "$ORIGIN 1bz.\n@ 300 IN SOA ns1 host 1 2 3 4 5\n"),
        (
            "out of zone",
            "$ORIGIN 1bz.\n@ 300 IN SOA ns1 host 1 2 3 4 5\n@ 300 IN NS ns1\nwww.example.com. 300 IN A 192.0.2.1\n"
        ),
        (
            "CNAME and data",
            "$ORIGIN 1bz.\n@ 300 IN SOA ns1 host 1 2 3 4 5\n@ 300 IN NS ns1\nx 300 IN CNAME y\nx 300 IN A 192.0.2.1\n"
        ),
    ])
    func rejectsInvalidZones(label: String, text: String) throws {
        let path = try Self.writeTemporary(text)
        #expect(throws: ZoneError.self, "\(label)") { try Zone(file: path, apex: Self.apex) }
    }
}
