import ChainReader
import DNSEngine
import DNSSEC
import DNSTestSupport
import DNSWire
import Foundation
import NIOConcurrencyHelpers
import Testing
import ZoneCache

@testable import NodeRegistry
@testable import OneBZResolver

/// TLSA and HTTPS records from a node's declared services (docs/dns.md#web-service-records):
/// what the engine answers for the node name and its `_tcp`, `_PORT._tcp` names, with and
/// without DNSSEC, and what the materialised zone stores.
@Suite struct ServiceRecordTests {
    /// FAKE registry serving one record signed by `key` with the services the test sets.
    final class ServiceRegistry: MetadataSource {
        let key = Ed25519PrivateKey(seed: Array(repeating: 5, count: 32))
        let ports: [Int]

        init(ports: [Int]) { self.ports = ports }

        func entry() throws(RegistryClientError) -> VerifiedRegistryEntry {
            do {
                let record = try NodeMetadata.signed(
                    by: key, ipv4: ["192.0.2.10"], ipv6: ["2001:db8::10"], seq: 1,
                    services: ports.map { NodeService.https(port: $0) })
                return VerifiedRegistryEntry(
                    metadata: try record.verify(), trust: 50, tier: "t", registered: true, verified: true,
                    stakeWei: "0",
                    updatedAt: 0)
            } catch { throw RegistryClientError(kind: .rejected, detail: "\(error)") }
        }
        func fetch(nodeHash: NodeHash) async throws(RegistryClientError) -> VerifiedRegistryEntry { try entry() }
        func fetch(nodeId: NodeID) async throws(RegistryClientError) -> VerifiedRegistryEntry { try entry() }
        func fetch(name: String) async throws(RegistryClientError) -> VerifiedRegistryEntry { try entry() }
    }

    static let signer = DynamicSigningTests.signer

    struct Fixture {
        let registry: ServiceRegistry
        let source: DynamicNodeSource
        let engine: QueryEngine

        init(ports: [Int], signed: Bool = false) {
            registry = ServiceRegistry(ports: ports)
            let node = ResolvedNode(
                nodeHash: registry.key.publicKey.nodeID.nodeHash,
                node: Node(
                    wallet: DynamicNodeSourceTests.wallet, dnsName: "shashi.1bz", verified: true, stakeAmount: .zero,
                    registeredAt: 1))
            var settings = DynamicNodeSource.Settings()
            settings.missTimeout = nil
            if signed { settings.signer = { ServiceRecordTests.signer } }
            settings.wallClock = { DynamicSigningTests.start }
            let head = ChainHead()
            source = DynamicNodeSource(
                resolver: NodeResolver(
                    chain: DynamicNodeSourceTests.FaultInjectingChain(["shashi.1bz": node]), registry: registry),
                head: head, settings: settings)
            engine = QueryEngine(
                zone: EngineFixture.shippedZone, dynamicSource: source,
                signer: signed ? ServiceRecordTests.signer : nil,
                unixTime: DynamicSigningTests.start)
            head.advance(to: 7)
        }

        func ask(_ name: String, _ type: RRType, dnssec: Bool = false) async throws -> Message {
            let request = EngineFixture.query(name, type, edns: EDNS(udpPayloadSize: 1232, dnssecOK: dnssec))
            if let answer = engine.respond(to: request, transport: .udp) { return try Message(decoding: answer) }
            let resolved = await source.resolve(name: try Name(name), type: type)
            return try Message(decoding: try #require(engine.respond(to: request, transport: .udp, resolved: resolved)))
        }

        var tlsaRDATA: [UInt8] { [3, 1, 1] + registry.key.publicKey.spkiSHA256 }
    }

    @Test func tlsaAtThePortNameMatchesTheNodesKey() async throws {
        let f = Fixture(ports: [443])
        let answer = try await f.ask("_443._tcp.shashi.1bz", .tlsa)
        #expect(answer.rcode == .noError && answer.header.authoritative)
        try #require(answer.answers.count == 1)
        #expect(answer.answers[0].type == .tlsa)
        #expect(answer.answers[0].name == (try Name("_443._tcp.shashi.1bz")))
        #expect(answer.answers[0].rdata == f.tlsaRDATA)
        // The SPKI DER of an Ed25519 key (RFC 8410): fixed prefix, the 32 key bytes.
        #expect(f.registry.key.publicKey.spkiDER.count == 44)
        // Cached: the same answer again, in any case.
        #expect(try await f.ask("_443._TCP.ShAsHi.1bz", .tlsa).answers.map(\.rdata) == [f.tlsaRDATA])
    }

