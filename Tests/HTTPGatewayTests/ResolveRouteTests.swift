import DNSEngine
import DNSWire
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import OneBZResolver
import Testing

/// `/resolve`: NodeInfo JSON and the status of every `NodeLookupError`; the DNS-JSON shape.
@Suite struct ResolveRouteTests {
    @Test func nodeInfoIsServedWithSnakeCaseKeys() async throws {
        let fixture = GatewayFixture(nodeLookup: FixedNodeLookup())
        try await fixture.test { client in
            try await client.execute(uri: "/resolve?name=shashi.1bz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[.cacheControl] == "max-age=120")
                #expect(response.headers[.accessControlAllowOrigin] == "*")
                let object = try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: Any]
                #expect(
                    Set(object?.keys.map { $0 } ?? []) == [
                        "name", "node_id", "node_hash", "public_key", "ipv4", "ipv6", "trust", "verified", "wallet",
                        "block", "metadata_verified", "ttl",
                    ])
                let info = try JSONDecoder().decode(NodeInfo.self, from: Data(response.body.bytes))
                #expect(info == FixedNodeLookup.shashi)
            }
        }
    }

    @Test(arguments: [
        ("/resolve?name=nobody.1bz", HTTPResponse.Status.notFound, "not_found"),
        ("/resolve?name=down.1bz", .serviceUnavailable, "unavailable"),
        ("/resolve?name=not%20a%20name", .badRequest, "invalid_name"),
        ("/resolve", .badRequest, "invalid_name"),
        ("/resolve?name=", .badRequest, "invalid_name"),
    ])
    func errorsMapToStatuses(uri: String, status: HTTPResponse.Status, code: String) async throws {
        let fixture = GatewayFixture(nodeLookup: FixedNodeLookup())
        try await fixture.test { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == status)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: String]
                #expect(object?["error"] == code)
                #expect(object?["detail"]?.isEmpty == false)
                #expect(response.headers[.accessControlAllowOrigin] == "*")
            }
        }
    }

    /// Issue 21 finding 9: what an upstream said (URLs, error text) stays in the log.
    @Test func upstreamErrorTextIsNotSentToClients() async throws {
        let fixture = GatewayFixture(nodeLookup: FixedNodeLookup())
        try await fixture.test { client in
            try await client.execute(uri: "/resolve?name=down.1bz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: String]
                #expect(object?["error"] == "unavailable")
                #expect(object?["detail"]?.contains("chain RPC timed out") == false, "\(object ?? [:])")
            }
        }
    }

    @Test func withoutANodeLookupServiceItIs503NotConfigured() async throws {
        try await GatewayFixture().test { client in
            try await client.execute(uri: "/resolve?name=shashi.1bz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: String]
                #expect(object?["error"] == "not_configured")
                #expect(object?["detail"]?.contains("not configured") == true)
            }
        }
    }

    /// The engine first, as DNS: a static name answers its zone data even when a node
    /// of that name exists on chain (static wins over DNS, so over JSON too), and a
    /// name DNS calls nonexistent is 404 without asking the node lookup.
    @Test(arguments: ["www.1bz", "ns1.1bz"])
    func staticNamesAnswerTheirZoneDataNotANode(name: String) async throws {
        let lookup = CountingNodeLookup()
        try await GatewayFixture(nodeLookup: lookup).test { client in
            try await client.execute(uri: "/resolve?name=\(name)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/dns-json")
                let object = try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: Any]
                #expect(object?["Status"] as? Int == 0)
                #expect((object?["Answer"] as? [[String: Any]])?.isEmpty == false)
            }
            try await client.execute(uri: "/resolve?name=x.www.1bz", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
        #expect(lookup.calls.withLockedValue { $0 } == 0)
    }

    @Test func dnsJSONShapeForAStaticName() async throws {
        try await GatewayFixture().test { client in
            try await client.execute(uri: "/resolve?name=ns1.1bz&type=A", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/dns-json")
                #expect(response.headers[.cacheControl] == "max-age=3600")
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: Any])
                #expect(object["Status"] as? Int == 0)
                #expect(object["TC"] as? Bool == false)
                let question = (object["Question"] as? [[String: Any]])?.first
                #expect(question?["name"] as? String == "ns1.1bz.")
                #expect(question?["type"] as? Int == 1)
                let answer = (object["Answer"] as? [[String: Any]])?.first
                #expect(answer?["data"] as? String == "192.0.2.53")
                #expect(answer?["TTL"] as? Int == 3600)
            }
        }
    }

    @Test(arguments: [
        ("ns1.1bz", "AAAA", "2001:db8::53"), ("1bz", "mx", "10 mail.1bz."), ("docs.1bz", "CNAME", "www.1bz."),
        ("registry.1bz", "16", "\"v=1bz-registry1\""),
        ("1bz", "SOA", "ns1.1bz. hostmaster.1bz. 1 7200 3600 1209600 300"),
        ("example.1bz", "DS", "\\# 36 3039"),
    ])
    func dnsJSONPresentsRDATA(name: String, type: String, prefix: String) async throws {
        try await GatewayFixture().test { client in
            try await client.execute(uri: "/resolve?name=\(name)&type=\(type)", method: .get) { response in
                let object = try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: Any]
                let data = ((object?["Answer"] as? [[String: Any]])?.first?["data"] as? String) ?? ""
                #expect(data.hasPrefix(prefix), "\(data)")
            }
        }
    }

    @Test func dnsJSONNegativeAnswerCarriesStatusAndAuthority() async throws {
        try await GatewayFixture().test { client in
            try await client.execute(uri: "/resolve?name=nothing.1bz&type=A", method: .get) { response in
                #expect(response.status == .ok)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.bytes)) as? [String: Any]
                #expect(object?["Status"] as? Int == 3)
                #expect((object?["Authority"] as? [[String: Any]])?.first?["type"] as? Int == 6)
                #expect(object?["Answer"] == nil)
            }
        }
    }

    @Test(arguments: ["/resolve?name=ns1.1bz&type=BOGUS", "/resolve?name=a..b&type=A"])
    func dnsJSONBadInputIs400(uri: String) async throws {
        try await GatewayFixture().test { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}

/// A node lookup that counts its calls and knows every node name (static names must
/// never reach it).
final class CountingNodeLookup: NodeLookupService, DynamicAnswerSource {
    let calls = NIOLockedValueBox(0)

    func dnsName(forUserText text: String) throws(NodeLookupError) -> Name {
        do { return try Name(text) } catch { throw .invalidName("'\(text)' is not a DNS name") }
    }

    func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer? { nil }

    func resolve(name: Name, type: RRType) async -> DynamicAnswer { .serverFailure }

    func lookupNode(_ name: String) async throws(NodeLookupError) -> NodeInfo {
        calls.withLockedValue { $0 += 1 }
        return FixedNodeLookup.shashi
    }
}
