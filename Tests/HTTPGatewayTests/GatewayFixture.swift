import DNSEngine
import DNSWire
import Foundation
import HTTPGateway
import Hummingbird
import HummingbirdTesting
import NIOCore
import OneBZResolver
import Prometheus
import TestSupport
import ZoneCache

/// A gateway over the shipped zone, its engine, and helpers to build queries.
struct GatewayFixture {
    static let zone = try! Zone(file: Repo.root.appendingPathComponent("zones/1bz.zone").path, apex: try! Name("1bz."))

    let engine: QueryEngine
    let registry = PrometheusCollectorRegistry()
    let gateway: HTTPGateway

    init(
        nodeLookup: (any NodeLookupService)? = nil, dynamicSource: (any DynamicAnswerSource)? = nil,
        isReady: @escaping @Sendable () -> Bool = { true }
    ) {
        engine = QueryEngine(zone: Self.zone, dynamicSource: dynamicSource ?? (nodeLookup as? any DynamicAnswerSource))
        gateway = HTTPGateway(engine: engine, nodeLookup: nodeLookup, registry: registry, isReady: isReady)
    }

    /// Runs `body` against the router in process (no sockets).
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: gateway.router()).test(.router, body)
    }

    /// POST /dns-query with `body` (RFC 8484 4.1) and Content-Type `contentType` (none
    /// when nil); `check` looks at the response.
    func postDNS(
        _ body: ByteBuffer, contentType: String? = "application/dns-message",
        _ check: @escaping @Sendable (TestResponse) throws -> Void
    ) async throws {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        try await test { [headers] client in
            try await client.execute(uri: "/dns-query", method: .post, headers: headers, body: body) { response in
                try check(response)
            }
        }
    }

    static func query(_ name: String, _ type: RRType, id: UInt16 = 0, edns: EDNS? = nil) -> [UInt8] {
        var message = Message()
        message.header.id = id
        message.questions = [Question(name: try! Name(name), type: type)]
        message.edns = edns
        return try! message.encoded()
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// A fake `NodeLookupService` with fixed answers, for the JSON shape and status mapping.
/// Also the engine's (empty) dynamic source, so node names are dynamic to the engine.
struct FixedNodeLookup: NodeLookupService, DynamicAnswerSource {
    static let shashi = NodeInfo(
        name: "shashi.1bz", nodeID: String(repeating: "ab", count: 32), nodeHash: "0x" + String(repeating: "cd", count: 32),
        publicKey: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
        ipv4: ["203.0.113.7"], ipv6: ["2001:db8::7"], trust: 87, verified: true,
        wallet: "0x" + String(repeating: "11", count: 20), block: 42, metadataVerified: true, ttl: 120)

    func dnsName(forUserText text: String) throws(NodeLookupError) -> Name {
        do { return try Name(text) } catch { throw .invalidName("'\(text)' is not a DNS name") }
    }

    func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer? { nil }

    func resolve(name: Name, type: RRType) async -> DynamicAnswer { .serverFailure }

    func lookupNode(_ name: String) async throws(NodeLookupError) -> NodeInfo {
        switch name.lowercased() {
        case "shashi.1bz", "shashi.1bz.": return Self.shashi
        case "down.1bz": throw .unavailable("chain RPC timed out and nothing is cached")
        case "nobody.1bz": throw .notFound
        default: throw .invalidName("'\(name)' is not a 1bz node name")
        }
    }
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}
