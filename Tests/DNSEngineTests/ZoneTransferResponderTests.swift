import DNSEngine
import DNSTestSupport
import DNSWire
import Testing
import ZoneCache
import ZoneTransfer

@Suite struct ZoneTransferResponderTests {
    static let key = TSIGKey(name: try! Name("transfer.1bz."), algorithm: .hmacSHA256, secret: Array("0123456789abcdef".utf8))
    static let loopback = ClientAddress([127, 0, 0, 1])!
    static let other = ClientAddress([192, 0, 2, 7])!
    static let now: UInt64 = 1_800_000_000

    static func acl(_ entries: [(String, Name?)]) -> TransferACL {
        TransferACL(entries.map { TransferACL.Entry(prefix: AddressPrefix($0.0)!, key: $0.1) })
    }

    func responder(
        _ source: any ZoneTransferSource, acl: TransferACL = acl([("127.0.0.0/8", nil)]), messageSize: Int = 16_384
    ) -> ZoneTransferResponder {
        TransferFixture.responder(source, keys: TSIGKeyring([Self.key]), acl: acl, messageSize: messageSize)
    }

    /// Every message of the answer, decoded.
    func answer(
        _ responder: ZoneTransferResponder, _ request: [UInt8], transport: Transport = .tcp,
        client: ClientAddress = loopback
    ) throws -> [Message] {
        let outcome = request.withUnsafeBytes {
            responder.respond(to: $0, transport: transport, client: client, now: Self.now)
        }
        switch outcome {
        case .reply(let bytes, _): return [try Message(decoding: bytes)]
        case .stream(var stream, _):
            return try stream.collect(now: Self.now).map { bytes in
                #expect(bytes.count <= 16_384)
                return try Message(decoding: bytes)
            }
        case .notForUs, .query: return []
        }
    }

    @Test func axfrOfALargeZoneStreamsSeveralMessagesSOAFirstAndLast() throws {
        let zone = TransferFixture.zone(serial: 7, names: 3000)
        let messages = try answer(responder(StaticZoneTransferSource(zone: zone)), TransferFixture.request(.axfr))
        #expect(messages.count > 3)
        let records = messages.flatMap(\.answers)
        #expect(records.first?.type == .soa && records.last?.type == .soa)
        #expect(records.filter { $0.type == .soa }.count == 2)
        // Every record of the zone once: 3000 hosts, NS, ns1's A, plus the two SOAs.
        #expect(records.count == 3000 + 2 + 2)
        #expect(Set(records.dropFirst().dropLast()).count == records.count - 2)
        #expect(messages.allSatisfy { $0.header.isResponse && $0.header.authoritative && $0.header.id == 0x1234 })
        #expect(messages[0].questions.count == 1 && messages.dropFirst().allSatisfy { $0.questions.isEmpty })
    }

    @Test func signedAXFRSignsEveryMessage() throws {
        let zone = TransferFixture.zone(serial: 7, names: 2000)
        var request = TransferFixture.request(.axfr)
        var signer = TSIGSigner.forRequest(key: Self.key)
        signer.sign(&request, now: Self.now)
        let acl = Self.acl([("127.0.0.1", Self.key.name)])
        let messages = try answer(responder(StaticZoneTransferSource(zone: zone), acl: acl), request)
        #expect(messages.count > 1)
        #expect(messages.allSatisfy { $0.additionals.last?.type == TSIGRecord.type })
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let allow: [(String, String?)]
        let client: [UInt8]
        let signed: Bool
        let transport: Transport
        let rcode: Rcode
        var testDescription: String { name }
    }

