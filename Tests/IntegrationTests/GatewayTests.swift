import DNSWire
import Foundation
import TestSupport
import Testing

/// The gateway in the real onebzd: DoH bytes equal UDP bytes, real HTTP clients
/// (curl, kdig) resolve through it, and the operator endpoints answer.
@Suite(.serialized) struct GatewayTests {
    static func query(_ name: String, _ type: RRType, id: UInt16 = 0) -> [UInt8] {
        var message = Message()
        message.header.id = id
        message.questions = [Question(name: try! Name(name), type: type)]
        message.edns = EDNS(udpPayloadSize: 1232)
        return try! message.encoded()
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test(arguments: [
        ("ns1.1bz", RRType.a), ("1bz", .ns), ("1bz", .soa), ("nothing.1bz", .a), ("example.1bz", .a),
        ("docs.1bz", .a), ("www.1bz", .aaaa),
    ])
    func dohGetAndPostAreByteIdenticalToUDP(name: String, type: RRType) async throws {
        let server = try await GatewayProcess(label: "gateway-doh")
        // RFC 8484 4.1: DoH clients send ID 0; a UDP client would pick a random one.
        let udp = try server.udp(Self.query(name, type, id: 0x5a5a))
        let query = Self.query(name, type, id: 0)
        let get = try server.curl("/dns-query?dns=\(Self.base64url(query))")
        #expect(get.status == 200)
        #expect(get.headers["content-type"] == "application/dns-message")
        let bodyFile = server.directory.appendingPathComponent("query.bin")
        try Data(query).write(to: bodyFile)
        let post = try server.curl(
            "/dns-query", ["-H", "Content-Type: application/dns-message", "--data-binary", "@\(bodyFile.path)"])
        #expect(post.status == 200)
        for answer in [Array(get.body), Array(post.body)] {
            #expect(answer.count == udp.count)
            #expect(answer.prefix(2) == [0, 0], "ID echoed")
            #expect(answer.dropFirst(2) == udp.dropFirst(2), "same bytes as UDP apart from the ID")
        }
    }

    @Test func headersCacheControlAndCORS() async throws {
        let server = try await GatewayProcess(label: "gateway-headers")
        let positive = try server.curl("/dns-query?dns=\(Self.base64url(Self.query("ns1.1bz", .a)))")
        #expect(positive.headers["cache-control"] == "max-age=3600")
        #expect(positive.headers["access-control-allow-origin"] == "*")
        let negative = try server.curl("/dns-query?dns=\(Self.base64url(Self.query("nothing.1bz", .a)))")
        #expect(negative.headers["cache-control"] == "max-age=300")
        let preflight = try server.curl(
            "/resolve",
            ["-X", "OPTIONS", "-H", "Origin: https://example.org", "-H", "Access-Control-Request-Method: GET"])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == "*")
        let unsupported = try server.curl("/dns-query", ["-X", "POST", "-H", "Content-Type: text/plain", "--data", "x"])
        #expect(unsupported.status == 415)
    }

    /// curl resolves `local.1bz` through our DoH endpoint, then fetches from it. curl
    /// only does DoH over HTTPS, so the gateway runs with a self-signed certificate.
    @Test func curlResolvesThroughDoHOverHTTPS() async throws {
        let server = try await GatewayProcess(label: "gateway-curl-doh", tls: true)
        let result = try Command.run(
            "curl",
            [
                "-sS", "-k", "--doh-insecure", "--max-time", "10", "--doh-url", "\(server.baseURL)/dns-query",
                "https://local.1bz:\(server.httpPort)/healthz",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ok\n")
    }

    /// kdig's DoH (+https) is HTTP/2 over TLS only; POST and GET both answer like UDP.
    @Test(arguments: ["+https", "+https-get"])
    func kdigResolvesOverDoH(mode: String) async throws {
        let server = try await GatewayProcess(label: "gateway-kdig", tls: true)
        let doh = try Command.run(
            "kdig", ["@127.0.0.1", "-p", "\(server.httpPort)", mode, "+noall", "+answer", "+authority", "ns1.1bz", "A"])
        let udp = try Command.run(
            "kdig", ["@127.0.0.1", "-p", "\(server.dnsPort)", "+noall", "+answer", "+authority", "ns1.1bz", "A"])
        #expect(doh.status == 0, "\(doh.stderr)")
        #expect(doh.stdout.contains("192.0.2.53"), "\(doh.stdout)")
        #expect(doh.stdout == udp.stdout)
    }

    @Test func dohOverHTTPSIsByteIdenticalToUDP() async throws {
        let server = try await GatewayProcess(label: "gateway-https", tls: true)
        let udp = try server.udp(Self.query("1bz", .ns, id: 0))
        for http in ["--http1.1", "--http2"] {
            let get = try server.curl("/dns-query?dns=\(Self.base64url(Self.query("1bz", .ns)))", [http])
            #expect(get.status == 200)
            #expect(Array(get.body) == udp)
        }
    }

    @Test func operatorEndpoints() async throws {
        let server = try await GatewayProcess(label: "gateway-ops")
        #expect(try server.curl("/healthz").status == 200)
        #expect(try server.curl("/readyz").status == 200)
        _ = try server.curl("/dns-query?dns=\(Self.base64url(Self.query("ns1.1bz", .a)))")
        let metrics = try server.curl("/metrics")
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(text.contains("onebz_http_requests_total"), "\(text)")
        #expect(text.contains("onebz_doh_responses_total{rcode=\"NOERROR\"}"), "\(text)")
        let page = try server.curl("/")
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self).contains("\"r-node-id\""))
    }

    /// Without a chain source, /resolve says so; the DNS-JSON form still answers.
    @Test func resolveWithoutChainAndDNSJSON() async throws {
        let server = try await GatewayProcess(label: "gateway-resolve")
        let node = try server.curl("/resolve?name=shashi.1bz")
        #expect(node.status == 503)
        let error = try JSONSerialization.jsonObject(with: node.body) as? [String: String]
        #expect(error?["error"] == "not_configured")
        let json = try server.curl("/resolve?name=www.1bz&type=A")
        #expect(json.status == 200)
        let object = try JSONSerialization.jsonObject(with: json.body) as? [String: Any]
        #expect((object?["Answer"] as? [[String: Any]])?.first?["data"] as? String == "192.0.2.80")
    }

    /// Flag errors name the flag; onebzd exits non-zero before serving.
    @Test(arguments: [
        (["--http", "nonsense"], "--http"),
        (["--http", "127.0.0.1:0", "--http-tls-cert", "/tmp/cert.pem"], "go together"),
        (["--http", "127.0.0.1:0", "--http-tls-cert", "/nonexistent.pem", "--http-tls-key", "/nonexistent.pem"],
         "TLS file /nonexistent.pem"),
    ])
    func badGatewayFlagsAreRejected(arguments: [String], message: String) throws {
        let result = try Command.run(
            Repo.product("onebzd").path,
            ["--zone", Repo.root.appendingPathComponent("zones/1bz.zone").path, "--listen", "127.0.0.1:0"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
