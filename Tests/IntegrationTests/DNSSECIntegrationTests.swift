import Foundation
import NodeRegistry
import TestSupport
import Testing

/// DNSSEC end to end, judged by software we did not write: keys from `onebzd dnssec`
/// checked against ldns, answers validated by unbound (AD) and delv ("fully
/// validated") with only our DS as trust anchor, RRSIGs seen by kdig.
@Suite(.serialized) struct DNSSECIntegrationTests {
    /// Runs `onebzd` with `arguments` (the dnssec subcommands).
    static func onebzd(_ arguments: [String]) throws -> CommandResult {
        try Command.run(Repo.product("onebzd").path, arguments)
    }

    /// A key directory with one new key, and the DS line for it.
    /// Each (name, type, status) asked through `unbound` and delv: the status, the AD
    /// flag, and delv's "fully validated".
    static func expectValidated(
        _ cases: [(name: String, type: String, status: String)], by unbound: ValidatingResolver, authorityPort: Int, ds: String
    ) throws {
        for (name, type, status) in cases {
            let result = try unbound.dig([name, type])
            #expect(result.status == status, "\(name) \(type): \(result)")
            #expect(result.flags.contains("ad"), "\(name) \(type) not validated: \(result)\n\(unbound.process.stderr())")
            let delv = try ValidatingResolver.delv(
                authorityPort: authorityPort, ds: ds, name: name, type: type, directory: unbound.directory)
            #expect(delv.contains("fully validated"), "delv \(name) \(type): \(delv)")
        }
    }

