import Foundation
import TestSupport
import Testing

/// onebz-web's connections: its own certificate replaced while connections stay open, its
/// connections to a node reused, WebSocket upgrades passed through, and an onebzd that does
/// not sign (nothing validates).
/// The stack and harness of `WebGatewayTests`.
@Suite(.serialized, .timeLimit(.minutes(6))) struct WebGatewayConnectionTests {
    typealias Gateway = WebGatewayTests
    static let host = WebGatewayTests.shashiHost

    /// SHA-256 of a PEM certificate's DER, lower-case hex.
    static func fingerprint(file: String) throws -> String {
        let out = try Command.run("openssl", ["x509", "-in", file, "-noout", "-fingerprint", "-sha256"])
        guard out.status == 0, let equals = out.stdout.firstIndex(of: "=") else { throw TestProcessError("openssl x509: \(out.stderr)") }
        return out.stdout[out.stdout.index(after: equals)...].replacingOccurrences(of: ":", with: "").lowercased()
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The fingerprint of the certificate a new TLS connection to `port` is given (openssl s_client).
    static func served(port: Int) throws -> String {
        let out = try Command.run(
            "sh",
            [
                "-c",
                "openssl s_client -connect 127.0.0.1:$1 -servername $2 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256",
                "served", "\(port)", host,
            ])
        guard let equals = out.stdout.firstIndex(of: "=") else { return "none: \(out.stdout) \(out.stderr)" }
        return out.stdout[out.stdout.index(after: equals)...].replacingOccurrences(of: ":", with: "").lowercased()
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func copy(_ source: String, to target: String) throws {
        // A new file renamed over the old, as certbot and deploy scripts do.
        let temporary = target + ".new"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: source, toPath: temporary)
        _ = rename(temporary, target)
    }

    /// One HTTP/1.1 keep-alive connection (Python's http.client): a request now, another
    /// once `go` exists; each line says the status, the served certificate's SHA-256, the
    /// socket's identity (a reconnect would change it) and whether the node's page came.
    static let keepAliveClient = """
        import hashlib, http.client, os, ssl, sys, time
        port, host, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
        def get():
            c.request("GET", "/", headers={"Host": host})
            r = c.getresponse(); body = r.read().decode()
            print(r.status, hashlib.sha256(c.sock.getpeercert(True)).hexdigest(), c.sock.fileno(),
                  c.sock.getsockname()[1], "Hello from shashi" in body, flush=True)
        get()
        while not os.path.exists(go): time.sleep(0.05)
        get()
        """

    @Test func aNewCertificateIsServedToNewConnectionsWhileOpenOnesGoOn() async throws {
        let setup = try await WebGatewayTests.Setup(label: "web-reload")
        let (site, _) = try await setup.shashiSite()
        defer { site.stop() }
        let first = try TestCertificate.selfSigned(in: setup.directory, name: "gw-first", hostname: "*.\(WebGatewayTests.domain)")
        let second = try TestCertificate.selfSigned(in: setup.directory, name: "gw-second", hostname: "*.\(WebGatewayTests.domain)")
        let (firstPrint, secondPrint) = (try Self.fingerprint(file: first.certificatePath), try Self.fingerprint(file: second.certificatePath))
        let live = (cert: setup.directory.appendingPathComponent("live.crt").path, key: setup.directory.appendingPathComponent("live.key").path)
        try Self.copy(first.certificatePath, to: live.cert)
        try Self.copy(first.keyPath, to: live.key)
        // SIGHUP only here (the files are checked hourly), so each reload is the signal's.
        let config = setup.directory.appendingPathComponent("reload.toml")
        try "tls_reload_interval = \"1h\"\n".write(to: config, atomically: true, encoding: .utf8)
        let gateway = try await setup.gateway(
            label: "onebz-web-reload",
            arguments: ["--allow-loopback-nodes", "--tls-cert", live.cert, "--tls-key", live.key, "--config", config.path])
        #expect(try Self.served(port: gateway.port) == firstPrint)

        // A browser's connection, open across the reload.
        let go = setup.directory.appendingPathComponent("keepalive.go").path
        let client = try ManagedProcess(
            name: "keepalive", executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["python3", "-c", Self.keepAliveClient, "\(gateway.port)", Self.host, go], logDirectory: setup.directory)
        defer { client.stop() }
        try await client.waitUntil { client.stdout().split(separator: "\n").count >= 1 }
        let before = client.stdout().split(separator: "\n")[0].split(separator: " ").map(String.init)
        #expect(before.count == 5 && before[0] == "200" && before[1] == firstPrint && before[4] == "True", "\(before)")

        try Self.copy(second.certificatePath, to: live.cert)
        try Self.copy(second.keyPath, to: live.key)
        kill(gateway.process.pid, SIGHUP)
        try await gateway.process.waitUntil { gateway.process.stderr().contains("certificate reloaded") }
        #expect(try Self.served(port: gateway.port) == secondPrint, "a new connection gets the new certificate")
        try Data().write(to: URL(fileURLWithPath: go))
        // It exits after its second request (so not `waitUntil`, which fails on an exit).
        _ = try await setup.stack.eventually(timeout: .seconds(20)) { client.stdout().split(separator: "\n").count >= 2 }
        let after = client.stdout().split(separator: "\n")[1].split(separator: " ").map(String.init)
        // Same socket (local port), same certificate: the connection was never dropped.
        #expect(after == before, "the open connection after the reload: \(after), before: \(before)")
        #expect(gateway.process.isRunning, "SIGHUP must not end onebz-web")

        // A key that is not the certificate's: logged, the current pair kept.
        try Self.copy(first.certificatePath, to: live.cert)
        kill(gateway.process.pid, SIGHUP)
        try await gateway.process.waitUntil { gateway.process.stderr().contains("certificate not reloaded") }
        #expect(gateway.process.stderr().contains("not the key of the certificate"), "\(gateway.process.stderr().suffix(2000))")
        #expect(try Self.served(port: gateway.port) == secondPrint)
        let page = try gateway.curl(host: Self.host, caFile: second.certificatePath)
        #expect(page.status == 200 && page.body.contains("Hello from shashi"), "\(page)")

        // Without a signal: files that change are picked up within the check interval.
        let config2 = setup.directory.appendingPathComponent("poll.toml")
        try "tls_reload_interval = \"1s\"\n".write(to: config2, atomically: true, encoding: .utf8)
        try Self.copy(second.certificatePath, to: live.cert)
        let polled = try await setup.gateway(
            label: "onebz-web-poll",
            arguments: ["--allow-loopback-nodes", "--tls-cert", live.cert, "--tls-key", live.key, "--config", config2.path])
        #expect(try Self.served(port: polled.port) == secondPrint)
        try Self.copy(first.keyPath, to: live.key)
        try Self.copy(first.certificatePath, to: live.cert)
        let changed = try await setup.stack.eventually(timeout: .seconds(15)) { try Self.served(port: polled.port) == firstPrint }
        print("WebGatewayConnectionTests: changed files served \(changed) after the change (checked every 1 s)")
    }

    @Test func warmRequestsReuseOneConnectionToTheNode() async throws {
        let setup = try await WebGatewayTests.Setup(label: "web-pool")
        let (site, port) = try await setup.shashiSite()
        defer { site.stop() }
        let gateway = try await setup.gateway(label: "onebz-web-pool", arguments: ["--allow-loopback-nodes"])
        let clock = ContinuousClock()
        var times: [Duration] = []
        for _ in 0..<10 {
            let start = clock.now
            let page = try gateway.curl(host: Self.host)
            times.append(clock.now - start)
            #expect(page.status == 200 && page.body.contains("Hello from shashi"), "\(page)")
        }
        // One connection to the node per event loop at most (a request uses its browser
        // connection's loop; onebz-web runs one loop per core), the rest reuses.
        let metrics = try gateway.curl(host: WebGatewayTests.domain, path: "/metrics").body
        let connections = try #require(Self.metric(metrics, "onebz_web_node_connections_total"), "\(metrics)")
        #expect((1...ProcessInfo.processInfo.activeProcessorCount).contains(connections), "\(metrics)")
        #expect(Self.metric(metrics, "onebz_web_node_connection_reuses_total") == 10 - connections, "\(metrics)")
        // The node saw as many TLS connections: the requests came from that many client ports.
        let ports = Set(site.stdout().split(separator: "\n").filter { $0.contains("\"GET / HTTP/1.1\"") }.map { $0.split(separator: " ")[0] })
        #expect(ports.count == connections, "\(site.stdout())")
        print("WebGatewayConnectionTests: cold \(times[0]), warm (reused connection) median \(times.dropFirst().sorted()[4])")

        // The node restarts: the pooled connection is dead, the next request makes a new one.
        _ = site.stop()
        let (cert, key) = try setup.shashiCertificate()
        let restarted = try await setup.site(port: port, cert: cert, key: key, label: "shashi")
        defer { restarted.stop() }
        let again = try gateway.curl(host: Self.host)
        #expect(again.status == 200 && again.body.contains("Hello from shashi"), "\(again)")
        let later = try gateway.curl(host: WebGatewayTests.domain, path: "/metrics").body
        #expect(Self.metric(later, "onebz_web_node_connections_total") == connections + 1, "\(later)")
    }

    @Test func anUnsignedZoneValidatesNothing() async throws {
        let setup = try await WebGatewayTests.Setup(label: "web-unsigned", signed: false)
        let (site, _) = try await setup.shashiSite()
        defer { site.stop() }
        let gateway = try await setup.gateway(label: "onebz-web-unsigned", arguments: ["--allow-loopback-nodes"])
        for name in ["shashi", "acme", "nobody"] {
            let page = try gateway.curl(host: "\(name).\(WebGatewayTests.domain)")
            #expect(page.status == 502 && page.headers["onebz-refusal"] == "dnssec", "\(name): \(page)")
            #expect(page.body.contains("did not validate") && !page.body.contains("Hello from"), "\(page.body)")
        }
        #expect(!site.stdout().contains("GET /"), "the node was asked: \(site.stdout())")
    }

    /// A WebSocket client (Python, standard library): the upgrade through the gateway, the
    /// node's greeting, two messages echoed, a close. Prints one JSON object.
    static let webSocketClient = """
        import base64, hashlib, json, os, socket, ssl, sys
        port, host, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if len(sys.argv) > 4:  # TLS, offering http/1.1 by ALPN as a browser does for a WebSocket
            ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["http/1.1"])
            s = ctx.wrap_socket(s, server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((("GET %s HTTP/1.1\\r\\nHost: %s\\r\\nUpgrade: websocket\\r\\nConnection: keep-alive, Upgrade\\r\\n"
                   "Sec-WebSocket-Key: %s\\r\\nSec-WebSocket-Version: 13\\r\\nX-Forwarded-For: 6.6.6.6\\r\\n\\r\\n") % (path, host, key)).encode())
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        head, _, rest = data.partition(b"\\r\\n\\r\\n")
        lines = head.decode().split("\\r\\n")
        out = {"status": lines[0], "headers": {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}}
        expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        out["accept_ok"] = out["headers"].get("sec-websocket-accept") == expected
        buf = rest
        def need(n):
            global buf
            while len(buf) < n:
                chunk = s.recv(65536)
                if not chunk: raise EOFError
                buf += chunk
            part, buf = buf[:n], buf[n:]
            return part
        def recv():
            h = need(2); n = h[1] & 0x7F
            if n == 126: n = int.from_bytes(need(2), "big")
            elif n == 127: n = int.from_bytes(need(8), "big")
            return h[0] & 0x0F, need(n)
        def send(opcode, payload):
            mask = os.urandom(4); n = len(payload)
            h = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
            s.sendall(h + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        if out["status"].split(" ")[1] == "101":
            out["messages"] = [recv()[1].decode()]
            for text in ["ping 1", "x" * 300]:
                send(1, text.encode()); out["messages"].append(recv()[1].decode())
            send(8, b"\\x03\\xe8"); out["close"] = recv()[0]
        else:
            out["body"] = rest.decode(errors="replace")
        print(json.dumps(out))
        """

    @Test func aWebSocketIsPassedThroughToTheVerifiedNode() async throws {
        let setup = try await WebGatewayTests.Setup(label: "web-ws")
        let (site, _) = try await setup.shashiSite()
        defer { site.stop() }
        let gateway = try await setup.gateway(label: "onebz-web-ws", arguments: ["--allow-loopback-nodes"])
        func open(_ host: String, _ path: String = "/ws", port: Int? = nil, tls: Bool = false) throws -> [String: Any] {
            let run = try Command.run(
                "python3", ["-c", Self.webSocketClient, "\(port ?? gateway.port)", host, path] + (tls ? ["tls"] : []))
            guard run.status == 0 else { throw TestProcessError("websocket client: \(run.stderr)") }
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }
        let ws = try open(Self.host)
        #expect((ws["status"] as? String)?.hasPrefix("HTTP/1.1 101") == true && ws["accept_ok"] as? Bool == true, "\(ws)")
        let messages = ws["messages"] as? [String] ?? []
        #expect(
            messages == ["hello from shashi, X-Forwarded-For 127.0.0.1", "shashi: ping 1", "shashi: " + String(repeating: "x", count: 300)],
            "\(ws)")
        #expect(ws["close"] as? Int == 8, "\(ws)")
        // Over HTTPS too (HTTP/1.1 by ALPN on the gateway that offers h2 first).
        let certificate = try TestCertificate.selfSigned(in: setup.directory, name: "gw", hostname: "*.\(WebGatewayTests.domain)")
        let secure = try await setup.gateway(
            label: "onebz-web-ws-tls",
            arguments: ["--allow-loopback-nodes", "--tls-cert", certificate.certificatePath, "--tls-key", certificate.keyPath])
        let wss = try open(Self.host, port: secure.port, tls: true)
        #expect((wss["status"] as? String)?.hasPrefix("HTTP/1.1 101") == true, "\(wss)")
        #expect((wss["messages"] as? [String])?.last == "shashi: " + String(repeating: "x", count: 300), "\(wss)")
        // The same refusals as any request: a name without TLSA, a host outside the domain.
        let acme = try open("acme.\(WebGatewayTests.domain)")
        #expect((acme["status"] as? String)?.contains(" 502") == true, "\(acme)")
        #expect((acme["headers"] as? [String: String])?["onebz-refusal"] == "no-tlsa", "\(acme)")
        let outside = try open("shashi.1bz.example.com")
        #expect((outside["headers"] as? [String: String])?["onebz-refusal"] == "host-outside-domain", "\(outside)")
        // A node that does not upgrade (its plain page at /): refused, not passed as a stream.
        let plain = try open(Self.host, "/")
        #expect((plain["headers"] as? [String: String])?["onebz-refusal"]?.hasPrefix("upgrade-refused-by-node") == true, "\(plain)")
        // Ordinary requests on the same gateway still work, and the log has the upgrade.
        let page = try gateway.curl(host: Self.host)
        #expect(page.status == 200 && page.body.contains("Hello from shashi"), "\(page)")
        let log = try String(contentsOfFile: gateway.accessLog, encoding: .utf8)
        #expect(log.contains("\"GET /ws HTTP/1.1\" 101 "), "\(log)")
    }

    /// A counter's value in Prometheus text (no labels).
    static func metric(_ text: String, _ name: String) -> Int? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }.map { Int($0) }
    }
}
