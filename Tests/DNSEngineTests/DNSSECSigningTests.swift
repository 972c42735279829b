import DNSEngine
import DNSSEC
import DNSTestSupport
import DNSWire
import ZoneCache
import Testing

/// Online signing in the engine: DO=0 answers unchanged byte for byte, DO=1 answers
/// with RRSIGs, DNSKEY at the apex, compact denial (RFC 9824) for negatives, signed DS
/// (or its denial) in referrals, glue unsigned.
@Suite struct DNSSECSigningTests {
    static let now: UInt32 = 1_780_000_000
    static let key = try! SigningKey.generate(algorithm: .ecdsaP256SHA256)
    static let signer = ZoneSigner(apex: EngineFixture.apex, keys: [key])
    static let signedEngine = QueryEngine(zone: EngineFixture.shippedZone, signer: signer, unixTime: now)
    static let plainEngine = QueryEngine(zone: EngineFixture.shippedZone)

    static func doQuery(_ name: String, _ type: RRType, compactOK: Bool = false) -> [UInt8] {
        var bytes = EngineFixture.query(name, type, edns: EDNS(udpPayloadSize: 1232, dnssecOK: true))
        // The OPT (no options) is last: its flags' high byte is 4 from the end (RFC 9824 4: CO = 0x4000).
        if compactOK { bytes[bytes.count - 4] |= 0x40 }
        return bytes
    }

    static let names = [
        "1bz", "ns1.1bz", "www.1bz", "docs.1bz", "mail.1bz", "registry.1bz", "info.1bz", "_dns.info.1bz",
        "status._dns.info.1bz", "example.1bz", "ns1.example.1bz", "deep.example.1bz", "nope.1bz", "a.b.1bz",
    ]
    static let types: [RRType] = [.a, .aaaa, .txt, .mx, .ns, .soa, .ds, .any, .cname, .srv]

    @Test func answersWithoutDOAreByteIdentical() throws {
        for name in Self.names {
            for type in Self.types {
                for edns in [nil, EDNS(udpPayloadSize: 1232)] {
                    let query = EngineFixture.query(name, type, edns: edns)
                    let plain = Self.plainEngine.respond(to: query, transport: .udp)
                    let signed = Self.signedEngine.respond(to: query, transport: .udp)
                    #expect(plain == signed, "\(name) \(type) edns=\(edns != nil)")
                }
            }
        }
    }

    @Test func positiveAnswerCarriesRRSIG() throws {
        let response = try EngineFixture.ask(Self.signedEngine, Self.doQuery("www.1bz", .a))
        #expect(response.rcode == .noError && response.header.authoritative)
        #expect(response.answers.map(\.type) == [.a, .rrsig])
        let rrsig = try #require(response.answers.last)
        // type covered A, algorithm 13, 2 labels, original TTL, expiration, inception, tag, signer.
        #expect(Array(rrsig.rdata[0..<4]) == [0, 1, 13, 2])
        let expiration = rrsig.rdata[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let inception = rrsig.rdata[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(expiration == Self.now + 7 * 86_400 && inception == Self.now - 3600)
        #expect(rrsig.rdata[16..<18].elementsEqual(withUnsafeBytes(of: Self.key.keyTag.bigEndian, Array.init)))
        #expect(response.edns?.dnssecOK == true)
    }

    @Test func apexPublishesDNSKEYAndCDS() throws {
        let response = try EngineFixture.ask(Self.signedEngine, Self.doQuery("1bz", .dnskey))
        #expect(response.answers.map(\.type) == [.dnskey, .rrsig])
        #expect(response.answers.first?.rdata == Self.key.dnskeyRDATA)
        let cds = try EngineFixture.ask(Self.signedEngine, Self.doQuery("1bz", .cds))
        #expect(cds.answers.map(\.type) == [.cds, .rrsig])
    }

    /// RFC 9824 3.2: NOERROR, SOA + RRSIG, then the NSEC at `name` (next name
    /// `\000.name`, bitmap `types`) + RRSIG.
    static func expectCompactDenial(
        _ response: Message, at name: String, types: [RRType], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(response.rcode == .noError && response.answers.isEmpty, sourceLocation: sourceLocation)
        #expect(response.authorities.map(\.type) == [.soa, .rrsig, .nsec, .rrsig], sourceLocation: sourceLocation)
        let nsec = try #require(response.authorities.dropFirst(2).first, sourceLocation: sourceLocation)
        #expect(nsec.name == (try Name(name)), sourceLocation: sourceLocation)
        let next = try Name("\\000." + name)
        #expect(Array(nsec.rdata.prefix(next.wire.count)) == next.wire, sourceLocation: sourceLocation)
        #expect(Array(nsec.rdata.dropFirst(next.wire.count)) == TypeBitmap.encode(types), sourceLocation: sourceLocation)
    }

    @Test func nonexistentNameIsCompactDenial() throws {
        let response = try EngineFixture.ask(Self.signedEngine, Self.doQuery("No.Such.1bz", .a))
        try Self.expectCompactDenial(response, at: "no.such.1bz", types: [.rrsig, .nsec, .nxname])
        // CO restores NXDOMAIN.
        let withCO = try EngineFixture.ask(Self.signedEngine, Self.doQuery("no.such.1bz", .a, compactOK: true))
        #expect(withCO.rcode == .nxDomain && withCO.authorities.count == 4)
        // DO=0: plain NXDOMAIN as before.
        let plain = try EngineFixture.ask(Self.signedEngine, EngineFixture.query("no.such.1bz", .a))
        #expect(plain.rcode == .nxDomain && plain.authorities.map(\.type) == [.soa])
    }

    @Test func aFloodOfRandomNamesCostsOneSignaturePerName() throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone, signer: Self.signer, unixTime: Self.now)
        let first = try EngineFixture.ask(engine, Self.doQuery("r1.x.1bz", .a))
        let again = try EngineFixture.ask(engine, Self.doQuery("R1.X.1bz", .aaaa))
        #expect(again.authorities[2...] == first.authorities[2...], "the cached NSEC and RRSIG")
        _ = try EngineFixture.ask(engine, Self.doQuery("r2.x.1bz", .a))
        #expect(engine.prepared.cachedDenials == 2)
        // Re-signing starts a new cache (the denials' signature times are the snapshot's).
        engine.resign(with: Self.signer, unixTime: Self.now + 60)
        #expect(engine.prepared.cachedDenials == 0)
    }

