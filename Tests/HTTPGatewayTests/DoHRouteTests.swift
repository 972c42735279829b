import DNSEngine
import DNSWire
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// RFC 8484 over the router: same bytes as UDP, Cache-Control, and every error status.
@Suite(.timeLimit(.minutes(3))) struct DoHRouteTests {
    let fixture = GatewayFixture()

    @Test(arguments: [
        ("ns1.1bz", RRType.a, UInt16(0)), ("ns1.1bz", .aaaa, 0x1234), ("1bz", .soa, 0), ("1bz", .ns, 7),
        ("nonexistent.deeper.1bz", .a, 0), ("example.1bz", .a, 0), ("www.example.com", .a, 0),
    ])
    func getAnswersWhatUDPAnswers(name: String, type: RRType, id: UInt16) async throws {
        let query = GatewayFixture.query(name, type, id: id)
        let udp = try #require(fixture.engine.respond(to: query, transport: .udp))
        try await fixture.test { client in
            try await client.execute(uri: "/dns-query?dns=\(GatewayFixture.base64url(query))", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/dns-message")
                #expect(response.body.bytes == udp)
            }
        }
    }

    @Test func postAnswersWhatUDPAnswers() async throws {
        let query = GatewayFixture.query("www.1bz", .a, edns: EDNS(udpPayloadSize: 4096))
        let udp = try #require(fixture.engine.respond(to: query, transport: .udp))
        try await fixture.postDNS(ByteBuffer(bytes: query)) { response in
            #expect(response.status == .ok)
            #expect(response.body.bytes == udp)
            #expect(response.headers[.accessControlAllowOrigin] == "*")
        }
    }

    @Test(arguments: [
        ("ns1.1bz", RRType.a, "max-age=3600"),
        // RFC 2308 5: negative answers live min(SOA TTL 3600, SOA MINIMUM 300).
        ("nothing.1bz", .a, "max-age=300"), ("ns1.1bz", .txt, "max-age=300"),
        // REFUSED carries no records: not cacheable.
        ("example.com", .a, "max-age=0"),
    ])
    func cacheControlFollowsTheSmallestTTL(name: String, type: RRType, expected: String) async throws {
        let query = GatewayFixture.query(name, type)
        try await fixture.test { client in
            try await client.execute(uri: "/dns-query?dns=\(GatewayFixture.base64url(query))", method: .get) { response in
                #expect(response.headers[.cacheControl] == expected)
            }
        }
    }

    @Test(arguments: [
        ("/dns-query", "missing_dns"),
        ("/dns-query?dns=", "invalid_dns"),
        ("/dns-query?dns=AA+A", "invalid_dns"),
        ("/dns-query?dns=AA", "not_a_query"),  // 1 byte: not even an ID
    ])
    func badGetIs400(uri: String, code: String) async throws {
        try await fixture.test { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("\"error\":\"\(code)\""))
            }
        }
    }

    @Test func malformedDNSIs400() async throws {
        // A header claiming one question, followed by a name that runs off the end.
        let query: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61]
        try await fixture.postDNS(ByteBuffer(bytes: query)) { response in
            #expect(response.status == .badRequest)
        }
    }

    @Test(arguments: [nil, "application/json", "text/plain", "application/dns-messages"] as [String?])
    func wrongContentTypeIs415(contentType: String?) async throws {
        let query = GatewayFixture.query("ns1.1bz", .a)
        try await fixture.postDNS(ByteBuffer(bytes: query), contentType: contentType) { response in
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test func contentTypeParametersAndCaseAreAccepted() async throws {
        let query = GatewayFixture.query("ns1.1bz", .a)
        try await fixture.postDNS(ByteBuffer(bytes: query), contentType: "Application/DNS-Message; charset=binary") {
            response in
            #expect(response.status == .ok)
        }
    }

    @Test func bodiesOver65535AreRejectedWith413() async throws {
        try await fixture.postDNS(ByteBuffer(repeating: 0, count: 65536)) { response in
            #expect(response.status == .contentTooLarge)
        }
    }

    @Test(arguments: [HTTPRequest.Method.put, .delete, .patch])
    func otherMethodsAre405(method: HTTPRequest.Method) async throws {
        try await fixture.test { client in
            try await client.execute(uri: "/dns-query", method: method) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, POST, OPTIONS")
            }
        }
    }

    @Test func preflightAllowsAnyOrigin() async throws {
        try await fixture.test { client in
            try await client.execute(
                uri: "/dns-query", method: .options,
                headers: [.origin: "https://example.org", .accessControlRequestMethod: "POST"]
            ) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "*")
                #expect(response.headers[.accessControlAllowMethods] == "GET, POST, OPTIONS")
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Content-Type") == true)
            }
        }
    }

    /// A dynamic name missing from the cache goes through `resolve`, like UDP/TCP.
    @Test func dynamicMissIsResolvedThroughTheSource() async throws {
        let source = ResolvingSource()
        let fixture = GatewayFixture(dynamicSource: source)
        let query = GatewayFixture.query("shashi.1bz", .a)
        try await fixture.test { client in
            try await client.execute(uri: "/dns-query?dns=\(GatewayFixture.base64url(query))", method: .get) { response in
                let message = try Message(decoding: response.body.bytes)
                #expect(message.answers.map(\.rdata) == [[203, 0, 113, 7]])
                #expect(response.headers[.cacheControl] == "max-age=60")
            }
        }
        #expect(source.resolved.withLock { $0 } == 1)
    }
}

/// Always misses the cache; `resolve` answers one A record with TTL 60.
final class ResolvingSource: DynamicAnswerSource {
    let resolved = Mutex(0)

    func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer? { nil }

    func resolve(name: Name, type: RRType) async -> DynamicAnswer {
        resolved.withLock { $0 += 1 }
        let record = ResourceRecord(name: name, type: .a, ttl: 60, rdata: [203, 0, 113, 7])
        return .records(name: name, [record])
    }
}