    @Test(arguments: [
        Refusal(name: "no entry for the address", allow: [("10.0.0.0/8", nil)], client: [127, 0, 0, 1], signed: false, transport: .tcp, rcode: .refused),
        Refusal(name: "unsigned where a key is required", allow: [("127.0.0.0/8", "transfer.1bz.")], client: [127, 0, 0, 1], signed: false, transport: .tcp, rcode: .refused),
        Refusal(name: "signed with another key", allow: [("127.0.0.0/8", "other.1bz.")], client: [127, 0, 0, 1], signed: true, transport: .tcp, rcode: .refused),
        Refusal(name: "nothing configured", allow: [], client: [127, 0, 0, 1], signed: true, transport: .tcp, rcode: .refused),
        Refusal(name: "AXFR over UDP", allow: [("0.0.0.0/0", nil)], client: [127, 0, 0, 1], signed: false, transport: .udp, rcode: .refused),
        Refusal(name: "IPv6 prefix, IPv4 client", allow: [("::/0", nil)], client: [127, 0, 0, 1], signed: false, transport: .tcp, rcode: .refused),
    ])
    func refused(case refusal: Refusal) throws {
        let acl = Self.acl(refusal.allow.map { ($0.0, $0.1.map { try! Name($0) }) })
        var request = TransferFixture.request(.axfr)
        if refusal.signed {
            var signer = TSIGSigner.forRequest(key: Self.key)
            signer.sign(&request, now: Self.now)
        }
        let source = StaticZoneTransferSource(zone: TransferFixture.zone(serial: 1, names: 3))
        let messages = try answer(
            responder(source, acl: acl), request, transport: refusal.transport, client: ClientAddress(refusal.client)!)
        #expect(messages.count == 1)
        #expect(messages.first?.rcode == refusal.rcode)
        #expect(messages.first?.answers.isEmpty == true)
        // A verified request's refusal is signed too.
        #expect((messages.first?.additionals.last?.type == TSIGRecord.type) == refusal.signed)
    }

    @Test func otherZoneIsNOTAUTH() throws {
        let source = StaticZoneTransferSource(zone: TransferFixture.zone(serial: 1, names: 3))
        let messages = try answer(responder(source), TransferFixture.request(.axfr, name: try Name("example.")))
        #expect(messages.first?.rcode == .notAuth)
    }

    @Test func unsignedPlainQueriesAreNotClaimedSignedOnesAre() throws {
        let plain = EngineFixture.query("1bz", .soa)
        #expect(!plain.withUnsafeBytes(ZoneTransferResponder.claims))
        var signed = plain
        var signer = TSIGSigner.forRequest(key: Self.key)
        signer.sign(&signed, now: Self.now)
        #expect(signed.withUnsafeBytes(ZoneTransferResponder.claims))
        let outcome = signed.withUnsafeBytes {
            responder(StaticZoneTransferSource(zone: TransferFixture.zone(serial: 1, names: 1)))
                .respond(to: $0, transport: .udp, client: Self.other, now: Self.now)
        }
        guard case .query(let unsigned, _) = outcome else { Issue.record("a signed SOA query was not passed on"); return }
        #expect(unsigned == plain)
    }

    // MARK: IXFR

    func journaled() -> JournaledTransferSource {
        let source = JournaledTransferSource()
        source.publish(serial: 10, records: TransferFixture.records(names: 50))
        source.publish(serial: 11, records: TransferFixture.records(names: 51))
        source.publish(serial: 12, records: TransferFixture.records(names: 52, salt: 1))
        return source
    }

    func serials(_ records: [ResourceRecord]) -> [UInt32] {
        records.compactMap { SerialNumber.of(soa: $0) }
    }

    @Test(arguments: [UInt32(12), 13, 12 &+ 0x7FFF_FFFF])
    func ixfrAtOrPastTheCurrentSerialIsTheSOAAlone(clientSerial: UInt32) throws {
        for transport in [Transport.tcp, .udp] {
            let messages = try answer(
                responder(journaled()), TransferFixture.request(.ixfr, clientSerial: clientSerial), transport: transport)
            #expect(messages.count == 1)
            #expect(messages[0].answers.map(\.type) == [.soa] && serials(messages[0].answers) == [12])
        }
    }

    @Test func ixfrCoveredByTheJournalIsTheDifferenceSequence() throws {
        let messages = try answer(responder(journaled()), TransferFixture.request(.ixfr, clientSerial: 11))
        let records = messages.flatMap(\.answers)
        // RFC 1995 4: new SOA, old SOA, deletions, new SOA, additions, new SOA.
        #expect(serials(records) == [12, 11, 12, 12])
        let soaPositions = records.indices.filter { records[$0].type == .soa }
        let removed = records[(soaPositions[1] + 1)..<soaPositions[2]]
        let added = records[(soaPositions[2] + 1)..<soaPositions[3]]
        #expect(removed.count == 51 && added.count == 52)  // every host changed address (salt)
        let two = try answer(responder(journaled()), TransferFixture.request(.ixfr, clientSerial: 10))
        #expect(serials(two.flatMap(\.answers)) == [12, 10, 11, 11, 12, 12])
    }

    /// A client serial exactly 2^31 from ours is neither older nor newer (RFC 1982 3.2):
    /// the client gets the whole zone rather than being told it is current.
    @Test func ixfrFromAnIncomparableSerialGetsTheZone() throws {
        let messages = try answer(responder(journaled()), TransferFixture.request(.ixfr, clientSerial: 12 &+ 0x8000_0000))
        let records = messages.flatMap(\.answers)
        #expect(serials(records) == [12, 12] && records.count == 52 + 2 + 2)
    }