    @Test func noDataListsTheTypesThatExist() throws {
        let response = try EngineFixture.ask(Self.signedEngine, Self.doQuery("www.1bz", .txt))
        try Self.expectCompactDenial(response, at: "www.1bz", types: [.a, .aaaa, .rrsig, .nsec])
    }

    @Test func referralCarriesSignedDSAndUnsignedGlue() throws {
        let response = try EngineFixture.ask(Self.signedEngine, Self.doQuery("www.example.1bz", .a))
        #expect(!response.header.authoritative)
        #expect(response.authorities.map(\.type) == [.ns, .ns, .ds, .rrsig])
        #expect(!response.additionals.contains { $0.type == .rrsig })
        let ds = try EngineFixture.ask(Self.signedEngine, Self.doQuery("example.1bz", .ds))
        #expect(ds.header.authoritative && ds.answers.map(\.type) == [.ds, .rrsig])
    }

    @Test func insecureDelegationDeniesDS() throws {
        let records = EngineFixture.shippedZone.nodes.flatMap { node in node.types.flatMap { node.rrsets[$0]! } }
            .filter { $0.type != .ds }
        let zone = try Zone(apex: EngineFixture.apex, records: records)
        let engine = QueryEngine(zone: zone, signer: Self.signer, unixTime: Self.now)
        let response = try EngineFixture.ask(engine, Self.doQuery("www.example.1bz", .a))
        #expect(response.authorities.map(\.type) == [.ns, .ns, .nsec, .rrsig])
        let nsec = response.authorities[2]
        #expect(nsec.name == (try Name("example.1bz")))
    }

