import Foundation
import TestSupport
import Testing

/// `[[zones]]` and RFC 2136 against the real onebzd on loopback: a second zone (the
/// gateway's, `gw.test`) beside 1bz, signed with its own key and validated by delv, its
/// wildcard (RFC 4592); TSIG-signed updates of `_acme-challenge` TXT by knsupdate and
/// the refusals (unsigned, wrong key, other type, other owner, other zone); and a
/// wildcard certificate from Pebble obtained by lego through DNS-01 against onebzd.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ServedZoneTests {
    static let keyName = "acme-key."
    static let secret = "YWNtZS1rZXktc2VjcmV0LXNlY3JldC1zZWNyZXQtMzI="
    static let otherKey = "other-key."
    static let otherSecret = "b3RoZXIta2V5LXNlY3JldC1zZWNyZXQtc2VjcmV0LTM="

    /// A scratch directory with the gw.test zone, its key, the TSIG keys and a config.
    struct Setup {
        let directory: URL
        let ds: String
        var config: String { directory.appendingPathComponent("onebzd.toml").path }

        init(label: String, extraZones: String = "") throws {
            directory = try Repo.scratchDirectory(label)
            let keys = directory.appendingPathComponent("gw-keys").path
            let keygen = try DNSSECIntegrationTests.onebzd([
                "dnssec", "keygen", "--key-dir", keys, "--apex", "gw.test.",
            ])
            guard keygen.status == 0 else { throw TestProcessError("keygen: \(keygen.stderr)") }
            let ds = try DNSSECIntegrationTests.onebzd(["dnssec", "ds", "--key-dir", keys, "--apex", "gw.test."])
            self.ds = ds.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let keyFile = try #require(
                try FileManager.default.contentsOfDirectory(atPath: keys).first { $0.hasSuffix(".private") })
            let zone = directory.appendingPathComponent("gw.test.zone").path
            try """
            $ORIGIN gw.test.
            $TTL 300
            @ IN SOA ns1.gw.test. hostmaster.gw.test. 100 3600 600 86400 60
            @ IN NS ns1.gw.test.
            ns1 IN A 127.0.0.1
            @ IN A 127.0.0.1
            * IN A 127.0.0.1
            * IN AAAA ::1

            """.write(toFile: zone, atomically: true, encoding: .utf8)
            let tsig = directory.appendingPathComponent("tsig.key").path
            try TSIGKeyFileWriter.write([(keyName, secret), (otherKey, otherSecret)], to: tsig)
            try """
            [transfer]
            tsig_key_files = ["\(tsig)"]

            [[zones]]
            origin = "gw.test."
            file = "\(zone)"
            dnssec_key_files = ["\(keys)/\(keyFile)"]
            update_keys = ["\(keyName)"]
            max_challenge_records = 5
            \(extraZones)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func start() async throws -> OnebzdServer {
            try await OnebzdServer(label: "onebzd-zones", extraArguments: ["--config", config])
        }
    }

    /// Runs a knsupdate script against onebzd; returns its status and output.
    static func nsupdate(port: Int, key: (String, String)?, _ updates: [String], zone: String = "gw.test.") throws
        -> CommandResult
    {
        var script = "server 127.0.0.1 \(port)\nzone \(zone)\n"
        if let key { script += "key hmac-sha256:\(key.0) \(key.1)\n" }
        script += updates.map { "update \($0)\n" }.joined() + "send\n"
        return try Command.run("knsupdate", ["-t", "3", "-r", "0"], input: Data(script.utf8))
    }

    static func serial(_ server: OnebzdServer) throws -> UInt32? {
        try server.dig(["gw.test", "SOA"]).answer.first.flatMap { UInt32($0.split(separator: " ")[6]) }
    }

    @Test func secondZoneIsServedSignedWithItsWildcard() async throws {
        let setup = try Setup(label: "zones-serve")
        let server = try await setup.start()
        // The wildcard answers any name below the zone (RFC 4592), authoritatively.
        let synthesized = try server.dig(["shashi.1bz.gw.test", "A"])
        #expect(synthesized.status == "NOERROR" && synthesized.flags.contains("aa"), "\(synthesized)")
        #expect(synthesized.answer == ["shashi.1bz.gw.test. 300 IN A 127.0.0.1"], "\(synthesized)")
        #expect(try server.dig(["x.gw.test", "AAAA"]).answer == ["x.gw.test. 300 IN AAAA ::1"])
        // An existing name is not overridden; a type the wildcard lacks is NODATA.
        #expect(try server.dig(["ns1.gw.test", "AAAA"]).status == "NOERROR")
        #expect(try server.dig(["ns1.gw.test", "AAAA"]).answer.isEmpty)
        #expect(try server.dig(["x.gw.test", "TXT"]).authority.first?.contains("SOA") == true)
        // The main zone is unchanged; a name under neither zone is REFUSED.
        #expect(try server.dig(["www.1bz", "A"]).status == "NOERROR")
        #expect(try server.dig(["gw.other", "A"]).status == "REFUSED")
        // Signed: delv validates a wildcard answer, the apex and a denial with only the DS.
        for (name, type) in [("shashi.1bz.gw.test", "A"), ("gw.test", "SOA"), ("ns1.gw.test", "TXT")] {
            let delv = try ValidatingResolver.delv(
                authorityPort: server.port, ds: setup.ds, name: name, type: type, directory: setup.directory,
                zone: "gw.test")
            #expect(delv.contains("fully validated"), "delv \(name) \(type): \(delv)")
        }
        #expect(try server.kdig(["+dnssec", "a.gw.test", "A"]).answer.contains { $0.contains("RRSIG") })
    }

    @Test func challengeUpdatesAreAcceptedAndEverythingElseRefused() async throws {
        let setup = try Setup(label: "zones-update")
        let server = try await setup.start()
        let port = server.port
        let before = try #require(try Self.serial(server))
        let good = (Self.keyName, Self.secret)
        let refusals: [(String, (String, String)?, [String], String)] = [
            ("unsigned", nil, ["add _acme-challenge.gw.test. 60 TXT \"x\""], "REFUSED"),
            (
                "a key the zone does not list", (Self.otherKey, Self.otherSecret),
                ["add _acme-challenge.gw.test. 60 TXT \"x\""], "REFUSED"
            ),
            // NOTAUTH with the TSIG error (RFC 8945 5.2), which knsupdate shows.
            ("an unknown key", ("nobody.", Self.secret), ["add _acme-challenge.gw.test. 60 TXT \"x\""], "BADKEY"),
            (
                "a wrong secret", (Self.keyName, Self.otherSecret), ["add _acme-challenge.gw.test. 60 TXT \"x\""],
                "BADSIG"
            ),
            ("an A record", good, ["add _acme-challenge.gw.test. 60 A 10.0.0.1"], "REFUSED"),
            ("another owner", good, ["add www.gw.test. 60 TXT \"x\""], "REFUSED"),
            // All or nothing: one bad change refuses the good one beside it.
            (
                "a mix", good, ["add _acme-challenge.gw.test. 60 TXT \"ok\"", "add evil.gw.test. 60 A 10.0.0.1"],
                "REFUSED"
            ),
        ]
        for (what, key, updates, rcode) in refusals {
            let result = try Self.nsupdate(port: port, key: key, updates)
            #expect(result.status != 0, "\(what) accepted: \(result.stdout)")
            #expect((result.stdout + result.stderr).contains(rcode), "\(what): \(result.stdout) \(result.stderr)")
        }
        let mainZone = try Self.nsupdate(port: port, key: good, ["add _acme-challenge.1bz. 60 TXT \"x\""], zone: "1bz.")
        #expect(mainZone.status != 0 && (mainZone.stdout + mainZone.stderr).contains("NOTAUTH"), "\(mainZone)")
        #expect(try Self.serial(server) == before, "a refused update changed the serial")
        #expect(try server.dig(["_acme-challenge.gw.test", "TXT"]).answer.isEmpty)

        let added = try Self.nsupdate(
            port: port, key: good,
            ["add _acme-challenge.gw.test. 60 TXT \"token-1\"", "add _acme-challenge.www.gw.test. 60 TXT \"token-2\""])
        #expect(added.status == 0, "\(added.stdout) \(added.stderr)")
        #expect(try Self.serial(server) == before + 1)
        #expect(
            try server.dig(["_acme-challenge.gw.test", "TXT"]).answer == [
                "_acme-challenge.gw.test. 60 IN TXT \"token-1\""
            ])
        #expect(try server.dig(["_acme-challenge.www.gw.test", "TXT"]).answer.count == 1)
        let delv = try ValidatingResolver.delv(
            authorityPort: port, ds: setup.ds, name: "_acme-challenge.gw.test", type: "TXT",
            directory: setup.directory, zone: "gw.test")
        #expect(delv.contains("fully validated") && delv.contains("token-1"), "\(delv)")
        // The limit (5 in this config) holds, all or nothing.
        let flood = try Self.nsupdate(
            port: port, key: good, (1...4).map { "add _acme-challenge.gw.test. 60 TXT \"flood-\($0)\"" })
        #expect(flood.status != 0, "\(flood.stdout)")
        #expect(try server.dig(["_acme-challenge.gw.test", "TXT"]).answer.count == 1)
        // Deleting (an RR, then an RRset) empties the names again.
        #expect(
            try Self.nsupdate(port: port, key: good, ["delete _acme-challenge.gw.test. TXT \"token-1\""]).status == 0)
        #expect(try Self.nsupdate(port: port, key: good, ["delete _acme-challenge.www.gw.test. TXT"]).status == 0)
        #expect(try server.dig(["_acme-challenge.gw.test", "TXT"]).answer.isEmpty)
        #expect(try server.dig(["_acme-challenge.www.gw.test", "TXT"]).answer.isEmpty)
        #expect(try Self.serial(server) == before + 3)
        // Over UDP too (knsupdate uses UDP for small updates unless -v): nsupdate -v is TCP.
        let tcp = try Command.run(
            "nsupdate", ["-v", "-y", "hmac-sha256:\(Self.keyName):\(Self.secret)"],
            input: Data(
                "server 127.0.0.1 \(port)\nzone gw.test.\nupdate add _acme-challenge.gw.test. 60 TXT \"tcp\"\nsend\n"
                    .utf8))
        #expect(tcp.status == 0, "\(tcp.stdout) \(tcp.stderr)")
        #expect(try server.dig(["_acme-challenge.gw.test", "TXT"]).answer.count == 1)
    }

    @Test func badZoneConfigurationNamesTheKey() async throws {
        let setup = try Setup(
            label: "zones-bad",
            extraZones: """

                [[zones]]
                origin = "other.test."
                file = "/nonexistent/other.test.zone"
                """)
        let result = try DNSSECIntegrationTests.onebzd([
            "--config", setup.config, "--listen", "127.0.0.1:\(FreePort.next())",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("zones[1].file"), "\(result.stderr)")
    }

    /// Pebble (the ACME test CA) validates DNS-01 by asking onebzd; lego writes the
    /// challenge by RFC 2136 with the zone's TSIG key. Only loopback is used.
    /// scripts/install-deps installs them (Debian `pebble`, `lego`, `certbot`,
    /// `python3-certbot-dns-rfc2136`, `strace`).
    static let legoTools = ["/usr/bin/pebble", "/usr/bin/lego", "/usr/bin/strace"].allSatisfy(
        FileManager.default.isExecutableFile)
    static let certbotTools =
        ["/usr/bin/pebble", "/usr/bin/certbot", "/usr/bin/strace"].allSatisfy(FileManager.default.isExecutableFile)
        && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/certbot_dns_rfc2136")

    /// Pebble on loopback, its DNS-01 validation asking onebzd on `dnsPort`; `ca` is the
    /// certificate of its ACME endpoint (for `localhost`), which the client must trust.
    struct Pebble {
        let process: ManagedProcess
        let port: Int
        let ca: String
        var directoryURL: String { "https://localhost:\(port)/dir" }

        init(directory: URL, dnsPort: Int) async throws {
            let tls = try TestCertificate.selfSigned(in: directory, name: "pebble", hostname: "localhost")
            port = FreePort.next()
            ca = tls.certificatePath
            let config = directory.appendingPathComponent("pebble.json")
            try """
            {"pebble": {"listenAddress": "127.0.0.1:\(port)",
              "managementListenAddress": "127.0.0.1:\(FreePort.next())",
              "certificate": "\(tls.certificatePath)", "privateKey": "\(tls.keyPath)",
              "httpPort": \(FreePort.next()), "tlsPort": \(FreePort.next()),
              "ocspResponderURL": "", "externalAccountBindingRequired": false}}
            """.write(to: config, atomically: true, encoding: .utf8)
            process = try ManagedProcess(
                name: "pebble", executable: URL(fileURLWithPath: "/usr/bin/pebble"),
                arguments: ["-config", config.path, "-dnsserver", "127.0.0.1:\(dnsPort)"], logDirectory: directory,
                environment: ["PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"])
            try await process.waitForTCP(port: port)
        }
    }

    /// Runs a client under strace and returns its result and every IP address it sent
    /// to or connected to (an ACME client may ask public resolvers; it must not here).
    static func traced(_ name: String, _ arguments: [String], environment: [String: String], directory: URL)
        async throws -> (result: CommandResult, addresses: Set<String>)
    {
        let trace = directory.appendingPathComponent("\(name).strace").path
        let result = try await Command.runAsync(
            "strace",
            ["-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", trace, name] + arguments,
            environment: environment)
        try (result.stdout + result.stderr).write(
            to: directory.appendingPathComponent("\(name).log"), atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: trace, encoding: .utf8)
        let addresses = Set(matches(#"inet_addr\("([0-9.]+)"\)"#, in: text))
            .union(matches(#"inet_pton\(AF_INET6, "([0-9a-f:.]+)""#, in: text))
        return (result, addresses)
    }

    /// What both clients' runs must show: loopback only, the wildcard certificate, no
    /// challenge left in the zone.
    static func checkIssued(certificate: String, addresses: Set<String>, server: OnebzdServer) throws {
        #expect(!addresses.isEmpty && addresses.allSatisfy { $0.hasPrefix("127.") || $0 == "::1" }, "\(addresses)")
        let text = try Command.run("openssl", ["x509", "-in", certificate, "-noout", "-ext", "subjectAltName"])
        #expect(text.stdout.contains("DNS:*.gw.test") && text.stdout.contains("DNS:gw.test"), "\(text.stdout)")
        // The client removed its challenge records: the name is empty again.
        #expect(try server.dig(["_acme-challenge.gw.test", "TXT"]).answer.isEmpty)
    }

    @Test(
        .enabled(
            if: legoTools, "pebble, lego or strace is not installed and scripts/install-deps could not install them"))
    func legoObtainsAWildcardCertificateFromPebble() async throws {
        let setup = try Setup(label: "zones-lego")
        let server = try await setup.start()
        let pebble = try await Pebble(directory: setup.directory, dnsPort: server.port)
        defer { _ = pebble.process.stop() }
        let path = setup.directory.appendingPathComponent("lego").path
        let environment = [
            "HOME": setup.directory.path, "LEGO_CA_CERTIFICATES": pebble.ca,
            "RFC2136_NAMESERVER": "127.0.0.1:\(server.port)", "RFC2136_TSIG_KEY": Self.keyName,
            "RFC2136_TSIG_SECRET": Self.secret, "RFC2136_TSIG_ALGORITHM": "hmac-sha256.",
            "RFC2136_PROPAGATION_TIMEOUT": "20", "RFC2136_POLLING_INTERVAL": "1",
            // `*.gw.test` and `gw.test` share one challenge name: lego waits this between them (60 s by default).
            "RFC2136_SEQUENCE_INTERVAL": "1",
        ]
        let started = ContinuousClock.now
        // --dns.resolvers and --dns.disable-cp: no public resolver is asked.
        let (lego, addresses) = try await Self.traced(
            "lego",
            [
                "--server", pebble.directoryURL, "--accept-tos", "--email", "ops@gw.test", "--path", path,
                "--dns", "rfc2136", "--dns.resolvers", "127.0.0.1:\(server.port)", "--dns.disable-cp",
                "--key-type", "ec256", "-d", "*.gw.test", "-d", "gw.test", "run",
            ], environment: environment, directory: setup.directory)
        let elapsed = ContinuousClock.now - started
        #expect(lego.status == 0, "lego: \(lego.stdout)\n\(lego.stderr)\npebble: \(pebble.process.stdout())")
        try Self.checkIssued(certificate: path + "/certificates/_.gw.test.crt", addresses: addresses, server: server)
        print("lego against pebble and onebzd: \(elapsed)")
    }

    @Test(
        .enabled(
            if: certbotTools,
            "pebble, certbot, python3-certbot-dns-rfc2136 or strace is not installed and scripts/install-deps could not install them"
        ))
    func certbotObtainsAWildcardCertificateFromPebble() async throws {
        let setup = try Setup(label: "zones-certbot")
        let server = try await setup.start()
        let pebble = try await Pebble(directory: setup.directory, dnsPort: server.port)
        defer { _ = pebble.process.stop() }
        let base = setup.directory.appendingPathComponent("certbot")
        let credentials = setup.directory.appendingPathComponent("rfc2136.ini").path
        try """
        dns_rfc2136_server = 127.0.0.1
        dns_rfc2136_port = \(server.port)
        dns_rfc2136_name = \(Self.keyName)
        dns_rfc2136_secret = \(Self.secret)
        dns_rfc2136_algorithm = HMAC-SHA256

        """.write(toFile: credentials, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
        let started = ContinuousClock.now
        let (certbot, addresses) = try await Self.traced(
            "certbot",
            [
                "certonly", "--non-interactive", "--agree-tos", "-m", "ops@gw.test", "--server", pebble.directoryURL,
                "--config-dir", base.appendingPathComponent("config").path,
                "--work-dir", base.appendingPathComponent("work").path,
                "--logs-dir", base.appendingPathComponent("logs").path,
                "--dns-rfc2136", "--dns-rfc2136-credentials", credentials, "--dns-rfc2136-propagation-seconds", "1",
                "-d", "*.gw.test", "-d", "gw.test",
            ], environment: ["REQUESTS_CA_BUNDLE": pebble.ca, "HOME": setup.directory.path],
            directory: setup.directory)
        let elapsed = ContinuousClock.now - started
        #expect(certbot.status == 0, "certbot: \(certbot.stdout)\n\(certbot.stderr)")
        try Self.checkIssued(
            certificate: base.appendingPathComponent("config/live/gw.test/cert.pem").path, addresses: addresses,
            server: server)
        print("certbot against pebble and onebzd: \(elapsed)")
    }

    /// The first capture group of every match of `pattern`.
    static func matches(_ pattern: String, in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
