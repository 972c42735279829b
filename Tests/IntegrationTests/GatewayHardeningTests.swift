import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 21, the gateway's share: slow and numerous connections (finding 3) and the
/// `/resolve` miss path (finding 4), against a real onebzd on loopback ports.
@Suite(.serialized) struct GatewayHardeningTests {
    /// Finding 3: 150 connections that send half a request are closed by the idle
    /// (header) timeout, while a normal request is answered meanwhile.
    @Test func slowlorisConnectionsAreClosedAndOthersServed() async throws {
        let gateway = try await GatewayProcess(
            label: "gateway-slowloris",
            config: """
                [gateway]
                idle_timeout = "2s"
                max_connections = 1000
                max_connections_per_client = 500
                """)
        let client = RawDNSClient(port: gateway.httpPort)
        let clock = ContinuousClock()
        var slow: [RawDNSClient.Connection] = []
        for _ in 0..<150 {
            let connection = try client.tcp(timeout: 5)
            connection.send(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8))
            slow.append(connection)
        }
        let opened = clock.now
        // A normal client is answered while the 150 are held.
        let (status, _, body) = try gateway.curl("/healthz")
        #expect(status == 200 && String(decoding: body, as: UTF8.self) == "ok\n")
        // Keep dripping a byte now and then, as slowloris does: it must not help.
        for connection in slow { connection.send(Array("a".utf8)) }
        var open = slow
        while !open.isEmpty, clock.now - opened < .seconds(30) {
            open = open.filter { !$0.isClosedWithin(milliseconds: 100) }
        }
        let elapsed = clock.now - opened
        #expect(open.isEmpty, "\(open.count) of 150 half-request connections still open after \(elapsed)")
        print("slowloris: 150 half-request connections closed \(open.isEmpty ? "all" : "not all") after \(elapsed)")
        let metrics = String(decoding: try gateway.curl("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("onebz_http_connections_timed_out_total"), "timeouts are counted in /metrics")
        #expect(gateway.process.isRunning)
    }

    /// Finding 3: one client address cannot hold more than `max_connections_per_client`.
    @Test func oneClientCannotHoldMoreThanItsConnectionCap() async throws {
        let gateway = try await GatewayProcess(
            label: "gateway-per-client",
            config: """
                [gateway]
                idle_timeout = "30s"
                max_connections_per_client = 8
                """)
        try await Task.sleep(for: .milliseconds(300))  // the readiness probe's connection is gone
        let client = RawDNSClient(port: gateway.httpPort)
        var held: [RawDNSClient.Connection] = []
        for _ in 0..<20 { held.append(try client.tcp(timeout: 5)) }
        let open = held.filter { !$0.isClosedWithin(milliseconds: 1000) }.count
        #expect(open == 8, "\(open) of 20 connections from one address stayed open (cap 8)")
        held.removeAll()
        // The slots come back when the connections close.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try gateway.curl("/healthz").status == 200)
        let metrics = String(decoding: try gateway.curl("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("onebz_http_connections_refused_total{reason=\"per_client\"} 12"), "\(metrics)")
    }

    /// Finding 4: with the materialised name set authoritative, a flood of random names
    /// on `/resolve` is answered 404 from memory: no chain call at all.
    @Test func randomNameFloodOnResolveMakesNoChainCalls() async throws {
        let stack = try await DynamicStack(
            label: "gateway-resolve-flood",
            extraConfig: """
                [gateway]
                resolve_rate = 0
                """)
        let calls = try stack.rpcCount("eth_call")
        var statuses: [Int: Int] = [:]
        for index in 0..<200 {
            let name = "flood\(index)-\(UInt32.random(in: 0...UInt32.max)).1bz"
            statuses[try stack.get("/resolve?name=\(name)").status, default: 0] += 1
        }
        #expect(statuses == [404: 200], "\(statuses)")
        let after = try stack.rpcCount("eth_call")
        #expect(after == calls, "200 random names on /resolve cost \(after - calls) eth_calls")
        // A registered name still resolves.
        #expect(try stack.get("/resolve?name=shashi.1bz").status == 200)
    }

    /// Finding 4: a per-client token bucket on `/resolve`: 429 with Retry-After past it.
    @Test func resolveIsRateLimitedPerClient() async throws {
        let gateway = try await GatewayProcess(
            label: "gateway-resolve-rate",
            config: """
                [gateway]
                resolve_rate = 1
                resolve_burst = 5
                """)
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<12 {
            let (status, headers, _) = try gateway.curl("/resolve?name=www.1bz&type=A")
            statuses.append(status)
            if status == 429 { retryAfter = headers["retry-after"] }
        }
        #expect(statuses.prefix(5).allSatisfy { $0 == 200 }, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count >= 5, "\(statuses)")
        #expect(retryAfter.flatMap { Int($0) }.map { $0 >= 1 } == true, "Retry-After: \(retryAfter ?? "none")")
        // Other endpoints are not limited by it.
        #expect(try gateway.curl("/healthz").status == 200)
    }
}