    @Test func resigningMovesTheSignatureTimes() throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone, signer: Self.signer, unixTime: Self.now)
        let refresh = try #require(engine.signatureRefreshTime)
        #expect(refresh == Self.now + 7 * 86_400 - 7 * 86_400 / 4)
        engine.resign(with: Self.signer, unixTime: refresh)
        let response = try EngineFixture.ask(engine, Self.doQuery("www.1bz", .a))
        let inception = response.answers[1].rdata[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(inception == refresh - 3600)
        // A new serial keeps the signer and signs at the time given.
        engine.replaceZone(EngineFixture.shippedZone.withSerial(99), unixTime: refresh + 10)
        let soa = try EngineFixture.ask(engine, Self.doQuery("1bz", .soa))
        #expect(soa.answers.map(\.type) == [.soa, .rrsig])
        #expect(engine.zone.serial == 99)
    }

    /// Issue 23: a new serial re-signs the SOA RRset only (one signature set per form of
    /// the SOA: one RRSIG per active key); every other signature of the static zone is
    /// reused, and the answers are those of a zone signed from scratch at the same time.
    @Test func aNewSerialMakesExactlyOneNewSignatureSet() throws {
        let twoKeys = ZoneSigner(
            apex: EngineFixture.apex, keys: [Self.key, try SigningKey.generate(algorithm: .ecdsaP256SHA256)])
        let engine = QueryEngine(zone: EngineFixture.shippedZone, signer: twoKeys, unixTime: Self.now)
        let first = try #require(engine.prepared.signed)
        #expect(first.signaturesMade > 20, "the first preparation signs the whole static zone")
        let www = try EngineFixture.ask(engine, Self.doQuery("www.1bz", .a)).answers
        for (step, serial) in [UInt32(2_026_120_701), 2_026_120_702, 2_026_120_705].enumerated() {
            engine.replaceZone(EngineFixture.shippedZone.withSerial(serial), unixTime: Self.now + 60 * UInt32(step + 1))
            let signed = try #require(engine.prepared.signed)
            // The new SOA only, in its two forms: as answered at the apex, and as the
            // head of negatives with the negative TTL (min(TTL, minimum), RFC 2308 3),
            // whose RRSIG carries that TTL; one RRSIG per active key each.
            #expect(signed.signaturesMade == 2 * twoKeys.activeKeys.count, "only the new SOA is signed")
            #expect(signed.signedAt == Self.now, "the reused signatures keep their signing time")
            let soa = try EngineFixture.ask(engine, Self.doQuery("1bz", .soa)).answers
            #expect(soa.map(\.type) == [.soa, .rrsig, .rrsig] && SerialNumber.of(soa: soa[0]) == serial)
            // The same answer a fresh signing gives (ECDSA is randomised: compare the shape).
            let fresh = QueryEngine(
                zone: EngineFixture.shippedZone.withSerial(serial), signer: twoKeys, unixTime: Self.now)
            #expect(try EngineFixture.ask(fresh, Self.doQuery("1bz", .soa)).answers.map(\.rdata.count) == soa.map(\.rdata.count))
            #expect(try EngineFixture.ask(engine, Self.doQuery("www.1bz", .a)).answers == www, "reused as they were")
            let negative = try EngineFixture.ask(engine, Self.doQuery("nope.1bz", .a)).authorities
            #expect(negative.first.flatMap { SerialNumber.of(soa: $0) } == serial && negative[1].type == .rrsig)
        }
        // Due signatures (or new keys) sign the whole zone again.
        let due = try #require(engine.signatureRefreshTime)
        engine.replaceZone(EngineFixture.shippedZone.withSerial(2_026_120_706), unixTime: due)
        #expect(try #require(engine.prepared.signed).signaturesMade == first.signaturesMade)
    }

    @Test func dynamicNegativeTakesTheCurrentSignedSOA() throws {
        let denial = SignedDenial(
            records: try Self.signer.denialRecords(
                owner: try Name("gone.1bz"), types: nil, ttl: 300, now: Self.now, timing: .dynamicDefault))
        let engine = QueryEngine(zone: EngineFixture.shippedZone, signer: Self.signer, unixTime: Self.now)
        let request = Self.doQuery("gone.1bz", .a)
        let before = try Message(
            decoding: try #require(engine.respond(to: request, transport: .udp, resolved: .signedNameError(denial))))
        #expect(before.authorities.map(\.type) == [.soa, .rrsig, .nsec, .rrsig])
        engine.replaceZone(EngineFixture.shippedZone.withSerial(77), unixTime: Self.now)
        let after = try Message(
            decoding: try #require(engine.respond(to: request, transport: .udp, resolved: .signedNameError(denial))))
        #expect(after.authorities[0].rdata != before.authorities[0].rdata)  // the new serial
        #expect(after.authorities[2].rdata == before.authorities[2].rdata)  // the same cached NSEC
    }
}

/// Extended DNS Errors (RFC 8914) on the answers that need explaining.
@Suite struct ExtendedDNSErrorTests {
    static func ede(_ message: Message) -> [UInt16] {
        (message.edns?.options ?? []).filter { $0.code == 15 }.map { UInt16($0.data[0]) << 8 | UInt16($0.data[1]) }
    }

    @Test func upstreamFailureIsEDE22AndSigningFailureEDE0() throws {
        let engine = QueryEngine(
            zone: EngineFixture.shippedZone, dynamicSource: DynamicSourceTests.FakeSource(),
            signer: DNSSECSigningTests.signer, unixTime: DNSSECSigningTests.now)
        let request = EngineFixture.query("other.1bz", .a)
        let failed = try Message(
            decoding: try #require(engine.respond(to: request, transport: .udp, resolved: .serverFailure)))
        #expect(failed.rcode == .servFail && Self.ede(failed) == [22])
        // Unsigned records for a DO=1 query (the source could not sign): SERVFAIL, EDE 0.
        let unsigned = DynamicAnswer.records(name: try Name("other.1bz"), [DynamicSourceTests.shashiA])
        let doRequest = DNSSECSigningTests.doQuery("other.1bz", .a)
        let refused = try Message(
            decoding: try #require(engine.respond(to: doRequest, transport: .udp, resolved: unsigned)))
        #expect(refused.rcode == .servFail && Self.ede(refused) == [0])
        // Without EDNS there is no OPT to carry it.
        let plain = try Message(
            decoding: try #require(
                engine.respond(to: EngineFixture.query("other.1bz", .a, edns: nil), transport: .udp, resolved: .serverFailure)))
        #expect(plain.rcode == .servFail && plain.edns == nil)
        // Ordinary answers carry none.
        #expect(Self.ede(try EngineFixture.ask(engine, EngineFixture.query("www.1bz", .a))).isEmpty)
    }
}
