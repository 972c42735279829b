import DNSEngine
import DNSWire
import Foundation
import ZoneCache

/// Builds queries, runs them through a QueryEngine, decodes the answers (shared by the
/// engine, transport and resolver tests).
public enum EngineFixture {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    public static let apex = try! Name("1bz.")
    public static let shippedZone = try! Zone(file: root.appendingPathComponent("zones/1bz.zone").path, apex: apex)

    public static func record(_ name: String, _ type: RRType, _ rdata: [UInt8], ttl: UInt32 = 600) -> ResourceRecord {
        ResourceRecord(name: try! Name(name), type: type, ttl: ttl, rdata: rdata)
    }

    public static func nameRDATA(_ name: String) -> [UInt8] { try! Name(name).wire }

    /// A small zone with answers of chosen sizes, for truncation tests.
    public static let sizedZone: Zone = {
        var records = [
            record(
                "1bz", .soa,
                nameRDATA("ns1.1bz") + nameRDATA("h.1bz") + [
                    0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 60,
                ]),
            record("1bz", .ns, nameRDATA("ns1.1bz")),
            record("ns1.1bz", .a, [192, 0, 2, 1]),
        ]
        // ~3000 bytes of TXT: too big for any UDP answer.
        for index in 0..<30 {
            records.append(record("big.1bz", .txt, [99] + Array(repeating: UInt8(65 + index % 26), count: 99)))
        }
        // ~700 bytes: fits 1232 but not 512.
        for index in 0..<7 {
            records.append(record("medium.1bz", .txt, [99] + Array(repeating: UInt8(97 + index), count: 99)))
        }
        // MX answer is small, but its glue (AAAA for 20 hosts) is not.
        for index in 0..<20 {
            records.append(record("mx.1bz", .mx, [0, UInt8(index)] + nameRDATA("host\(index).mx.1bz")))
            records.append(record("host\(index).mx.1bz", .aaaa, Array(repeating: UInt8(index), count: 16)))
        }
        // A delegation whose required glue does not fit in 512 bytes.
        for index in 0..<20 {
            records.append(record("wide.1bz", .ns, nameRDATA("ns\(index).wide.1bz")))
            records.append(record("ns\(index).wide.1bz", .aaaa, Array(repeating: UInt8(index), count: 16)))
        }
        return try! Zone(apex: apex, records: records)
    }()

    public static func query(
        _ name: String, _ type: RRType, rrClass: RRClass = .in, id: UInt16 = 0x4242, flags: UInt16 = 0,
        edns: EDNS? = EDNS(udpPayloadSize: 1232)
    ) -> [UInt8] {
        var message = Message()
        message.header.flags = flags
        message.header.id = id
        message.questions = [Question(name: try! Name(name), type: type, rrClass: rrClass)]
        message.edns = edns
        return try! message.encoded()
    }

    public static func ask(_ engine: QueryEngine, _ request: [UInt8], transport: Transport = .udp) throws -> Message {
        guard let response = engine.respond(to: request, transport: transport) else {
            throw FixtureError(description: "no response")
        }
        return try Message(decoding: response)
    }

    public struct FixtureError: Error, CustomStringConvertible { public let description: String }
}
