import DNSWire
import Foundation
import TestSupport

import Testing

@testable import DNSSEC

/// The zone secondaries receive: NSEC3 hashes against RFC 5155 and ldns, a fully
/// signed zone judged by `ldns-verify-zone`, incremental changes equal to signing from
/// scratch, refresh re-signing only what is due, and the memory per name.
@Suite struct NSEC3ZoneTests {
    static let apex = try! Name("1bz.")
    static let now = UInt32(Date().timeIntervalSince1970)

    // MARK: Hashes

    /// RFC 5155 Appendix A (salt aabbccdd, 12 iterations).
    static let appendixA: [(String, String)] = [
        ("example", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"), ("a.example", "35mthgpgcu1qg68fab165klnsnk3dpvl"),
        ("ai.example", "gjeqe526plbf1g8mklp59enfd789njgi"), ("ns1.example", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"),
        ("ns2.example", "q04jkcevqvmu85r014c7dkba38o0ji5r"), ("w.example", "k8udemvp1j2f7eg6jebps17vp3n8i58h"),
        ("*.w.example", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"), ("x.w.example", "b4um86eghhds6nea196smvmlo4ors995"),
        ("y.w.example", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"), ("x.y.w.example", "2vptu5timamqttgl4luu9kg21e0aor3s"),
        ("xx.example", "t644ebqk9bibcna874givr6joj62mlhv"),
        ("2t7b4g4vsa5smi47k61mv5bv1a22bojr.example", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi"),
    ]

    @Test func hashesMatchRFC5155AppendixA() throws {
        let parameters = NSEC3Parameters(iterations: 12, salt: [0xAA, 0xBB, 0xCC, 0xDD])
        for (name, expected) in Self.appendixA {
            #expect(parameters.hash(try Name(name)).base32hex == expected, "\(name)")
            // Case does not matter (the canonical form is hashed).
            #expect(parameters.hash(try Name(name.uppercased())).base32hex == expected)
        }
        let hash = parameters.hash(try Name("example"))
        #expect(Base32.decode(hash.base32hex.uppercased(), alphabet: .extendedHex) == hash.bytes)
        #expect(NSEC3Hash(bytes: hash.bytes) == hash)
    }

    @Test func hashesMatchLdnsWithRFC9276Parameters() throws {
        for name in ["1bz.", "www.1bz.", "shashi.1bz.", "*.wild.1bz.", "a.b.c.1bz.", "Mixed-Case.1bz."] {
            let ldns = try Command.run("ldns-nsec3-hash", ["-t", "0", name])
            #expect(ldns.status == 0, "\(ldns.stderr)")
            let ours = NSEC3Parameters.rfc9276.hash(try Name(name)).base32hex
            #expect(ldns.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ours + ".", "\(name)")
        }
        // And with a salt and iterations, the general case.
        let ldns = try Command.run("ldns-nsec3-hash", ["-t", "3", "-s", "0102", "1bz."])
        let ours = NSEC3Parameters(iterations: 3, salt: [1, 2]).hash(Self.apex).base32hex
        #expect(ldns.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ours + ".")
    }

    @Test func rdataAsLdnsReadsIt() throws {
        let parameters = NSEC3Parameters.rfc9276
        #expect(parameters.nsec3paramRDATA == [1, 0, 0, 0, 0])
        let next = parameters.hash(try Name("www.1bz."))
        let rdata = parameters.nsec3RDATA(next: next, types: [.a, .rrsig])
        let text = Self.masterFile([
            ResourceRecord(name: Self.apex, type: .nsec3param, ttl: 0, rdata: parameters.nsec3paramRDATA),
            ResourceRecord(name: parameters.hashedOwner(parameters.hash(Self.apex), apex: Self.apex), type: .nsec3, ttl: 300, rdata: rdata),
        ])
        let read = try Command.run("ldns-read-zone", ["/dev/stdin"], input: Data(text.utf8))
        #expect(read.status == 0, "\(read.stderr)")
        let lines = read.stdout.split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        #expect(lines.contains("1bz. 0 IN NSEC3PARAM 1 0 0 -"), "\(read.stdout)")
        #expect(lines.contains("s5v5vu0cvca6ih4lm0kmj0qor4ps3hv1.1bz. 300 IN NSEC3 1 0 0 - \(next.base32hex) A RRSIG"), "\(read.stdout)")
    }

    // MARK: A zone to sign

    static func rr(_ name: String, _ type: RRType, _ rdata: [UInt8], ttl: UInt32 = 3600) -> ResourceRecord {
        ResourceRecord(name: try! Name(name), type: type, ttl: ttl, rdata: rdata)
    }

    static func wire(_ name: String) -> [UInt8] { try! Name(name).wire }

    static func txt(_ text: String) -> [UInt8] { [UInt8(text.utf8.count)] + Array(text.utf8) }

    static func soa(serial: UInt32, minimum: UInt32 = 300, ttl: UInt32 = 3600) -> ResourceRecord {
        var rdata = wire("ns1.1bz.") + wire("hostmaster.1bz.")
        for value in [serial, 7200, 3600, 1_209_600, minimum] { rdata.append(be32: value) }
        return rr("1bz.", .soa, rdata, ttl: ttl)
    }

    /// Apex, names with several types, a name three labels down (two empty
    /// non-terminals), a wildcard, a secure and an insecure delegation with glue.
    static func baseZone() -> [ResourceRecord] {
        [
            soa(serial: 1), rr("1bz.", .ns, wire("ns1.1bz.")), rr("1bz.", .mx, [0, 10] + wire("mail.1bz.")),
            rr("ns1.1bz.", .a, [10, 0, 0, 1]), rr("mail.1bz.", .a, [10, 0, 0, 2]),
            rr("www.1bz.", .a, [10, 0, 0, 3]), rr("www.1bz.", .a, [10, 0, 0, 4]),
            rr("www.1bz.", .aaaa, [0x20, 1, 0xD, 0xB8] + Array(repeating: 0, count: 11) + [1]),
            rr("www.1bz.", .txt, txt("hello")), rr("x.y.z.1bz.", .txt, txt("deep")),
            rr("*.wild.1bz.", .txt, txt("wildcard")),
            rr("sec.1bz.", .ns, wire("ns.sec.1bz.")), rr("ns.sec.1bz.", .a, [10, 0, 1, 1]),
            rr("sec.1bz.", .ds, [0x30, 0x39, 13, 2] + Array(repeating: 0xAB, count: 32)),
            rr("insec.1bz.", .ns, wire("ns.elsewhere.net.")),
        ]
    }

    static func signer(_ algorithm: DNSSECAlgorithm, keys: Int = 1) throws -> ZoneSigner {
        ZoneSigner(apex: apex, keys: try (0..<keys).map { _ in try SigningKey.generate(algorithm: algorithm) })
    }

    // MARK: Master files and ldns

    /// RFC 1035 master file, RDATA in the generic form (RFC 3597 5), which ldns reads for every type.
    static func masterFile(_ records: [ResourceRecord]) -> String {
        records.map { record in
            let hex = record.rdata.map { String(format: "%02x", $0) }.joined()
            return "\(record.name) \(record.ttl) IN TYPE\(record.type.rawValue) \\# \(record.rdata.count) \(hex)"
        }.joined(separator: "\n") + "\n"
    }

    /// `ldns-verify-zone` on the records, validating at `time` (default: now).
    static func verify(_ records: [ResourceRecord], at time: UInt32? = nil) throws -> CommandResult {
        let path = NSTemporaryDirectory() + "nsec3-\(UUID().uuidString).zone"
        try masterFile(records).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Command.run("ldns-verify-zone", (time.map { ["-t", BINDKeyFile.timestamp($0)] } ?? []) + [path])
    }

    // MARK: Signing from scratch

    @Test(arguments: [DNSSECAlgorithm.ecdsaP256SHA256, .ed25519])
    func signedZonePassesLdnsVerifyZone(algorithm: DNSSECAlgorithm) throws {
        let signer = try Self.signer(algorithm)
        let zone = try NSEC3ZoneMaintainer(zone: Self.baseZone(), signer: signer, now: Self.now)
        let records = zone.allRecords()
        let result = try Self.verify(records)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")

        let nsec3 = records.filter { $0.type == .nsec3 }
        // Apex, ns1, mail, www, x.y.z, y.z, z (ENTs), *.wild, wild (ENT), sec, insec: not ns.sec (glue).
        let chain = ["1bz.", "ns1.1bz.", "mail.1bz.", "www.1bz.", "x.y.z.1bz.", "y.z.1bz.", "z.1bz.", "*.wild.1bz.",
                     "wild.1bz.", "sec.1bz.", "insec.1bz."]
        let owners = Set(try chain.map { NSEC3Parameters.rfc9276.hashedOwner(NSEC3Parameters.rfc9276.hash(try Name($0)), apex: Self.apex) })
        #expect(Set(nsec3.map(\.name)) == owners)
        #expect(nsec3.allSatisfy { $0.ttl == 300 }, "RFC 9077: min(SOA TTL, SOA minimum)")
        func bitmap(_ name: String) throws -> [UInt8] {
            let owner = NSEC3Parameters.rfc9276.hashedOwner(NSEC3Parameters.rfc9276.hash(try Name(name)), apex: Self.apex)
            return Array(try #require(nsec3.first { $0.name == owner }).rdata.dropFirst(5 + 1 + 20))
        }
        #expect(try bitmap("insec.1bz.") == TypeBitmap.encode([.ns]))
        #expect(try bitmap("sec.1bz.") == TypeBitmap.encode([.ns, .ds, .rrsig]))
        #expect(try bitmap("y.z.1bz.") == [])
        #expect(try bitmap("1bz.") == TypeBitmap.encode([.soa, .ns, .mx, .dnskey, .cds, .cdnskey, .nsec3param, .rrsig]))
        // Signed: not the delegations' NS, not the glue.
        let covered = Set(records.filter { $0.type == .rrsig }.map { "\($0.name) \(RRType(UInt16($0.rdata[0]) << 8 | UInt16($0.rdata[1])))" })
        #expect(covered.contains("sec.1bz. DS") && covered.contains("1bz. SOA") && covered.contains("1bz. DNSKEY"))
        #expect(!covered.contains("sec.1bz. NS") && !covered.contains("insec.1bz. NS") && !covered.contains("ns.sec.1bz. A"))
        #expect(records.contains { $0.type == .nsec3param && $0.name == Self.apex })
        // Every authoritative RRset and every NSEC3 has one signature per key.
        #expect(records.filter { $0.type == .rrsig }.count == covered.count)
    }

    @Test func signedZonePassesNSDCheckzone() throws {
        let zone = try NSEC3ZoneMaintainer(zone: Self.baseZone(), signer: try Self.signer(.ed25519), now: Self.now)
        let path = NSTemporaryDirectory() + "nsec3-nsd-\(UUID().uuidString).zone"
        try Self.masterFile(zone.allRecords()).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Command.run("nsd-checkzone", ["1bz", path])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }

    @Test func zoneWithoutSOAIsAClearError() throws {
        do {
            _ = try NSEC3ZoneMaintainer(zone: [Self.rr("www.1bz.", .a, [1, 2, 3, 4])], signer: try Self.signer(.ed25519), now: Self.now)
            Issue.record("a zone without SOA was signed")
        } catch {
            #expect("\(error)".contains("no SOA"))
        }
        var zone = try NSEC3ZoneMaintainer(zone: Self.baseZone(), signer: try Self.signer(.ed25519), now: Self.now)
        #expect(throws: DNSSECError.self) {
            try zone.apply(removed: [], added: [Self.rr("www.example.", .a, [1, 2, 3, 4])], now: Self.now)
        }
    }

    // MARK: Incremental

    /// A record without its signature bytes (ECDSA signatures differ on every signing).
    static func withoutSignature(_ record: ResourceRecord) -> ResourceRecord {
        guard record.type == .rrsig else { return record }
        var copy = record
        copy.rdata = Array(record.rdata.prefix(18 + apex.wire.count))
        return copy
    }

    struct Step: Sendable, CustomTestStringConvertible {
        let name: String
        let removed: [ResourceRecord]
        let added: [ResourceRecord]
        var minimum: UInt32 = 300
        var testDescription: String { name }
    }

    static let steps: [Step] = [
        Step(name: "names registered", removed: [], added: [rr("new1.1bz.", .a, [10, 9, 9, 1]), rr("new2.1bz.", .txt, txt("n2"))]),
        Step(
            name: "types and records change", removed: [rr("www.1bz.", .aaaa, [0x20, 1, 0xD, 0xB8] + Array(repeating: 0, count: 11) + [1]), rr("www.1bz.", .txt, txt("hello"))],
            added: [rr("www.1bz.", .txt, txt("changed")), rr("www.1bz.", .a, [10, 0, 0, 5])]),
        Step(name: "a deep name makes empty non-terminals", removed: [], added: [rr("deep.q.r.1bz.", .a, [10, 7, 7, 7])]),
        Step(name: "and they go with it", removed: [rr("deep.q.r.1bz.", .a, [10, 7, 7, 7])], added: []),
        Step(name: "a deep name goes", removed: [rr("x.y.z.1bz.", .txt, txt("deep"))], added: []),
        Step(name: "data below a future cut", removed: [], added: [rr("ns.deleg.1bz.", .a, [10, 5, 5, 5])]),
        Step(name: "a delegation appears above it", removed: [], added: [rr("deleg.1bz.", .ns, wire("ns.deleg.1bz."))]),
        Step(name: "it becomes secure", removed: [], added: [rr("deleg.1bz.", .ds, [0x11, 0x22, 13, 2] + Array(repeating: 0xCD, count: 32))]),
        Step(name: "glue under an existing cut", removed: [], added: [rr("foo.sec.1bz.", .a, [10, 0, 1, 2])]),
        Step(name: "a DS goes", removed: [rr("sec.1bz.", .ds, [0x30, 0x39, 13, 2] + Array(repeating: 0xAB, count: 32))], added: []),
        Step(
            name: "the delegation goes, its glue becomes data",
            removed: [rr("deleg.1bz.", .ns, wire("ns.deleg.1bz.")), rr("deleg.1bz.", .ds, [0x11, 0x22, 13, 2] + Array(repeating: 0xCD, count: 32))],
            added: []),
        Step(name: "names deregistered", removed: [rr("new1.1bz.", .a, [10, 9, 9, 1]), rr("new2.1bz.", .txt, txt("n2"))], added: []),
        Step(name: "a TTL changes", removed: [rr("mail.1bz.", .a, [10, 0, 0, 2])], added: [rr("mail.1bz.", .a, [10, 0, 0, 2], ttl: 60)]),
        Step(name: "the SOA minimum changes every NSEC3's TTL", removed: [], added: [rr("last.1bz.", .a, [1, 1, 1, 1])], minimum: 120),
        Step(name: "nothing but the serial", removed: [], added: []),
    ]

    @Test(arguments: [DNSSECAlgorithm.ed25519, .ecdsaP256SHA256])
    func incrementalChangesEqualSigningFromScratch(algorithm: DNSSECAlgorithm) throws {
        let signer = try Self.signer(algorithm)
        var unsigned = Set(Self.baseZone().filter { $0.type != .soa })
        var maintainer = try NSEC3ZoneMaintainer(zone: Self.baseZone(), signer: signer, now: Self.now)
        var published = Set(maintainer.allRecords())
        for (number, step) in Self.steps.enumerated() {
            let serial = UInt32(number + 2)
            let change = try maintainer.apply(
                removed: step.removed, added: step.added, newSOA: Self.soa(serial: serial, minimum: step.minimum), now: Self.now)
            unsigned.subtract(step.removed)
            unsigned.formUnion(step.added)
            // The change is exactly the difference (what IXFR sends), SOA aside.
            #expect(change.removed.allSatisfy { published.contains($0) }, "\(step.name): removes what is not there")
            #expect(!change.added.contains { published.contains($0) }, "\(step.name): adds what is there")
            #expect(!change.removed.contains { $0.type == .soa } && !change.added.contains { $0.type == .soa })
            #expect(change.removed.contains { $0.type == .rrsig && $0.name == Self.apex && $0.rdata.prefix(2) == [0, 6] })
            var next = published.filter { $0.type != .soa }
            next.subtract(change.removed)
            next.formUnion(change.added)
            next.insert(Self.soa(serial: serial, minimum: step.minimum))
            let current = Set(maintainer.allRecords())
            #expect(next == current, "\(step.name): old zone + change is not the new zone")
            published = current

            // The same as signing the new unsigned zone from scratch at the same time.
            let scratch = try NSEC3ZoneMaintainer.signedRecords(
                zone: [Self.soa(serial: serial, minimum: step.minimum)] + Array(unsigned), signer: signer, now: Self.now)
            if algorithm == .ed25519 {  // deterministic signatures: byte for byte
                #expect(Set(scratch) == current, "\(step.name)")
            }
            let ours = Set(current.map(Self.withoutSignature))
            let theirs = Set(scratch.map(Self.withoutSignature))
            #expect(ours == theirs, "\(step.name): only ours \(ours.subtracting(theirs)), only scratch \(theirs.subtracting(ours))")
            if number == 2 || number == 6 || number == Self.steps.count - 1 {
                let result = try Self.verify(maintainer.allRecords())
                #expect(result.status == 0, "\(step.name): \(result.stdout)\n\(result.stderr)")
            }
        }
    }

    @Test func aSmallChangeSignsLittle() throws {
        var maintainer = try NSEC3ZoneMaintainer(zone: Self.baseZone(), signer: try Self.signer(.ed25519), now: Self.now)
        let change = try maintainer.apply(
            removed: [], added: [Self.rr("new.1bz.", .a, [1, 2, 3, 4])], newSOA: Self.soa(serial: 2), now: Self.now + 60)
        let addedSignatures = change.added.filter { $0.type == .rrsig }
        // new.1bz A, its NSEC3, the predecessor's NSEC3, the SOA: four signatures, no more.
        #expect(addedSignatures.count == 4, "\(addedSignatures.map(\.name))")
        #expect(change.added.filter { $0.type == .nsec3 }.count == 2)
        #expect(change.removed.filter { $0.type == .nsec3 }.count == 1)
        #expect(change.removed.filter { $0.type == .rrsig }.count == 2)
    }

    // MARK: Refresh

    @Test func refreshResignsOnlyWhatIsDue() throws {
        let timing = ZoneSigner.Timing(validity: 10_000, inceptionOffset: 0, refresh: 2_000)
        let t0 = Self.now
        let signer = try Self.signer(.ed25519)
        var maintainer = try NSEC3ZoneMaintainer(zone: Self.baseZone(), signer: signer, now: t0, timing: timing)
        func expiration(_ rrsig: ResourceRecord) -> UInt32 { UInt32(bigEndianBytes: rrsig.rdata[8..<12]) }
        let before = maintainer.allRecords()
        let signatures = before.filter { $0.type == .rrsig }
        let expirations = signatures.map(expiration).sorted()
        // Staggered: between validity - refresh/2 and validity after signing.
        #expect(expirations.first! > t0 + 10_000 - 1_000 && expirations.last! <= t0 + 10_000)
        #expect(expirations.first! < expirations.last!)
        #expect(maintainer.nextRefresh == expirations.first! - 2_000)
        #expect(try maintainer.refresh(now: maintainer.nextRefresh - 1).isEmpty)

        let at = expirations[expirations.count / 2] - 2_000
        let change = try maintainer.refresh(now: at)
        let due = Set(signatures.filter { expiration($0) - 2_000 <= at })
        #expect(!due.isEmpty && due.count < signatures.count)
        #expect(Set(change.removed) == due, "only due signatures go")
        #expect(change.added.count == due.count && change.added.allSatisfy { $0.type == .rrsig && expiration($0) > at + 2_000 })
        var next = Set(before)
        next.subtract(change.removed)
        next.formUnion(change.added)
        #expect(next == Set(maintainer.allRecords()))
        #expect(maintainer.nextRefresh > at)

        // A change at a time when signatures are due renews them in the same change.
        var other = try NSEC3ZoneMaintainer(zone: Self.baseZone(), signer: signer, now: t0, timing: timing)
        let merged = try other.apply(
            removed: [], added: [Self.rr("new.1bz.", .a, [1, 2, 3, 4])], newSOA: Self.soa(serial: 2), now: at)
        #expect(due.isSubset(of: Set(merged.removed)), "due signatures renewed with the change")
        #expect(other.nextRefresh > at)
        let quiet = try other.apply(removed: [], added: [], newSOA: Self.soa(serial: 3), now: at + 1, refreshing: false)
        #expect(quiet.removed.filter { $0.type == .rrsig }.count == 1, "only the SOA's signature")

        // New keys (a rollover's second key): DNSKEY, CDS, CDNSKEY change and everything is signed by both.
        let both = ZoneSigner(apex: Self.apex, keys: signer.keys + [try SigningKey.generate(algorithm: .ed25519)])
        let roll = try maintainer.refresh(now: at + 1, signer: both)
        let after = maintainer.allRecords()
        #expect(roll.added.filter { $0.type == .dnskey }.count == 1 && !roll.removed.contains { $0.type == .dnskey })
        #expect(roll.removed.filter { $0.type == .rrsig }.count == signatures.count, "every signature is made again")
        #expect(after.filter { $0.type == .rrsig }.count == 2 * signatures.count)
        let result = try Self.verify(after, at: at + 2)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }

    // MARK: Memory

    @Test func bytesPerName() throws {
        // 2,000 names: the apex's share of the count is already below 1 %; 10,000 took
        // 19 s of CPU in the debug build (scripts/scale measures large zones).
        let count = 2_000
        var zone = [Self.soa(serial: 1), Self.rr("1bz.", .ns, Self.wire("ns1.1bz."))]
        for index in 0..<count {
            let name = "name\(index).1bz."
            zone.append(Self.rr(name, .a, [10, UInt8(index >> 16 & 0xFF), UInt8(index >> 8 & 0xFF), UInt8(index & 0xFF)]))
            zone.append(Self.rr(name, .txt, Self.txt("owner=0x\(String(index, radix: 16))")))
        }
        let signer = try Self.signer(.ed25519)
        let clock = ContinuousClock()
        let start = clock.now
        var maintainer = try NSEC3ZoneMaintainer(zone: zone, signer: signer, now: Self.now)
        let built = clock.now - start
        #expect(maintainer.nameCount == count + 1)
        let perName = maintainer.storageBytes / maintainer.nameCount
        // A + TXT + NSEC3, three 64-byte signatures each with 11 bytes of timing: ~400 bytes of payload.
        print("NSEC3ZoneMaintainer: \(perName) bytes per name counted (A + TXT, Ed25519, \(count) names)")
        #expect(perName < 600, "\(perName) bytes per name")

        // One registration per change, as blocks bring them.
        let changes = 100
        let applyStart = clock.now
        for index in 0..<changes {
            let change = try maintainer.apply(
                removed: [], added: [Self.rr("reg\(index).1bz.", .a, [10, 1, 1, UInt8(index)])],
                newSOA: Self.soa(serial: UInt32(index + 2)), now: Self.now)
            #expect(change.added.filter { $0.type == .rrsig }.count == 4)
        }
        let perChange = (clock.now - applyStart) / changes
        print("NSEC3ZoneMaintainer: built \(count) names in \(built), one registration applied in \(perChange)")
    }
}