    static func makeKeys(_ label: String, algorithm: String = "ecdsap256sha256") throws -> (dir: String, ds: String) {
        let dir = try Repo.scratchDirectory(label).appendingPathComponent("keys").path
        let keygen = try onebzd(["dnssec", "keygen", "--key-dir", dir, "--algorithm", algorithm])
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let ds = try onebzd(["dnssec", "ds", "--key-dir", dir])
        #expect(ds.status == 0, "\(ds.stderr)")
        return (dir, ds.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The demo zone without its DS records: `example.1bz` becomes an insecure delegation.
    static func zoneWithoutDS(_ label: String) throws -> URL {
        let original = try String(contentsOf: Repo.root.appendingPathComponent("zones/1bz.zone"), encoding: .utf8)
        let zone = try Repo.scratchDirectory(label).appendingPathComponent("1bz.zone")
        try original.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains(" DS ") }
            .joined(separator: "\n").write(to: zone, atomically: true, encoding: .utf8)
        return zone
    }

    @Test(arguments: ["ecdsap256sha256", "ed25519"])
    func keygenAndDSAgreeWithLdns(algorithm: String) throws {
        let (dir, ds) = try Self.makeKeys("dnssec-keys-\(algorithm)", algorithm: algorithm)
        let keyFile = try #require(
            try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasSuffix(".key") })
        #expect(keyFile.hasPrefix(algorithm == "ed25519" ? "K1bz.+015+" : "K1bz.+013+"))
        // ldns reads our key file and derives the same DS (digest type 2).
        let ldns = try Command.run("ldns-key2ds", ["-n", "-2", "\(dir)/\(keyFile)"])
        #expect(ldns.status == 0, "\(ldns.stderr)")
        let theirs = ldns.stdout.split(whereSeparator: \.isWhitespace).suffix(4).joined(separator: " ").lowercased()
        let ours = ds.split(separator: " ").suffix(4).joined(separator: " ").lowercased()
        #expect(theirs == ours, "ldns: \(ldns.stdout) ours: \(ds)")
        #expect(ds.hasPrefix("1bz. 3600 IN DS "))
        let status = try Self.onebzd(["dnssec", "status", "--key-dir", dir])
        #expect(status.stdout.contains("active") && status.stdout.contains("CSK"), "\(status.stdout)")
    }

    @Test func badKeyFileStopsTheServerNamingTheFile() throws {
        let dir = try Repo.scratchDirectory("dnssec-badkey")
        try "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: AAAA\n".write(
            to: dir.appendingPathComponent("K1bz.+013+00001.private"), atomically: true, encoding: .utf8)
        try "1bz. IN DNSKEY 257 3 13 AAAA\n".write(
            to: dir.appendingPathComponent("K1bz.+013+00001.key"), atomically: true, encoding: .utf8)
        let result = try Self.onebzd([
            "--zone", Repo.root.appendingPathComponent("zones/1bz.zone").path, "--listen", "127.0.0.1:\(FreePort.next())",
            "--dnssec-key-dir", dir.path,
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("K1bz.+013+00001"), "\(result.stderr)")
    }

    /// Names of the static zone and what a validator must conclude about each.
    static let staticCases: [(name: String, type: String, status: String)] = [
        ("www.1bz", "A", "NOERROR"), ("1bz", "SOA", "NOERROR"), ("1bz", "DNSKEY", "NOERROR"),
        ("1bz", "NS", "NOERROR"), ("1bz", "MX", "NOERROR"), ("docs.1bz", "A", "NOERROR"),
        ("status._dns.info.1bz", "TXT", "NOERROR"),
        // NODATA, an empty non-terminal, a nonexistent name (compact denial: NOERROR).
        ("www.1bz", "TXT", "NOERROR"), ("info.1bz", "A", "NOERROR"), ("no.such.1bz", "A", "NOERROR"),
        // The delegation's DS, signed by the parent (us).
        ("example.1bz", "DS", "NOERROR"),
    ]

    @Test(arguments: ["ecdsap256sha256", "ed25519"])
    func staticZoneValidatesWithUnboundAndDelv(algorithm: String) async throws {
        let (dir, ds) = try Self.makeKeys("dnssec-static-\(algorithm)", algorithm: algorithm)
        let server = try await OnebzdServer(label: "dnssec-static-onebzd", extraArguments: ["--dnssec-key-dir", dir])
        let unbound = try await ValidatingResolver(authorityPort: server.port, ds: ds, label: "dnssec-static-unbound")
        try Self.expectValidated(Self.staticCases, by: unbound, authorityPort: server.port, ds: ds)
        // kdig sees the RRSIGs; without DO the answer has none.
        let signed = try server.kdig(["+dnssec", "www.1bz", "A"])
        #expect(signed.answer.contains { $0.contains(" RRSIG A ") }, "\(signed)")
        let plain = try server.dig(["www.1bz", "A"])
        #expect(!plain.output.contains("RRSIG"), "\(plain)")
        // Compact denial: NXDOMAIN restored with CO, plain NXDOMAIN without DO.
        #expect(try server.dig(["no.such.1bz", "A"]).status == "NXDOMAIN")
        // SIGTERM stops a signing server gracefully (the signing service ends too).
        #expect(server.process.stop(signal: SIGTERM, grace: .seconds(4)) == 0, "\(server.process.stderr())")
    }

    @Test func insecureDelegationProvesItsMissingDS() async throws {
        let (dir, ds) = try Self.makeKeys("dnssec-insecure")
        let zone = try Self.zoneWithoutDS("dnssec-insecure-zone")
        let server = try await OnebzdServer(
            zone: zone.path, label: "dnssec-insecure-onebzd", extraArguments: ["--dnssec-key-dir", dir])
        let unbound = try await ValidatingResolver(authorityPort: server.port, ds: ds, label: "dnssec-insecure-unbound")
        let result = try unbound.dig(["example.1bz", "DS"])
        #expect(result.status == "NOERROR" && result.answer.isEmpty && result.flags.contains("ad"), "\(result)")
        let referral = try server.kdig(["+dnssec", "host.example.1bz", "A"])
        #expect(referral.authority.contains { $0.contains(" NSEC ") && $0.contains("NS RRSIG NSEC") }, "\(referral)")
        #expect(!referral.additional.contains { $0.contains("RRSIG") }, "glue is never signed: \(referral)")
    }

    @Test func chainNamesValidateAndChangesAreResigned() async throws {
        let (dir, ds) = try Self.makeKeys("dnssec-chain")
        let stack = try await DynamicStack(
            label: "dnssec-chain", extraConfig: "\n[dnssec]\nenabled = true\nkey_dir = \"\(dir)\"\n")
        let unbound = try await ValidatingResolver(
            authorityPort: stack.onebzd.port, ds: ds, label: "dnssec-chain-unbound")
        let idName = NodeID(hex: stack.devnet.sample("shashi.1bz")!.nodeID)!.dnsName
        let cases: [(name: String, type: String, status: String)] = [
            ("shashi.1bz", "A", "NOERROR"), ("shashi.1bz", "TXT", "NOERROR"), (idName, "A", "NOERROR"),
            ("acme.1bz", "AAAA", "NOERROR"),  // NODATA: acme has no IPv6 address
            ("unregistered.1bz", "A", "NOERROR"),  // compact denial of a name the chain does not have
        ]
        try Self.expectValidated(cases, by: unbound, authorityPort: stack.onebzd.port, ds: ds)
        #expect(try unbound.dig(["shashi.1bz", "A"]).answer.contains { $0.contains("192.0.2.10") })

        // A registration: the cached signed denial goes, a signed answer comes within a poll.
        let limit = stack.pollInterval * 3 + .seconds(1)
        func delv(_ name: String, _ type: String) throws -> String {
            try ValidatingResolver.delv(
                authorityPort: stack.onebzd.port, ds: ds, name: name, type: type, directory: unbound.directory)
        }
        /// Waits until the validating lookup shows `text`, then checks that it validated.
        func expectValidated(_ name: String, _ type: String, showing text: String) async throws {
            _ = try await stack.eventually(timeout: limit) { try delv(name, type).contains(text) }
            let answer = try delv(name, type)
            #expect(answer.contains("fully validated"), "\(answer)")
        }
        #expect(try stack.onebzd.kdig(["+dnssec", "newcomer.1bz", "TXT"]).authority.contains { $0.contains("NXNAME") || $0.contains("TYPE128") })
        try await stack.registerNewNode("newcomer.1bz", account: 5)
        _ = try await stack.eventually(timeout: limit) {
            try stack.onebzd.kdig(["+dnssec", "newcomer.1bz", "TXT"]).answer.contains { $0.contains(" RRSIG TXT ") }
        }
        let newcomer = try delv("newcomer.1bz", "TXT")
        #expect(newcomer.contains("fully validated") && newcomer.contains("verified=no"), "\(newcomer)")

        // verifyNode: the cached signed TXT goes, the new one validates.
        let (id, _) = try await stack.registerNewNode("verifyme.1bz", account: 6)
        _ = try await stack.eventually(timeout: limit) {
            try stack.onebzd.kdig(["+dnssec", "verifyme.1bz", "TXT"]).answer.contains { $0.contains(" RRSIG TXT ") }
        }
        _ = try await stack.devnet.verifyNode(nodeHash: NodeHash(nodeID: id).hex, from: stack.devnet.info.accounts[6])
        try await expectValidated("verifyme.1bz", "TXT", showing: "verified=yes")

        // A new signed registry record: the new address, validated.
        try await stack.publishRecord(for: stack.devnet.sample("acme.1bz")!, ipv4: ["198.51.100.99"], ipv6: [], seq: 2)
        try await expectValidated("acme.1bz", "A", showing: "198.51.100.99")
        // Without DO, chain names answer exactly as before (no RRSIG).
        #expect(!(try stack.dig(["shashi.1bz", "A"]).output.contains("RRSIG")))
        // No [[transfer.allow]] and compact denial: nobody reads a signed NSEC3 zone, so
        // none is built (the answers above were signed all the same).
        let metrics = try stack.get("/metrics").body
        let count = { (place: String) in
            DNSSECChurnIntegrationTests.counter(metrics, "onebz_dnssec_signatures_total", ["place=\"\(place)\""])
        }
        #expect(count("dynamic") > 0 && count("transfer") == 0, "\(metrics.suffix(1500))")
        #expect(stack.onebzd.process.stderr().contains("the signed NSEC3 zone for transfers is not built"))
    }

    /// A CSK roll with short timers, judged by unbound at every step: pre-publication,
    /// double signature, the parent adding the new DS (from our CDS), DS-seen, the old
    /// key retiring and going, the parent dropping the old DS. Never bogus.
    @Test func rolloverKeepsValidatingAtEveryStep() async throws {
        let (dir, ds) = try Self.makeKeys("dnssec-roll")
        let config = try Repo.scratchDirectory("dnssec-roll-config").appendingPathComponent("onebzd.toml")
        try "[dnssec]\nenabled = true\nkey_dir = \"\(dir)\"\ncheck_interval = \"1s\"\n".write(
            to: config, atomically: true, encoding: .utf8)
        let server = try await OnebzdServer(label: "dnssec-roll-onebzd", extraArguments: ["--config", config.path])
        func count(_ name: String, _ type: String, _ rrtype: String) throws -> Int {
            try server.kdig(["+dnssec", name, type]).answer.filter { $0.split(separator: " ").dropFirst(3).first == Substring(rrtype) }.count
        }
        func rrsigs() throws -> Int { try count("www.1bz", "A", "RRSIG") }
        func waitFor(_ what: String, _ check: @escaping () throws -> Bool) async throws {
            let clock = ContinuousClock()
            let start = clock.now
            while clock.now - start < .seconds(20) {
                if (try? check()) == true { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("\(what) did not happen within 20 s")
        }
        var step = 0
        func validate(_ anchors: String, _ label: String) async throws {
            step += 1
            let unbound = try await ValidatingResolver(
                authorityPort: server.port, ds: anchors, label: "dnssec-roll-unbound-\(step)",
                extraServerConfig: "cache-max-ttl: 1\n    cache-max-negative-ttl: 1")
            for (name, type) in [("www.1bz", "A"), ("1bz", "DNSKEY"), ("no.such.1bz", "A"), ("example.1bz", "DS")] {
                let result = try unbound.dig([name, type])
                #expect(result.flags.contains("ad") && result.status == "NOERROR", "\(label): \(name) \(type): \(result)")
            }
        }
        let timers = ["--prepublish", "3", "--parent-ds-ttl", "3"]
        try await validate(ds, "before")

        let roll = try Self.onebzd(["dnssec", "rollover", "--key-dir", dir] + timers)
        #expect(roll.status == 0, "\(roll.stderr)")
        try await waitFor("the successor's DNSKEY") { try count("1bz", "DNSKEY", "DNSKEY") == 2 }
        #expect(try rrsigs() == 1, "pre-publication: the successor does not sign yet")
        try await validate(ds, "pre-publication")

        try await waitFor("double signatures") { try rrsigs() == 2 }
        try await validate(ds, "double signature")

        // The parent takes our CDS: both DS (what an alternative root following RFC 7344 does).
        let cds = try server.dig(["1bz", "CDS"]).answer.filter { $0.contains(" CDS ") }
        #expect(cds.count == 2, "\(cds)")
        let bothDS = cds.map { $0.replacingOccurrences(of: " CDS ", with: " DS ") }.joined(separator: "\n")
        try await validate(bothDS, "parent has both DS")

        let seen = try Self.onebzd(["dnssec", "ds-seen", "--key-dir", dir] + timers)
        #expect(seen.status == 0, "\(seen.stderr)")
        try await waitFor("CDS for the successor only") {
            try server.dig(["1bz", "CDS"]).answer.filter { $0.contains(" CDS ") }.count == 1
        }
        try await validate(bothDS, "DS seen")
        try await waitFor("the old key to stop signing") { try rrsigs() == 1 }
        try await validate(bothDS, "old key inactive")
        try await waitFor("the old key to leave DNSKEY") { try count("1bz", "DNSKEY", "DNSKEY") == 1 }
        let newDS = try server.dig(["1bz", "CDS"]).answer.filter { $0.contains(" CDS ") }
            .map { $0.replacingOccurrences(of: " CDS ", with: " DS ") }.joined(separator: "\n")
        try await validate(newDS, "parent has the new DS only")
        let status = try Self.onebzd(["dnssec", "status", "--key-dir", dir])
        #expect(status.stdout.contains("removed"), "\(status.stdout)")
    }
}
