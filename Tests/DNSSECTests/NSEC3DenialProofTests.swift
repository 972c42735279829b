import DNSWire
import Foundation
import Testing

@testable import DNSSEC

/// `denial = "nsec3"`: the proof picked from the signed chain for a name error (RFC 5155
/// 7.2.2: closest encloser, next closer, wildcard) and for NODATA (7.2.3), checked
/// against the chain itself (matching and covering as RFC 5155 defines them) and copied
/// byte for byte from the signed zone's records.
@Suite struct NSEC3DenialProofTests {
    typealias Z = NSEC3ZoneTests

    /// The base zone plus a node name with its service name below it.
    static func zone() throws -> NSEC3SignedZone {
        let records =
            Z.baseZone() + [
                Z.rr("shashi.1bz.", .a, [192, 0, 2, 10]), Z.rr("shashi.1bz.", .txt, Z.txt("owner=0x1")),
                Z.rr("_443._tcp.shashi.1bz.", .txt, Z.txt("svc")),
            ]
        return try NSEC3ZoneMaintainer(zone: records, signer: try Z.signer(.ed25519), now: Z.now).signedZone
    }

    static func hash(_ text: String) -> NSEC3Hash { NSEC3Parameters.rfc9276.hash(try! Name(text)) }

    /// Every NSEC3 of the zone: owner hash → next hash.
    static func chain(_ zone: NSEC3SignedZone) -> [NSEC3Hash: NSEC3Hash] {
        var out: [NSEC3Hash: NSEC3Hash] = [:]
        for record in zone where record.type == .nsec3 {
            let label = Array(record.name.wire[1...Int(record.name.wire[0])])
            let owner = NSEC3Hash(bytes: Base32.decode(String(decoding: label, as: UTF8.self), alphabet: .extendedHex)!)
            let saltLength = Int(record.rdata[4])
            out[owner] = NSEC3Hash(bytes: record.rdata[(6 + saltLength)...])
        }
        return out
    }

    /// RFC 5155 3.1.7: owner < hash < next, or the last NSEC3 wrapping around.
    static func covers(_ owner: NSEC3Hash, _ next: NSEC3Hash, _ hash: NSEC3Hash) -> Bool {
        owner < next ? owner < hash && hash < next : hash > owner || hash < next
    }

    /// The proof's bytes are the signed zone's own NSEC3 and RRSIG records of those owners.
    static func expectCopied(_ proof: NSEC3SignedZone.DenialProof, from zone: NSEC3SignedZone) {
        var encoder = MessageEncoder(base: 0, compress: false)
        var count = 0
        for owner in proof.owners {
            let name = NSEC3Parameters.rfc9276.hashedOwner(owner, apex: Z.apex)
            for record in zone where record.name == name {
                encoder.write(record: record)
                count += 1
            }
        }
        #expect(Array(encoder.bytes) == proof.bytes)
        #expect(Int(proof.count) == count && count == proof.owners.count * 2)
    }

    /// (query name, closest encloser, next closer): 1, 2 and 3 labels below the apex,
    /// below a name with data, below an empty non-terminal, below a node name.
    static let nameErrors: [(String, String, String)] = [
        ("nope.1bz.", "1bz.", "nope.1bz."),
        ("a.nope.1bz.", "1bz.", "nope.1bz."),
        ("b.a.nope.1bz.", "1bz.", "nope.1bz."),
        ("nope.www.1bz.", "www.1bz.", "nope.www.1bz."),
        ("q.nope.www.1bz.", "www.1bz.", "nope.www.1bz."),
        ("nope.y.z.1bz.", "y.z.1bz.", "nope.y.z.1bz."),
        ("nope.shashi.1bz.", "shashi.1bz.", "nope.shashi.1bz."),
        ("_80._tcp.shashi.1bz.", "_tcp.shashi.1bz.", "_80._tcp.shashi.1bz."),
        ("NoPe.1BZ.", "1bz.", "nope.1bz."),
    ]