    @Test func ixfrNotCoveredIsAnsweredAXFRStyle() throws {
        let messages = try answer(responder(journaled()), TransferFixture.request(.ixfr, clientSerial: 5))
        let records = messages.flatMap(\.answers)
        #expect(serials(records) == [12, 12])
        #expect(records.count == 52 + 2 + 2)
        // Static source: no journal at all.
        let zone = TransferFixture.zone(serial: 9, names: 10)
        let full = try answer(responder(StaticZoneTransferSource(zone: zone)), TransferFixture.request(.ixfr, clientSerial: 8))
        #expect(full.flatMap(\.answers).count == 10 + 2 + 2)
    }

    @Test func ixfrOverUDPSendsWhatFitsElseTheSOA() throws {
        let source = JournaledTransferSource()
        source.publish(serial: 1, records: TransferFixture.records(names: 3))
        source.publish(serial: 2, records: TransferFixture.records(names: 4))
        let small = try answer(responder(source), TransferFixture.request(.ixfr, clientSerial: 1), transport: .udp)
        #expect(serials(small[0].answers) == [2, 1, 2, 2] && small[0].answers.count == 5)
        let big = try answer(responder(journaled()), TransferFixture.request(.ixfr, clientSerial: 10), transport: .udp)
        #expect(big.count == 1 && big[0].answers.count == 1 && serials(big[0].answers) == [12])
    }

    @Test func ixfrWithoutTheClientSOAIsFORMERR() throws {
        let messages = try answer(responder(journaled()), TransferFixture.request(.ixfr))
        #expect(messages.first?.rcode == .formErr)
    }

    @Test func noVersionIsSERVFAIL() throws {
        let messages = try answer(responder(JournaledTransferSource()), TransferFixture.request(.axfr))
        #expect(messages.first?.rcode == .servFail)
    }
}

@Suite struct TransferPrimitivesTests {
    @Test(arguments: [
        ("10.53.0.0/24", [UInt8]([10, 53, 0, 200]), true), ("10.53.0.0/24", [10, 53, 1, 1], false),
        ("0.0.0.0/0", [1, 2, 3, 4], true), ("127.0.0.1", [127, 0, 0, 1], true), ("127.0.0.1", [127, 0, 0, 2], false),
        ("10.0.0.0/9", [10, 127, 255, 255], true), ("10.0.0.0/9", [10, 128, 0, 0], false),
        ("::1", [UInt8](repeating: 0, count: 15) + [1], true), ("::1/128", [127, 0, 0, 1], false),
        ("2001:db8::/32", [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 9, count: 12), true),
        ("2001:db8::/32", [0x20, 0x01, 0x0d, 0xb9] + [UInt8](repeating: 0, count: 12), false),
        ("::ffff:10.0.0.0/104", [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 10, 1, 2, 3], true),
    ])
    func prefixes(text: String, address: [UInt8], contained: Bool) throws {
        let prefix = try #require(AddressPrefix(text))
        #expect(prefix.contains(ClientAddress(address)!) == contained)
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0/8", "1.2.3.4/", "::1/129", "1::2::3", "fe80::1%eth0", "", "x/8", "256.1.1.1"])
    func badPrefixes(text: String) {
        #expect(AddressPrefix(text) == nil)
    }

    @Test func notifyBacksOffDoublesCapsAndIsSuperseded() {
        let second: UInt64 = 1_000_000_000
        var schedule = NotifySchedule(initialDelay: second, maxDelay: 5 * second)
        #expect(!schedule.isDue(now: 0))
        schedule.announce(7, id: 1, now: 100)
        #expect(schedule.isDue(now: 100))
        var times: [UInt64] = []
        var now: UInt64 = 100
        for _ in 0..<5 {
            schedule.sent(now: now)
            #expect(!schedule.isDue(now: now))
            times.append(schedule.nextAt - now)
            now = schedule.nextAt
        }
        #expect(times == [1, 2, 4, 5, 5].map { $0 * second })
        #expect(schedule.acknowledge(id: 2) == nil)  // not our id
        #expect(schedule.announce(8, id: 3, now: now) == 7)  // superseded before its ack
        #expect(schedule.acknowledge(id: 1) == nil)  // a late ack of the old serial
        #expect(schedule.acknowledge(id: 3) == 8)
        #expect(!schedule.isDue(now: now + 100 * second))
    }
}
