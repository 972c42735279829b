import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The page, `/metrics`, and the health probes.
@Suite struct ServiceRouteTests {
    @Test func pageIsServedWithTheElementIdsTheBrowserTestUses() async throws {
        try await GatewayFixture().test { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let html = String(buffer: response.body)
                for id in ["name", "lookup", "result", "r-node-id", "r-error"] {
                    #expect(html.contains("\"\(id)\""), "id \(id)")
                }
            }
        }
    }

    @Test func metricsCountRequestsByEndpointAndStatus() async throws {
        let fixture = GatewayFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/dns-query", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                #expect(text.contains(#"onebz_http_requests_total{endpoint="dns-query",status="400"} 1"#), "\(text)")
                #expect(text.contains("onebz_http_request_duration_seconds_bucket"))
            }
        }
    }

    @Test func healthzIsAlways200() async throws {
        try await GatewayFixture(isReady: { false }).test { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func readyzFollowsTheReadinessClosure() async throws {
        let flag = ReadyBox()
        let fixture = GatewayFixture(isReady: { flag.value.load(ordering: .relaxed) })
        try await fixture.test { client in
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            flag.value.store(true, ordering: .relaxed)
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func unknownPathsAre404() async throws {
        try await GatewayFixture().test { client in
            try await client.execute(uri: "/nope", method: .get) { #expect($0.status == .notFound) }
        }
    }
}

final class ReadyBox: Sendable {
    let value = Atomic<Bool>(false)
}
