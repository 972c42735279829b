import DNSWire
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// DNS over TLS (RFC 7858) and zone transfers over TLS (RFC 9103) against the real
/// onebzd on loopback, with clients we did not write: kdig (+tls-ca, +tls-pin, client
/// certificates, +padding, AXFR with TSIG), dnspython's DoT client, openssl s_client (pipelining, TLS 1.2,
/// resumption, renegotiation), unbound forwarding over TLS and validating, NSD as an
/// XoT secondary; and clients that abuse the TLS listener (no handshake, a handshake
/// flood, one client at its cap, oversized records), each bounded and counted.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DoTIntegrationTests {
    static let hostname = "ns1.1bz"
    static let keyName = TransferIntegrationTests.keyName
    static let secret = TransferIntegrationTests.secret

    /// A scratch directory with certificates, the TSIG key, a zone and a config serving
    /// DoT on its own port (and the gateway, for /metrics).
    struct Setup {
        let directory: URL
        let certificate: TestCertificate
        let client: TestCertificate
        let dotPort = FreePort.next()
        let httpPort = FreePort.next()
        var zone: String { directory.appendingPathComponent("1bz.zone").path }
        var keyFile: String { directory.appendingPathComponent("tsig.key").path }
        var config: String { directory.appendingPathComponent("onebzd.toml").path }

        init(label: String, dot: String = "", transfer: String? = nil) throws {
            directory = try Repo.scratchDirectory(label)
            certificate = try TestCertificate.selfSigned(
                in: directory, name: "server", hostname: DoTIntegrationTests.hostname)
            client = try TestCertificate.selfSigned(in: directory, name: "client")
            try TransferIntegrationTests.Setup.writeZone(serial: 2026_1206, to: zone)
            try TSIGKeyFileWriter.write([(keyName, secret)], to: keyFile)
            var toml = """
                [server]
                http = "127.0.0.1:\(httpPort)"

                [dot]
                listen = ["127.0.0.1:\(dotPort)"]
                cert_file = "\(certificate.certificatePath)"
                key_file = "\(certificate.keyPath)"
                \(dot)

                """
            if let transfer {
                toml += """
                    [transfer]
                    tsig_key_files = ["\(keyFile)"]

                    \(transfer)
                    """
            }
            try toml.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func start(_ arguments: [String] = [], zone: String? = nil) async throws -> OnebzdServer {
            let server = try await OnebzdServer(
                zone: zone ?? self.zone, label: "onebzd-dot", extraArguments: ["--config", config] + arguments)
            try await server.process.waitForTCP(port: dotPort)
            return server
        }

        /// `kdig @127.0.0.1 -p DOTPORT +tls-ca=cert +tls-hostname=ns1.1bz ...`
        func kdig(_ arguments: [String], tls: [String]? = nil) throws -> CommandResult {
            try Command.run(
                "kdig",
                ["@127.0.0.1", "-p", "\(dotPort)", "+time=3", "+retry=0"]
                    + (tls ?? [
                        "+tls-ca=\(certificate.certificatePath)", "+tls-hostname=\(DoTIntegrationTests.hostname)",
                    ])
                    + arguments)
        }

        /// The value of a metric line in /metrics (0 when absent).
        func metric(_ line: String) throws -> Double {
            let text = try Command.run("curl", ["-s", "--max-time", "3", "http://127.0.0.1:\(httpPort)/metrics"]).stdout
            var total = 0.0
            for row in text.split(separator: "\n") where row.hasPrefix(line) {
                total += Double(row.split(separator: " ").last ?? "0") ?? 0
            }
            return total
        }
    }

    // MARK: - Clients

    @Test func kdigWithCAAndPinGetsAnswersPaddedWhenItPads() async throws {
        let setup = try Setup(label: "dot-kdig")
        let server = try await setup.start()

        let ca = try setup.kdig(["www.1bz", "A"])
        #expect(
            ca.stdout.contains("status: NOERROR") && ca.stdout.contains("TLS session (TLS1.3)"),
            "\(ca.stdout) \(ca.stderr)")
        #expect(ca.stdout.contains("CNAME"), "\(ca.stdout)")

        let pinned = try setup.kdig(["ns1.1bz", "A"], tls: ["+tls-pin=\(setup.certificate.pinSHA256)"])
        #expect(pinned.stdout.contains("status: NOERROR") && pinned.stdout.contains("127.0.0.1"), "\(pinned.stdout)")
        // A wrong pin, a wrong name: kdig refuses the server (no answer).
        let wrongPin = try setup.kdig(["ns1.1bz", "A"], tls: ["+tls-pin=\(setup.client.pinSHA256)"])
        #expect(!wrongPin.stdout.contains("status: NOERROR"), "\(wrongPin.stdout)")
        let wrongName = try setup.kdig(
            ["ns1.1bz", "A"], tls: ["+tls-ca=\(setup.certificate.certificatePath)", "+tls-hostname=other.example"])
        #expect(!wrongName.stdout.contains("status: NOERROR"), "\(wrongName.stdout)")

        // RFC 8467: a padded query gets a response padded to a multiple of 468 octets;
        // an unpadded one (and anything over plain UDP/TCP) is not padded.
        let padded = try setup.kdig(["+padding=64", "www.1bz", "A"])
        let size = try #require(padded.stdout.firstMatch(of: /Received (\d+) B/), "\(padded.stdout)")
        #expect(Int(size.1)! % 468 == 0, "\(padded.stdout)")
        #expect(padded.stdout.contains("PADDING"), "\(padded.stdout)")
        let unpadded = try setup.kdig(["+nopadding", "www.1bz", "A"])
        let plainSize = try #require(unpadded.stdout.firstMatch(of: /Received (\d+) B/), "\(unpadded.stdout)")
        #expect(Int(plainSize.1)! % 468 != 0 && !unpadded.stdout.contains("PADDING"), "\(unpadded.stdout)")
        let udp = try server.kdig(["+padding=64", "www.1bz", "A"])
        #expect(udp.status == "NOERROR" && !udp.output.contains("PADDING"), "\(udp.output)")

        // TLS 1.2 is accepted, ALPN "dot" is selected, a session ticket resumes.
        let session = setup.directory.appendingPathComponent("session.pem").path
        let first = try Self.sClient(port: setup.dotPort, ["-tls1_2", "-alpn", "dot", "-sess_out", session])
        #expect(first.contains("Protocol  : TLSv1.2") || first.contains("TLSv1.2"), "\(first)")
        #expect(first.contains("ALPN protocol: dot"), "\(first)")
        let resumed = try Self.sClient(port: setup.dotPort, ["-tls1_2", "-sess_in", session])
        #expect(resumed.contains("Reused"), "\(resumed)")
        #expect(try setup.metric("onebz_dot_handshakes_total{result=\"ok\"}") >= 6)
    }

    /// dnspython's DoT client (`dns.query.tls`) with Python's own TLS stack: it checks our
    /// certificate against the CA and the name, gets the answer, and a padded query gets
    /// a padded response; the wrong name is refused by the client.
    @Test func dnspythonDoTClientGetsVerifiedPaddedAnswers() async throws {
        let setup = try Setup(label: "dot-dnspython")
        let server = try await setup.start()
        let script = """
            import ssl, sys
            import dns.edns, dns.message, dns.query, dns.rcode
            ca, port = sys.argv[1], int(sys.argv[2])
            context = ssl.create_default_context(cafile=ca)
            query = dns.message.make_query("ns1.1bz", "A", use_edns=0, pad=128)
            response = dns.query.tls(query, "127.0.0.1", port=port, ssl_context=context,
                                     server_hostname="ns1.1bz", timeout=5)
            print("rcode", dns.rcode.to_text(response.rcode()))
            print("answer", " ".join(sorted(rr.to_text() for rrset in response.answer for rr in rrset)))
            print("padded", any(option.otype == dns.edns.OptionType.PADDING for option in response.options))
            try:
                dns.query.tls(query, "127.0.0.1", port=port, ssl_context=context,
                              server_hostname="other.example", timeout=5)
                print("wrong name: answered")
            except ssl.SSLCertVerificationError:
                print("wrong name: refused")
            """
        let python = Repo.root.appendingPathComponent(".venv-devnet/bin/python").path
        let result = try Command.run(
            python, ["-c", script, setup.certificate.certificatePath, "\(setup.dotPort)"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("rcode NOERROR"), "\(result.stdout)")
        #expect(result.stdout.contains("answer 127.0.0.1"), "\(result.stdout)")
        #expect(result.stdout.contains("padded True"), "\(result.stdout)")
        #expect(result.stdout.contains("wrong name: refused"), "\(result.stdout)")
        #expect(server.process.isRunning)
    }

    @Test func pipelinedQueriesOnOneConnectionAreAllAnsweredAndReloadKeepsIt() async throws {
        let setup = try Setup(label: "dot-pipeline", dot: "idle_timeout = \"3s\"")
        let server = try await setup.start()
        let names = ["www.1bz", "ns1.1bz", "mail.1bz", "nothere.1bz", "host1.1bz", "host2.1bz", "1bz", "host3.1bz"]
        let session = try TLSSession(port: setup.dotPort, directory: setup.directory, name: "pipeline")
        // Every query written before any answer is read: one TLS record, eight messages.
        session.send(
            names.enumerated().flatMap { RawDNSClient.framed(RawDNSClient.query($1, .a, id: UInt16(100 + $0))) })
        let answers = try await session.messages(count: names.count)
        #expect(Set(answers.map(\.header.id)) == Set((0..<names.count).map { UInt16(100 + $0) }))
        #expect(answers.first { $0.header.id == 103 }?.rcode == .nxDomain)

        // SIGHUP with a new certificate: new connections get it, the open one stays.
        let renewed = try TestCertificate.selfSigned(in: setup.directory, name: "renewed", hostname: Self.hostname)
        try FileManager.default.removeItem(atPath: setup.certificate.certificatePath)
        try FileManager.default.removeItem(atPath: setup.certificate.keyPath)
        try FileManager.default.copyItem(atPath: renewed.certificatePath, toPath: setup.certificate.certificatePath)
        try FileManager.default.copyItem(atPath: renewed.keyPath, toPath: setup.certificate.keyPath)
        try await server.process.waitUntil(timeout: .seconds(10)) {
            server.process.stderr().contains("certificates are reloaded on SIGHUP")
        }
        kill(server.process.pid, SIGHUP)
        try await server.process.waitUntil(timeout: .seconds(10)) {
            server.process.stderr().contains("dot: certificates reloaded")
        }
        session.send(RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 999)))
        let after = try await session.messages(count: names.count + 1)
        #expect(after.last?.header.id == 999, "the connection opened before the reload is still served")
        let newPin = try setup.kdig(["ns1.1bz", "A"], tls: ["+tls-pin=\(renewed.pinSHA256)"])
        #expect(newPin.stdout.contains("status: NOERROR"), "\(newPin.stdout)")
        let oldPin = try setup.kdig(["ns1.1bz", "A"], tls: ["+tls-pin=\(setup.certificate.pinSHA256)"])
        #expect(!oldPin.stdout.contains("status: NOERROR"), "\(oldPin.stdout)")
        #expect(server.process.isRunning)
    }

    @Test func unboundForwardsOverTLSAndValidatesTheSignedAnswers() async throws {
        let (keys, ds) = try DNSSECIntegrationTests.makeKeys("dot-dnssec-keys")
        let setup = try Setup(label: "dot-unbound")
        let server = try await setup.start(
            ["--dnssec-key-dir", keys], zone: Repo.root.appendingPathComponent("zones/1bz.zone").path)
        let unbound = try await ValidatingResolver(
            authorityPort: server.port, ds: ds, label: "dot-unbound-resolver",
            tls: .init(port: setup.dotPort, hostname: Self.hostname, bundle: setup.certificate.certificatePath))
        for (name, type) in [("www.1bz", "A"), ("ns1.1bz", "AAAA"), ("nothere.1bz", "A")] {
            let answer = try unbound.dig([name, type])
            #expect(answer.flags.contains("ad"), "\(name) \(type): \(answer)")
        }
        // Those answers came over TLS: onebzd counted unbound's handshake.
        #expect(try setup.metric("onebz_dot_handshakes_total{result=\"ok\"}") >= 1)
    }

    @Test func badCertificateFilesStopOnebzdNamingTheKey() throws {
        let directory = try Repo.scratchDirectory("dot-badfiles")
        let certificate = try TestCertificate.selfSigned(in: directory, name: "server")
        let garbage = directory.appendingPathComponent("garbage.pem").path
        try "not a key".write(toFile: garbage, atomically: true, encoding: .utf8)
        let port = FreePort.next()
        for (arguments, key) in [
            (
                [
                    "--dot-cert", certificate.certificatePath, "--dot-key",
                    directory.appendingPathComponent("none.pem").path,
                ], "dot.key_file"
            ),
            (["--dot-cert", certificate.certificatePath, "--dot-key", garbage], "dot.key_file"),
            (["--dot-cert", garbage, "--dot-key", certificate.keyPath], "dot.cert_file"),
            (["--dot-key", certificate.keyPath], "--dot-cert"),
        ] {
            let result = try Command.run(
                Repo.product("onebzd").path,
                [
                    "--zone", Repo.root.appendingPathComponent("zones/1bz.zone").path, "--listen", "127.0.0.1:\(port)",
                    "--dot-listen", "127.0.0.1:\(port)",
                ] + arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains("invalid config key \(key)"), "\(arguments): \(result.stderr)")
        }
    }

    // MARK: - XoT

    @Test func transfersOverTLSOnlyWhereTheACLSaysTLSAndPinnedClientsNeedTheirKey() async throws {
        let pinnedClient = try TestCertificate.selfSigned(
            in: try Repo.scratchDirectory("dot-xot-client"), name: "secondary")
        let setup = try Setup(
            label: "dot-xot",
            transfer: """
                [[transfer.allow]]
                address = "127.0.0.1"
                key = "\(Self.keyName)"
                transport = "tls"

                [[transfer.allow]]
                address = "127.0.0.2"
                key = "\(Self.keyName)"
                client_spki_sha256 = "\(pinnedClient.pinSHA256)"
                """)
        let server = try await setup.start()
        let key = "hmac-sha256:\(Self.keyName):\(Self.secret)"
        let records = TransferIntegrationTests.zoneRecords + 1

        // Over TLS with the key: the whole zone, SOA first and last.
        let xot = try setup.kdig(["-y", key, "1bz", "AXFR"])
        let lines = xot.stdout.split(separator: "\n").filter(TransferIntegrationTests.isRecord)
        #expect(lines.count == records, "\(xot.stdout.suffix(400)) \(xot.stderr)")
        #expect(lines.first?.contains("SOA") == true && lines.last?.contains("SOA") == true)
        // The same key over plain TCP or UDP: REFUSED (the bypass RFC 9103 9 warns of).
        let tcp = try Command.run(
            "kdig", ["@127.0.0.1", "-p", "\(server.port)", "-y", key, "+time=3", "+retry=0", "1bz", "AXFR"])
        #expect(Self.refused(tcp), "\(tcp.stdout) \(tcp.stderr)")
        let udp = try Command.run(
            "kdig", ["@127.0.0.1", "-p", "\(server.port)", "-y", key, "+time=3", "+retry=0", "+notcp", "1bz", "IXFR=1"])
        #expect(Self.refused(udp), "\(udp.stdout) \(udp.stderr)")
        #expect(server.process.stderr().contains("requires TLS"))

        // Mutual TLS from 127.0.0.2: only the pinned client certificate transfers.
        let withCert = try setup.kdig(
            [
                "-b", "127.0.0.2", "-y", key, "+tls-certfile=\(pinnedClient.certificatePath)",
                "+tls-keyfile=\(pinnedClient.keyPath)", "1bz", "AXFR",
            ])
        #expect(
            withCert.stdout.split(separator: "\n").filter(TransferIntegrationTests.isRecord).count == records,
            "\(withCert.stdout.suffix(400)) \(withCert.stderr)")
        let otherCert = try setup.kdig(
            [
                "-b", "127.0.0.2", "-y", key, "+tls-certfile=\(setup.client.certificatePath)",
                "+tls-keyfile=\(setup.client.keyPath)", "1bz", "AXFR",
            ])
        #expect(Self.refused(otherCert), "\(otherCert.stdout) \(otherCert.stderr)")
        let noCert = try setup.kdig(["-b", "127.0.0.2", "-y", key, "1bz", "AXFR"])
        #expect(Self.refused(noCert), "\(noCert.stdout) \(noCert.stderr)")
        let log = server.process.stderr()
        #expect(log.contains("does not match the pin") && log.contains("requires a client certificate"))
        // Transfers over TLS are logged as such.
        #expect(log.contains("transport=tls") && log.contains("transfer started"))
        // Plain DoT queries need no client certificate even when some entries pin one.
        #expect(try setup.kdig(["www.1bz", "A"]).stdout.contains("status: NOERROR"))

        // NSD 4.6 as a secondary transferring over TLS (request-xfr with tls-auth).
        let nsdPort = FreePort.next()
        let dir = setup.directory.appendingPathComponent("nsd-xot")
        try Secondary.shell(
            "tsig_read \(setup.keyFile) && NSD_XOT_CA=\(setup.certificate.certificatePath) NSD_XOT_NAME=\(Self.hostname) "
                + "write_nsd_secondary \(dir.path) 127.0.0.1 \(nsdPort) 127.0.0.1 \(setup.dotPort)")
        let nsd = try ManagedProcess(
            name: "nsd", executable: URL(fileURLWithPath: "/usr/sbin/nsd"),
            arguments: ["-d", "-c", "\(dir.path)/nsd.conf"],
            logDirectory: dir)
        defer { _ = nsd.stop() }
        try await nsd.waitUntil(timeout: .seconds(30)) {
            TransferIntegrationTests.serial(port: nsdPort) == "20261206"
        }
        #expect(server.process.stderr().contains("transfer finished"))
    }

    // MARK: - Abuse

    @Test func handshakeTimeoutHandshakeCapAndClientCapBoundAbusersWhileUDPAnswers() async throws {
        let setup = try Setup(
            label: "dot-abuse",
            dot: """
                handshake_timeout = "2s"
                max_handshakes = 4
                max_connections_per_client = 6
                """)
        let server = try await setup.start()
        let raw = RawDNSClient(port: setup.dotPort)
        let clock = ContinuousClock()
        // The readiness probe's connection holds a handshake slot until its close is seen.
        try await server.process.waitUntil(timeout: .seconds(5)) {
            (try? setup.metric("onebz_dot_handshakes_in_progress")) == 0
        }

        // Four connections that never send a ClientHello (one trickles a record header
        // and a byte a second): they hold every handshake slot...
        var silent = try (0..<3).map { _ in try raw.tcp(timeout: 5) }
        let trickler = try raw.tcp(timeout: 5)
        trickler.send([0x16, 0x03, 0x01, 0x02, 0x00])
        silent.append(trickler)
        try await Task.sleep(for: .milliseconds(200))
        // ...so a fifth is closed at once, counted; UDP and plain TCP answer meanwhile.
        let extra = try raw.tcp(timeout: 2)
        let refusedAt = clock.now
        #expect(extra.isClosedByPeer())
        #expect(clock.now - refusedAt < .seconds(1))
        #expect(try server.dig(["www.1bz", "A"]).status == "NOERROR")
        #expect(try server.dig(["+tcp", "www.1bz", "A"]).status == "NOERROR")
        trickler.send([0])
        // The handshake timeout closes all four.
        let start = clock.now
        for connection in silent { #expect(connection.isClosedByPeer()) }
        #expect(clock.now - start < .seconds(4), "closed after \(clock.now - start)")
        #expect(try setup.metric("onebz_dot_handshakes_total{result=\"timeout\"}") == 4)
        #expect(try setup.metric("onebz_dot_refused_total{reason=\"handshake_cap\"}") >= 1)
        #expect(try setup.kdig(["www.1bz", "A"]).stdout.contains("status: NOERROR"))

        // One client at its cap of 6 (TLS sessions held open): the seventh is refused,
        // another address is served, and so is UDP.
        var held: [TLSSession] = []
        for index in 0..<6 {
            held.append(try TLSSession(port: setup.dotPort, directory: setup.directory, name: "held\(index)"))
            held[index].send(RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: UInt16(index))))
            _ = try await held[index].messages(count: 1)
        }
        let seventh = try raw.tcp(timeout: 2)
        #expect(seventh.isClosedByPeer())
        #expect(try setup.metric("onebz_dot_refused_total{reason=\"client_cap\"}") >= 1)
        #expect(try setup.kdig(["-b", "127.0.0.2", "www.1bz", "A"]).stdout.contains("status: NOERROR"))
        #expect(try server.dig(["www.1bz", "A"]).status == "NOERROR")
        held.removeAll()
        try await server.process.waitUntil(timeout: .seconds(5)) {
            (try? setup.metric("onebz_dot_connections_open")) == 0
        }

        // Oversized and corrupt records: the connection is closed, the failure counted.
        let oversized = try raw.tcp(timeout: 3)
        oversized.send([0x16, 0x03, 0x01, 0xFF, 0xFF] + Array(repeating: 0x41, count: 4096))
        #expect(Self.isClosed(oversized))
        let garbage = try raw.tcp(timeout: 3)
        garbage.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(Self.isClosed(garbage))
        // Renegotiation (TLS 1.2, client-initiated): refused, the connection closed.
        let renegotiation = try Self.sClient(
            port: setup.dotPort, ["-tls1_2", "-no_ign_eof"], input: "R\n", keepOpen: 2)
        #expect(renegotiation.contains("RENEGOTIATING"), "\(renegotiation)")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try setup.metric("onebz_dot_handshakes_total{result=\"failed\"}") >= 2)
        #expect(try setup.metric("onebz_dot_tls_errors_total") >= 1)
        #expect(server.process.isRunning)
        #expect(try setup.kdig(["www.1bz", "A"]).stdout.contains("status: NOERROR"))
    }

    /// Slowloris on TLS records: after a real handshake, a query's TLS record sent one
    /// byte every 300 ms never becomes a DNS message, so the idle timer (2 s here) closes
    /// the connection (close_notify, then the socket) long before the record is whole.
    @Test func aTLSRecordTrickledByteByByteIsClosedByTheIdleTimeout() async throws {
        let setup = try Setup(label: "dot-slowloris", dot: "idle_timeout = \"2s\"")
        let server = try await setup.start()
        let script = """
            import socket, ssl, sys, time
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = context.wrap_bio(incoming, outgoing, server_hostname="ns1.1bz")
            sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(outgoing.read())
                    incoming.write(sock.recv(65536))
            sock.sendall(outgoing.read())
            query = bytes.fromhex("0019" "abcd01000001000000000000" "03777777" "0331627a00" "00010001")
            tls.write(query)
            record = outgoing.read()
            start = time.monotonic()
            sock.setblocking(False)
            for index, byte in enumerate(record):
                try:
                    sock.send(bytes([byte]))
                    data = sock.recv(65536)
                    if not data:
                        print("closed %.1f %d/%d" % (time.monotonic() - start, index, len(record)))
                        sys.exit(0)
                    incoming.write(data)
                    tls.read()
                except (BlockingIOError, ssl.SSLWantReadError):
                    pass
                except (ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError):
                    print("closed %.1f %d/%d" % (time.monotonic() - start, index, len(record)))
                    sys.exit(0)
                time.sleep(0.3)
            print("open after the whole record")
            """
        let result = try Command.run("python3", ["-c", script, "\(setup.dotPort)"])
        let closed = try #require(
            result.stdout.firstMatch(of: /closed ([0-9.]+) (\d+)\/(\d+)/), "\(result.stdout) \(result.stderr)")
        #expect(Double(closed.1)! < 4, "\(result.stdout)")
        #expect(Int(closed.2)! < Int(closed.3)!, "closed only after the whole record: \(result.stdout)")
        #expect(try server.dig(["www.1bz", "A"]).status == "NOERROR")
    }

    // MARK: - Helpers

    /// Whether the server closed `connection` (EOF or reset), reading past an alert it
    /// may have sent first; false when the read timeout passes first.
    static func isClosed(_ connection: RawDNSClient.Connection) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if got == 0 { return true }
            if got < 0 { return errno == ECONNRESET }
        }
    }

    /// kdig's transfer was refused: no record of the zone, REFUSED said.
    static func refused(_ result: CommandResult) -> Bool {
        !result.stdout.contains("IN\tA\t10.") && (result.stdout + result.stderr).contains("REFUSED")
    }

    /// `openssl s_client -connect 127.0.0.1:PORT ...`, its stdin `input` then held open
    /// `keepOpen` seconds; returns stdout and stderr.
    static func sClient(port: Int, _ arguments: [String], input: String = "", keepOpen: Int = 0) throws -> String {
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        let result = try Command.run(
            "sh",
            [
                "-c",
                "(printf '\(input)'; sleep \(keepOpen)) | timeout 10 openssl s_client -connect 127.0.0.1:\(port) "
                    + "-servername \(hostname) \(quoted) 2>&1",
            ])
        return result.stdout
    }

    /// A DoT connection held open by `openssl s_client -quiet`: framed queries written to
    /// its stdin, the framed answers read back from its output file.
    final class TLSSession {
        let process: Process
        let input = Pipe()
        let output: URL

        init(port: Int, directory: URL, name: String) throws {
            output = directory.appendingPathComponent("\(name).out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-quiet", "-alpn", "dot"]
            process.standardInput = input
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func send(_ bytes: [UInt8]) { input.fileHandleForWriting.write(Data(bytes)) }

        /// The first `count` answers received, waiting up to 5 s for them.
        func messages(count: Int) async throws -> [Message] {
            let deadline = ContinuousClock.now.advanced(by: .seconds(5))
            while true {
                let data = Array((try? Data(contentsOf: output)) ?? Data())
                var messages: [Message] = []
                var offset = 0
                while offset + 2 <= data.count {
                    let length = Int(data[offset]) << 8 | Int(data[offset + 1])
                    guard offset + 2 + length <= data.count else { break }
                    messages.append(try Message(decoding: Array(data[(offset + 2)..<(offset + 2 + length)])))
                    offset += 2 + length
                }
                if messages.count >= count || ContinuousClock.now > deadline { return messages }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        deinit {
            try? input.fileHandleForWriting.close()
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }
}