    @Test func httpsRecordAtTheNodeName() async throws {
        let f = Fixture(ports: [443, 8443])
        let answer = try await f.ask("shashi.1bz", .https)
        try #require(answer.answers.count == 2)
        let records = try answer.answers.map { try SVCBRDATA(parsing: $0.rdata) }.sorted { $0.priority < $1.priority }
        #expect(records.map(\.priority) == [1, 2])
        #expect(records.allSatisfy { $0.target == .root })
        // 443: no port parameter; 8443: port=8443. alpn, then the hints from the record.
        let alpn: [UInt8] = [2, 0x68, 0x32, 8] + Array("http/1.1".utf8)
        let v4: [UInt8] = [192, 0, 2, 10]
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [0x10]
        #expect(records[0].params.map(\.key) == [.alpn, .ipv4hint, .ipv6hint])
        #expect(records[0].params.map(\.value) == [alpn, v4, v6])
        #expect(records[1].params.map(\.key) == [.alpn, .port, .ipv4hint, .ipv6hint])
        #expect(records[1].params[1].value == [0x20, 0xFB])
        #expect(try await f.ask("_8443._tcp.shashi.1bz", .tlsa).answers.map(\.rdata) == [f.tlsaRDATA])
    }

    @Test(arguments: [
        // (name, type, rcode, answers): what exists only while the service is declared.
        ("_443._tcp.shashi.1bz", RRType.a, Rcode.noError, 0),  // NODATA: TLSA only
        ("_tcp.shashi.1bz", RRType.tlsa, Rcode.noError, 0),  // empty non-terminal
        ("_80._tcp.shashi.1bz", RRType.tlsa, Rcode.nxDomain, 0),  // port not declared
        ("_443._udp.shashi.1bz", RRType.tlsa, Rcode.nxDomain, 0),
        ("_0443._tcp.shashi.1bz", RRType.tlsa, Rcode.nxDomain, 0),  // one name per port
        ("_99999._tcp.shashi.1bz", RRType.tlsa, Rcode.nxDomain, 0),
        ("x._443._tcp.shashi.1bz", RRType.tlsa, Rcode.nxDomain, 0),
        ("_443._tcp.nobody.1bz", RRType.tlsa, Rcode.nxDomain, 0),
        ("_443._tcp.shashi.1bz", RRType.any, Rcode.noError, 1),
    ])
    func negativeAnswers(name: String, type: RRType, rcode: Rcode, answers: Int) async throws {
        let f = Fixture(ports: [443])
        let answer = try await f.ask(name, type)
        #expect(answer.rcode == rcode, "\(name) \(type)")
        #expect(answer.answers.count == answers, "\(name) \(type)")
        if answers == 0 { #expect(answer.authorities.map(\.type) == [.soa]) }
    }

    @Test func withoutServicesTheNamesDoNotExist() async throws {
        let f = Fixture(ports: [])
        #expect(try await f.ask("_443._tcp.shashi.1bz", .tlsa).rcode == .nxDomain)
        #expect(try await f.ask("_tcp.shashi.1bz", .tlsa).rcode == .nxDomain)
        let https = try await f.ask("shashi.1bz", .https)
        #expect(https.rcode == .noError && https.answers.isEmpty)
        #expect(try await f.ask("shashi.1bz", .a).answers.count == 1)
    }

    @Test func signedAnswersAndDenials() async throws {
        let f = Fixture(ports: [443], signed: true)
        let tlsa = try await f.ask("_443._tcp.shashi.1bz", .tlsa, dnssec: true)
        #expect(tlsa.answers.map(\.type) == [.tlsa, .rrsig])
        let https = try await f.ask("shashi.1bz", .https, dnssec: true)
        #expect(https.answers.map(\.type) == [.https, .rrsig])
        func bitmap(_ message: Message, _ owner: String) throws -> [UInt8] {
            let nsec = try #require(message.authorities.first { $0.type == .nsec })
            return Array(nsec.rdata.dropFirst(try Name("\\000." + owner).wire.count))
        }
        // NODATA at the port name: the NSEC lists TLSA; the node name lists HTTPS.
        let noA = try await f.ask("_443._tcp.shashi.1bz", .a, dnssec: true)
        #expect(try bitmap(noA, "_443._tcp.shashi.1bz") == TypeBitmap.encode([.tlsa, .rrsig, .nsec]))
        let noMX = try await f.ask("shashi.1bz", .mx, dnssec: true)
        #expect(try bitmap(noMX, "shashi.1bz") == TypeBitmap.encode([.a, .aaaa, .txt, .https, .rrsig, .nsec]))
        // The empty non-terminal: NODATA, no types; an undeclared port: NXNAME.
        let ent = try await f.ask("_tcp.shashi.1bz", .a, dnssec: true)
        #expect(ent.rcode == .noError)
        #expect(try bitmap(ent, "_tcp.shashi.1bz") == TypeBitmap.encode([.rrsig, .nsec]))
        let absent = try await f.ask("_80._tcp.shashi.1bz", .tlsa, dnssec: true)
        #expect(try bitmap(absent, "_80._tcp.shashi.1bz") == TypeBitmap.encode([.rrsig, .nsec, .nxname]))
    }

    /// shashi.1bz's facts, its verified record declaring https on `ports`.
    static func facts(ipv6: [String] = [], ports: [Int]) throws -> (NodeFacts, Ed25519PrivateKey) {
        let key = Ed25519PrivateKey(seed: Array(repeating: 5, count: 32))
        let record = try NodeMetadata.signed(
            by: key, ipv4: ["192.0.2.10"], ipv6: ipv6, seq: 1, services: ports.map { .https(port: $0) })
        let facts = NodeFacts(
            name: .alias("shashi.1bz"), nodeHash: key.publicKey.nodeID.nodeHash,
            node: Node(
                wallet: DynamicNodeSourceTests.wallet, dnsName: "shashi.1bz", verified: true, stakeAmount: .zero,
                registeredAt: 1),
            nodeID: key.publicKey.nodeID, metadata: .verified(try record.verify()), trust: nil, block: 1)
        return (facts, key)
    }

    @Test func payloadKeepsServiceRecordsOnEveryOwner() throws {
        let (facts, key) = try Self.facts(ports: [443])
        let owner = try Name("shashi.1bz")
        var payload = NodePayload(alias: Array("shashi".utf8), nodeID: key.publicKey.nodeID)
        payload.records = NodeAnswerRenderer.zoneRecords(facts, owner: owner, ttl: 300).compactMap {
            NodePayload.record($0, owner: owner)
        }
        #expect(NodePayload(encoded: payload.encoded()) == payload)
        let records = payload.zoneRecords(ttl: 300)
        let idName = try Name(key.publicKey.nodeID.dnsName)
        let tlsaOwners = records.filter { $0.type == .tlsa }.map(\.name)
        #expect(tlsaOwners == [try Name("_443._tcp.shashi.1bz"), try Name("_443._tcp." + idName.description)])
        #expect(records.filter { $0.type == .https }.count == 2)
        // A node without services stores no subnames (flag bit 2 clear): the old layout.
        let plain = NodePayload(alias: [1], records: [.init(type: .a, rdata: [1, 2, 3, 4])])
        #expect(plain.encoded() == [1, 1, 2, 0, 1, 0, 4, 1, 2, 3, 4])
    }

    /// A restored snapshot answers as the chain does: for every name of a node (its own,
    /// `_tcp`, a declared and an undeclared `_PORT._tcp`) and every type, the zone
    /// renderer's answer from the payload's records is byte for byte the facts renderer's,
    /// unsigned and signed (Ed25519 signatures are deterministic), for a node with and
    /// without services.
    @Test(arguments: [[443], []])
    func zoneRecordsAnswerAsTheFactsDo(ports: [Int]) throws {
        let (facts, _) = try Self.facts(ipv6: ["2001:db8::10"], ports: ports)
        let owner = try Name("shashi.1bz")
        let held = NodeAnswerRenderer.zoneRecords(facts, owner: owner, ttl: 300).compactMap {
            NodePayload.record($0, owner: owner)
        }
        let signing = NodeAnswerRenderer.Signing(
            signer: ZoneSigner(apex: EngineFixture.apex, keys: [try SigningKey.generate(algorithm: .ed25519)]),
            now: DynamicSigningTests.start, negativeTTL: 300)
        let subnames: [NodeSubname] = [.node, .tcp, .port(443), .port(80)]
        let types: [RRType] = [.a, .aaaa, .txt, .https, .tlsa, .mx, .any]
        for subname in subnames {
            let name = try Name(subname.prefix + "ShAsHi.1bz")
            for type in types {
                for signing in [nil, signing] {
                    let fromFacts = NodeAnswerRenderer.answer(
                        .found(facts), name: name, subname: subname, type: type, ttl: 300, signing: signing)
                    let fromZone = NodeAnswerRenderer.answer(
                        zoneRecords: held, name: name, subname: subname, type: type, ttl: 300, signing: signing)
                    #expect(
                        Self.bytes(fromZone) == Self.bytes(fromFacts),
                        "\(name) \(type) signed: \(signing != nil)")
                }
            }
        }
    }

    /// What an answer puts on the wire, with its kind: comparable across renderers.
    static func bytes(_ answer: DynamicAnswer) -> String {
        switch answer {
        case .records(let template): "records \(template.tail)"
        case .noData: "noData"
        case .nameError: "nameError"
        case .serverFailure: "serverFailure"
        case .signedRecords(let plain, let signed): "signedRecords \(plain.tail) \(signed.tail)"
        case .signedNoData(let denial): "signedNoData \(denial.tail)"
        case .signedNameError(let denial): "signedNameError \(denial.tail)"
        @unknown default: "other"
        }
    }
}