    @Test func nameErrorProvesClosestEncloserNextCloserAndWildcard() throws {
        let zone = try Self.zone()
        let chain = Self.chain(zone)
        for (query, encloser, nextCloser) in Self.nameErrors {
            let proof = try #require(zone.nameErrorProof(for: try Name(query)), "\(query)")
            // RFC 5155 7.2.2: matching the closest encloser first.
            #expect(proof.owners.first == Self.hash(encloser), "\(query)")
            #expect(chain[Self.hash(encloser)] != nil)
            let covered = proof.owners.dropFirst()
            #expect(covered.count <= 2)
            for target in [Self.hash(nextCloser), Self.hash("*." + encloser)] {
                let coverer = proof.owners.first { owner in chain[owner].map { Self.covers(owner, $0, target) } ?? false }
                #expect(coverer != nil, "\(query): nothing covers \(target)")
            }
            // Each NSEC3 once (deduplicated when one covers both).
            #expect(Set(proof.owners).count == proof.owners.count)
            Self.expectCopied(proof, from: zone)
        }
    }

    @Test func notANameErrorByThisChain() throws {
        let zone = try Self.zone()
        for name in [
            "www.1bz.",  // exists
            "y.z.1bz.",  // empty non-terminal: exists
            "1bz.",  // the apex
            "nope.wild.1bz.",  // a wildcard exists at the closest encloser: synthesis, not NXDOMAIN
            "host.insec.1bz.",  // below a delegation: a referral
            "ns.sec.1bz.",  // glue, out of the chain
            "other.example.",  // not in the zone
        ] {
            #expect(zone.nameErrorProof(for: try Name(name)) == nil, "\(name)")
        }
    }

    @Test func noDataIsTheMatchingNSEC3() throws {
        let zone = try Self.zone()
        let cases: [(String, RRType)] = [
            ("www.1bz.", .mx), ("y.z.1bz.", .a), ("shashi.1bz.", .aaaa), ("1bz.", .aaaa), ("insec.1bz.", .ds),
            ("_tcp.shashi.1bz.", .txt),
        ]
        for (name, type) in cases {
            let proof = try #require(zone.noDataProof(for: try Name(name), type: type), "\(name) \(type)")
            #expect(proof.owners == [Self.hash(name)])
            Self.expectCopied(proof, from: zone)
        }
        // The chain lists the type, or has no NSEC3 for the name: nothing to prove.
        #expect(zone.noDataProof(for: try Name("www.1bz."), type: .a) == nil)
        #expect(zone.noDataProof(for: try Name("sec.1bz."), type: .ds) == nil)
        #expect(zone.noDataProof(for: try Name("nope.1bz."), type: .a) == nil)
        #expect(zone.noDataProof(for: try Name("ns.sec.1bz."), type: .aaaa) == nil)
    }

    /// What publishing a snapshot costs the maintainer: its next change copies the
    /// index (one 32-byte entry per name, retaining each name's packed bytes). Timed on
    /// an index of `count` entries without signing them (signing 1M names in a debug
    /// build would take hours); docs/performance.md#dnssec has the numbers.
    @Test(arguments: [100_000, 1_000_000])
    func publishCopiesTheIndexOnce(count: Int) {
        var entries: [NSEC3ZoneMaintainer.Entry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            var bytes = [UInt8](repeating: 0, count: 20)
            withUnsafeBytes(of: UInt64(index).bigEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            entries.append(.init(hash: NSEC3Hash(bytes: bytes), due: .max, blob: [UInt8](repeating: 1, count: 16)))
        }
        let clock = ContinuousClock()
        var samples: [Duration] = []
        for _ in 0..<5 {
            let snapshot = entries  // what `signedZone` holds
            let before = entries[0].due
            let start = clock.now
            entries[0].due = before &+ 1  // the maintainer's next change: copy on write
            samples.append(clock.now - start)
            #expect(snapshot[0].due == before)
        }
        let best = samples.min()!
        print("NSEC3 publish: the next change copies \(count) index entries in \(best) (best of 5)")
        #expect(best < .seconds(2))
    }
}
