import DNSWire
import Foundation
import Testing
import ZoneCache

/// `onebzd zone dump`'s lines: what MasterFileWriter prints, libldns reads back to the
/// same records (every type the shipped zone holds, TXT with quotes, backslashes and
/// bytes outside ASCII, unknown types as RFC 3597).
@Suite struct MasterFileWriterTests {
    @Test func linesReadBackToTheSameRecords() throws {
        let zone = try ZoneTests.zone()
        var records = [zone.soa]
        for node in zone.nodes {
            for type in node.types where !(type == .soa && node.isApex) { records += node.rrsets[type] ?? [] }
        }
        let owner = try Name("shashi.1bz.")
        let text: [UInt8] = Array("say \"hi\" \\ ok".utf8) + [0xC3, 0xA9, 0x00]
        records.append(ResourceRecord(name: owner, type: .txt, ttl: 300, rdata: [UInt8(text.count)] + text))
        records.append(ResourceRecord(name: owner, type: .aaaa, ttl: 300, rdata: [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]))
        records.append(ResourceRecord(name: owner, type: RRType(65_280), ttl: 300, rdata: [1, 2, 3]))
        let lines = try records.map { try #require(MasterFileWriter.line($0)) }
        #expect(lines[0].hasPrefix("1bz.") && lines[0].contains("SOA"))
        let path = try ZoneTests.writeTemporary(lines.joined(separator: "\n") + "\n")
        let loaded = try ZoneFileLoader.load(path: path, origin: ZoneTests.apex)
        #expect(Set(loaded) == Set(records))
        #expect(loaded.count == records.count)
    }
}
