import Foundation
import NodeRegistry
import TestSupport
import Testing

/// onebz-web (docs/gateway.md, "onebz-web, the web gateway") on the whole stack: devnet,
/// registry, onebzd signing with DNSSEC, a node's TLS site (tools/node_site.py with the
/// certificate `onebz cert` makes from the node's key), and the gateway resolving through
/// libunbound with onebzd's DS as its only trust anchor. Everything through curl, as a
/// user would.
@Suite(.serialized, .timeLimit(.minutes(6))) struct WebGatewayTests {
    static let onebz = Repo.product("onebz").path
    static let domain = "1bz.gw.test"
    /// The TTL onebzd gives node records here: small, so following a change is quick to see.
    static let ttl = 4

    /// The stack, with DNSSEC on, and the trust anchor file.
    final class Setup: @unchecked Sendable {
        // @unchecked: set up once in init, then read.
        let stack: DynamicStack
        let anchor: String
        let directory: URL

        /// `signed: false`: onebzd without DNSSEC, the anchor still a DS (of keys it does not use).
        init(label: String, signed: Bool = true) async throws {
            let (keys, ds) = try DNSSECIntegrationTests.makeKeys(label + "-keys")
            stack = try await DynamicStack(
                label: label, positiveTTL: WebGatewayTests.ttl,
                extraConfig: signed ? "\n[dnssec]\nenabled = true\nkey_dir = \"\(keys)\"\n" : "")
            directory = stack.directory
            anchor = directory.appendingPathComponent("1bz.ds").path
            try (ds + "\n").write(toFile: anchor, atomically: true, encoding: .utf8)
        }

        /// `onebz cert` for `keyPath` into DIR; (cert, key).
        func certificate(keyPath: String, name: String, directory label: String) throws -> (String, String) {
            let out = directory.appendingPathComponent(label)
            let made = try Command.run(WebGatewayTests.onebz, ["cert", "--key", keyPath, "--name", name, "--out", out.path])
            guard made.status == 0 else { throw TestProcessError("onebz cert: \(made.stderr)") }
            return (out.appendingPathComponent("cert.pem").path, out.appendingPathComponent("key.pem").path)
        }

        /// shashi's certificate, made with shashi's own key (the sample's); (cert, key).
        func shashiCertificate() throws -> (String, String) {
            let sample = try #require(stack.devnet.sample("shashi.1bz"))
            return try certificate(keyPath: sample.privateKeyPath, name: "shashi.1bz", directory: "shashi-site")
        }

        /// shashi's TLS site on a free port, published in shashi's record; the site and its port.
        func shashiSite() async throws -> (ManagedProcess, Int) {
            let (cert, key) = try shashiCertificate()
            let port = FreePort.next()
            let site = try await site(port: port, cert: cert, key: key, label: "shashi")
            try await publishShashi(port: port, seq: 2)
            return (site, port)
        }

        func site(port: Int, cert: String?, key: String?, label: String) async throws -> ManagedProcess {
            var arguments = [Repo.root.appendingPathComponent("tools/node_site.py").path, "--listen", "127.0.0.1:\(port)", "--label", label]
            if let cert, let key { arguments += ["--cert", cert, "--key", key] }
            let process = try ManagedProcess(
                name: "site-\(label)-\(port)", executable: URL(fileURLWithPath: "/usr/bin/env"),
                arguments: ["python3"] + arguments, logDirectory: directory)
            try await process.waitForTCP(port: port)
            return process
        }

        func gateway(label: String, anchor: String? = nil, arguments: [String] = []) async throws -> WebGateway {
            try await WebGateway(
                label: label, directory: directory, resolverPort: stack.onebzd.port, anchor: anchor ?? self.anchor,
                arguments: arguments)
        }

        /// Publishes shashi at 127.0.0.1 with its HTTPS service on `port` and waits until
        /// onebzd serves the TLSA.
        func publishShashi(port: Int?, seq: UInt64) async throws {
            let sample = try #require(stack.devnet.sample("shashi.1bz"))
            try await stack.publishRecord(
                for: sample, ipv4: ["127.0.0.1"], ipv6: [], seq: seq, services: port.map { [.https(port: $0)] } ?? [])
            if let port {
                _ = try await stack.eventually(timeout: .seconds(20)) {
                    !(try stack.dig(["_\(port)._tcp.shashi.1bz", "TLSA"]).answer.isEmpty)
                }
            }
        }
    }

    /// A running onebz-web on a free loopback port.
    final class WebGateway: @unchecked Sendable {
        let process: ManagedProcess
        let port: Int
        let accessLog: String

        init(label: String, directory: URL, resolverPort: Int, anchor: String, arguments: [String]) async throws {
            port = FreePort.next()
            accessLog = directory.appendingPathComponent("\(label)-access.log").path
            process = try ManagedProcess(
                name: label, executable: Repo.product("onebz-web"),
                arguments: [
                    "--listen", "127.0.0.1:\(port)", "--domain", WebGatewayTests.domain, "--resolver",
                    "127.0.0.1@\(resolverPort)", "--trust-anchor", anchor, "--access-log", accessLog,
                ] + arguments,
                logDirectory: directory)
            try await process.waitForTCP(port: port)
        }

        /// curl through the gateway: status, headers (lower-cased names), body. With
        /// `caFile`, HTTPS to `host` (mapped to the gateway's port) trusting that certificate.
        func curl(host: String, path: String = "/", _ extra: [String] = [], caFile: String? = nil) throws
            -> (status: Int, headers: [String: String], body: String)
        {
            let target =
                if let caFile {
                    ["--cacert", caFile, "--connect-to", "\(host):443:127.0.0.1:\(port)", "https://\(host)\(path)"]
                } else {
                    ["-H", "Host: \(host)", "http://127.0.0.1:\(port)\(path)"]
                }
            let result = try Command.run("curl", ["-s", "-S", "-D", "-", "--max-time", "20"] + extra + target)
            guard result.status == 0 else { throw TestProcessError("curl: \(result.stderr)") }
            let parts = result.stdout.components(separatedBy: "\r\n\r\n")
            let lines = parts[0].components(separatedBy: "\r\n")
            let status = Int(lines[0].split(separator: " ")[1]) ?? 0
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return (status, headers, parts.dropFirst().joined(separator: "\r\n\r\n"))
        }

        deinit { process.stop() }
    }

    static let shashiHost = "shashi.\(domain)"

    @Test func aNodeSiteIsServedOnlyWithItsRegisteredKey() async throws {
        let setup = try await Setup(label: "web-gw")
        let (cert, key) = try setup.shashiCertificate()
        let sitePort = FreePort.next()
        var site = try await setup.site(port: sitePort, cert: cert, key: key, label: "shashi")
        try await setup.publishShashi(port: sitePort, seq: 2)
        let gateway = try await setup.gateway(label: "onebz-web", arguments: ["--allow-loopback-nodes"])
        // Every network system call of the gateway from before its first lookup on
        // (libunbound sets up lazily): nothing may leave loopback, no root priming.
        let trace = setup.directory.appendingPathComponent("onebz-web.strace").path
        let strace = try ManagedProcess(
            name: "strace", executable: URL(fileURLWithPath: "/usr/bin/strace"),
            arguments: ["-f", "-e", "trace=network", "-o", trace, "-p", "\(gateway.process.pid)"],
            logDirectory: setup.directory)
        try await strace.waitUntil { strace.stderr().contains("attached") }

        // The node's page, through TLS checked against the validated TLSA.
        let clock = ContinuousClock()
        let coldStart = clock.now
        let page = try gateway.curl(host: Self.shashiHost)
        let cold = clock.now - coldStart
        #expect(page.status == 200 && page.body.contains("Hello from shashi"), "\(page)")
        #expect(page.headers["onebz-verification"] == "tlsa", "\(page.headers)")
        let warmStart = clock.now
        _ = try gateway.curl(host: Self.shashiHost)
        print("WebGatewayTests: first request to a cold name \(cold), warm \(clock.now - warmStart)")

        // Forwarding headers: the gateway's, the client's own replaced; hop-by-hop stripped both ways.
        let echo = try gateway.curl(
            host: Self.shashiHost, path: "/echo",
            [
                "-H", "X-Forwarded-For: 6.6.6.6", "-H", "Forwarded: for=6.6.6.6", "-H", "X-Forwarded-Host: evil.example",
                "-H", "Connection: X-Secret", "-H", "X-Secret: 1", "-H", "Keep-Alive: timeout=99",
            ])
        #expect(echo.status == 200, "\(echo)")
        let sent = try #require(
            try JSONSerialization.jsonObject(with: Data(echo.body.utf8)) as? [String: Any])
        let headers = (sent["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
        let xff = headers.filter { $0.0 == "x-forwarded-for" }.map(\.1)
        #expect(xff == ["127.0.0.1"], "X-Forwarded-For the node got: \(headers)")
        #expect(headers.filter { $0.0 == "forwarded" }.map(\.1) == ["for=127.0.0.1;host=\"\(Self.shashiHost)\";proto=http"], "\(headers)")
        #expect(headers.filter { $0.0 == "x-forwarded-host" }.map(\.1) == [Self.shashiHost], "\(headers)")
        #expect(headers.filter { $0.0 == "x-forwarded-proto" }.map(\.1) == ["http"], "\(headers)")
        #expect(headers.first { $0.0 == "host" }?.1 == "shashi.1bz:\(sitePort)", "\(headers)")
        #expect(!headers.contains { ["x-secret", "keep-alive"].contains($0.0) }, "hop-by-hop headers reached the node: \(headers)")
        #expect(echo.headers["x-node-private"] == nil && echo.headers["keep-alive"] == nil, "\(echo.headers)")

        // A redirect goes to the browser as it is, not followed.
        let redirect = try gateway.curl(host: Self.shashiHost, path: "/redirect")
        #expect(redirect.status == 302 && redirect.headers["location"] == "/elsewhere", "\(redirect)")
        // A redirect to a 1bz name stays on the gateway (a browser cannot open .1bz itself).
        let toNode = try gateway.curl(host: Self.shashiHost, path: "/redirect-node")
        #expect(toNode.status == 302 && toNode.headers["location"] == "http://\(Self.shashiHost)/elsewhere", "\(toNode)")

        // Refusals: absolute-form target, a host outside the domain, a node without TLSA.
        let absolute = try gateway.curl(host: Self.shashiHost, ["--request-target", "http://example.com/"])
        #expect(absolute.status == 400 && absolute.headers["onebz-refusal"] == "absolute-form", "\(absolute)")
        let outside = try gateway.curl(host: "shashi.1bz.example.com")
        #expect(outside.status == 421 && outside.headers["onebz-refusal"] == "host-outside-domain", "\(outside)")
        let acme = try gateway.curl(host: "acme.\(Self.domain)")
        #expect(acme.status == 502 && acme.headers["onebz-refusal"] == "no-tlsa", "\(acme)")
        #expect(acme.body.contains("no TLSA record"), "\(acme.body)")
        let missing = try gateway.curl(host: "nobody.\(Self.domain)")
        #expect(missing.status == 404 && missing.headers["onebz-refusal"] == "no-such-name", "\(missing)")

        // Without the loopback allowance the same node is refused (its address is 127.0.0.1).
        let strict = try await setup.gateway(label: "onebz-web-strict")
        let refused = try strict.curl(host: Self.shashiHost)
        #expect(refused.status == 403 && refused.headers["onebz-refusal"] == "address-refused", "\(refused)")
        #expect(refused.body.contains("loopback"), "\(refused.body)")

        // A wrong trust anchor: nothing validates, nothing is proxied.
        let (_, otherDS) = try DNSSECIntegrationTests.makeKeys("web-gw-other-keys")
        let wrongAnchor = setup.directory.appendingPathComponent("wrong.ds").path
        try (otherDS + "\n").write(toFile: wrongAnchor, atomically: true, encoding: .utf8)
        let misled = try await setup.gateway(label: "onebz-web-wrong-anchor", anchor: wrongAnchor, arguments: ["--allow-loopback-nodes"])
        let bogus = try misled.curl(host: Self.shashiHost)
        #expect(bogus.status == 502 && bogus.headers["onebz-refusal"] == "dnssec", "\(bogus)")
        #expect(!bogus.body.contains("Hello from shashi"))

        // Another key's certificate on the node's address and port: the mismatch page.
        _ = site.stop()
        let otherKey = setup.directory.appendingPathComponent("impostor-key.pem")
        try Ed25519PrivateKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) }).pem
            .write(to: otherKey, atomically: true, encoding: .utf8)
        let (impostorCert, impostorKey) = try setup.certificate(keyPath: otherKey.path, name: "shashi.1bz", directory: "impostor")
        let impostor = try await setup.site(port: sitePort, cert: impostorCert, key: impostorKey, label: "impostor")
        let mismatch = try gateway.curl(host: Self.shashiHost)
        #expect(mismatch.status == 502 && mismatch.headers["onebz-refusal"] == "key-mismatch", "\(mismatch)")
        #expect(mismatch.body.contains("certificate does not match its registered key"), "\(mismatch.body)")
        #expect(!impostor.stdout().contains("GET /"), "the impostor received a request: \(impostor.stdout())")
        _ = impostor.stop()

        // The node moves (a new port, so a new TLSA owner and HTTPS record): followed
        // within the records' TTL (onebzd's own registry poll adds up to its interval).
        let movedPort = FreePort.next()
        site = try await setup.site(port: movedPort, cert: cert, key: key, label: "moved")
        defer { site.stop() }
        let moveStart = clock.now
        try await setup.publishShashi(port: movedPort, seq: 3)
        let published = clock.now - moveStart
        let followed = try await setup.stack.eventually(timeout: .seconds(Self.ttl * 2 + 10)) {
            try gateway.curl(host: Self.shashiHost).body.contains("Hello from moved")
        }
        print("WebGatewayTests: the move was followed \(followed) after onebzd served it (publish to onebzd \(published)), TTL \(Self.ttl) s")
        #expect(followed <= .seconds(Self.ttl + 2), "followed only after \(followed), TTL \(Self.ttl) s")

        // What the gateway's sockets reached: loopback only, and the resolver among it.
        _ = strace.stop()
        let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("connect(") || $0.contains("sendto(") || $0.contains("sendmsg(") || $0.contains("sendmmsg(") }
        let peers = calls.compactMap { line -> String? in
            for marker in ["inet_addr(\"", "inet_pton(AF_INET6, \""] {
                guard let start = line.range(of: marker) else { continue }
                return String(line[start.upperBound...].prefix { $0 != "\"" })
            }
            return nil
        }
        #expect(peers.contains("127.0.0.1"), "no connection to the resolver traced: \(calls.prefix(20))")
        let away = peers.filter { !$0.hasPrefix("127.") && $0 != "::1" }
        #expect(away.isEmpty, "onebz-web reached beyond loopback: \(away)")
        print("WebGatewayTests: \(calls.count) network calls traced, peers \(Set(peers).sorted())")

        // Metrics on the gateway's own name, and one access log line per request.
        let metrics = try gateway.curl(host: Self.domain, path: "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("onebz_web_requests_total"), "\(metrics.body.prefix(500))")
        #expect(metrics.body.contains("outcome=\"key_mismatch\""), "\(metrics.body)")
        let log = try String(contentsOfFile: gateway.accessLog, encoding: .utf8)
        #expect(
            log.contains("127.0.0.1 - - [") && log.contains("\"GET /echo HTTP/1.1\" 200 ") && log.contains("\"curl/"),
            "\(log)")
    }

    @Test func aSilentNodeIsCutAndBadConfigurationNamesTheKey() async throws {
        let setup = try await Setup(label: "web-gw-limits")
        let (site, _) = try await setup.shashiSite()
        defer { site.stop() }
        let config = setup.directory.appendingPathComponent("web.toml")
        try """
            upstream_timeout = "1s"
            max_body_bytes = 1000
            allow_networks = ["127.0.0.0/8"]
            """.write(to: config, atomically: true, encoding: .utf8)
        let gateway = try await setup.gateway(label: "onebz-web-limits", arguments: ["--config", config.path])
        let clock = ContinuousClock()
        let start = clock.now
        let silent = try gateway.curl(host: Self.shashiHost, path: "/silent")
        let waited = clock.now - start
        #expect(silent.status == 504 && silent.headers["onebz-refusal"] == "node-timeout", "\(silent)")
        #expect(waited < .seconds(5), "cut after \(waited)")
        let big = try gateway.curl(host: Self.shashiHost, path: "/echo", ["--data-binary", String(repeating: "x", count: 2000)])
        #expect(big.status == 413, "\(big)")
        let small = try gateway.curl(host: Self.shashiHost, path: "/echo", ["--data-binary", "hello"])
        #expect(small.status == 200 && small.body.contains("\"body_length\": 5"), "\(small)")
        // Concurrent requests (a fresh name for each batch would test the resolver; here the
        // connections to the node): every one answered by the node.
        let count = 200
        let clock2 = ContinuousClock()
        let batchStart = clock2.now
        let batch = try Command.run(
            "curl",
            ["-s", "--parallel", "--parallel-max", "16", "-H", "Host: \(Self.shashiHost)", "-w", "%{http_code}\\n"]
                + Array(repeating: ["-o", "/dev/null", "http://127.0.0.1:\(gateway.port)/"], count: count).flatMap { $0 })
        let batchTime = clock2.now - batchStart
        let codes = batch.stdout.split(separator: "\n")
        #expect(codes.count == count && codes.allSatisfy { $0 == "200" }, "\(Dictionary(grouping: codes, by: { $0 }).mapValues(\.count))")
        print("WebGatewayTests: \(count) requests, 16 at a time, in \(batchTime) (debug build, connections to the node reused)")

        // HEAD: the node's Content-Length, no body, and the connection stays usable.
        let head = try gateway.curl(host: Self.shashiHost, ["-I"])
        #expect(head.status == 200 && !head.body.contains("Hello") && head.headers["content-length"] == "63", "\(head)")
        let after = try gateway.curl(host: Self.shashiHost)
        #expect(after.status == 200 && after.body.contains("Hello from shashi"), "\(after)")

        // HTTPS: HTTP/2 by ALPN, HTTP/1.1 too, and absolute-form refused there as well.
        let certificate = try TestCertificate.selfSigned(
            in: setup.directory, name: "gateway", hostname: "*.\(Self.domain)")
        let secure = try await setup.gateway(
            label: "onebz-web-tls",
            arguments: ["--allow-loopback-nodes", "--tls-cert", certificate.certificatePath, "--tls-key", certificate.keyPath])
        let h2 = try secure.curl(host: Self.shashiHost, caFile: certificate.certificatePath)
        #expect(h2.status == 200 && h2.body.contains("Hello from shashi"), "\(h2)")
        let h2echo = try secure.curl(host: Self.shashiHost, path: "/echo", ["--http2"], caFile: certificate.certificatePath)
        #expect(h2echo.body.contains("\"proto=https\"") || h2echo.body.contains("proto=https"), "\(h2echo.body)")
        let h1 = try secure.curl(
            host: Self.shashiHost, ["--http1.1", "--request-target", "http://example.com/"], caFile: certificate.certificatePath)
        #expect(h1.status == 400 && h1.headers["onebz-refusal"] == "absolute-form", "\(h1)")
        let versions = try Command.run(
            "curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_version}", "--cacert", certificate.certificatePath, "--connect-to",
                "\(Self.shashiHost):443:127.0.0.1:\(secure.port)", "https://\(Self.shashiHost)/",
            ])
        #expect(versions.stdout == "2", "HTTP version: \(versions.stdout) \(versions.stderr)")
        let secureLog = try String(contentsOfFile: secure.accessLog, encoding: .utf8)
        #expect(secureLog.contains("\"GET / HTTP/2.0\" 200 ") && secureLog.contains("\"GET / HTTP/1.1\" 400 "), "\(secureLog)")

        // Bad configuration: exits non-zero naming the key.
        let bad = setup.directory.appendingPathComponent("bad.toml")
        try "allow_networks = [\"not-a-network\"]\n".write(to: bad, atomically: true, encoding: .utf8)
        let failed = try Command.run(
            Repo.product("onebz-web").path,
            ["--config", bad.path, "--domain", Self.domain, "--resolver", "127.0.0.1@53", "--trust-anchor", setup.anchor])
        #expect(failed.status != 0 && failed.stderr.contains("allow_networks"), "\(failed.stderr)")
        let noDomain = try Command.run(
            Repo.product("onebz-web").path, ["--resolver", "127.0.0.1@53", "--trust-anchor", setup.anchor])
        #expect(noDomain.status != 0 && noDomain.stderr.contains("domain"), "\(noDomain.stderr)")
    }
}
