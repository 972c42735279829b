import Foundation
import TestSupport
import Testing

/// `[dnssec] denial = "nsec3"`: onebzd's own negatives are copies of the pre-signed NSEC3
/// chain (RFC 5155), judged by unbound (AD, and the rcode its client sees: NXDOMAIN
/// stays NXDOMAIN) and delv, for the static zone, chain-backed names and a registration.
@Suite(.serialized) struct NSEC3DenialIntegrationTests {
    /// The NSEC3 records of a response's authority section: (owner hash, next hash).
    static func nsec3s(_ result: DigResult) -> [(owner: String, next: String)] {
        result.authority.compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            // owner TTL IN NSEC3 algorithm flags iterations salt next types...
            guard fields.count > 8, fields[3] == "NSEC3" else { return nil }
            return (fields[0].split(separator: ".")[0].lowercased(), fields[8].lowercased())
        }
    }

    /// `ldns-nsec3-hash` with RFC 9276 parameters (no iterations, no salt), lowercase.
    static func hash(_ name: String) throws -> String {
        let result = try Command.run("ldns-nsec3-hash", ["-t", "0", name])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().split(separator: ".")[0]
            .description
    }

    static func covers(_ nsec3: (owner: String, next: String), _ hash: String) -> Bool {
        nsec3.owner < nsec3.next ? nsec3.owner < hash && hash < nsec3.next : hash > nsec3.owner || hash < nsec3.next
    }

    static let staticCases: [(name: String, type: String, status: String)] = [
        ("www.1bz", "TXT", "NOERROR"),  // NODATA at a name with data
        ("info.1bz", "A", "NOERROR"),  // an empty non-terminal
        ("1bz", "AAAA", "NOERROR"),  // NODATA at the apex
        ("no.such.1bz", "A", "NXDOMAIN"),  // two labels below the apex
        ("nope.1bz", "A", "NXDOMAIN"),  // node-shaped, no chain configured
        ("a.b.nope.www.1bz", "A", "NXDOMAIN"),  // below a name with data
        ("example.1bz", "DS", "NOERROR"),  // the secure delegation's DS (positive)
        ("www.1bz", "A", "NOERROR"),
    ]

    @Test func staticZoneDenialsValidateAndStayNXDOMAIN() async throws {
        let (dir, ds) = try DNSSECIntegrationTests.makeKeys("nsec3-static")
        let server = try await OnebzdServer(
            label: "nsec3-static-onebzd", extraArguments: ["--dnssec-key-dir", dir, "--dnssec-denial", "nsec3"])
        // The proof straight from onebzd: NXDOMAIN, three NSEC3s (closest encloser, next
        // closer, wildcard) with their RRSIGs after the signed SOA, no NSEC.
        let direct = try server.kdig(["+dnssec", "no.such.1bz", "A"])
        #expect(direct.status == "NXDOMAIN", "\(direct)")
        let proof = Self.nsec3s(direct)
        #expect((1...3).contains(proof.count), "\(direct)")
        let apex = try Self.hash("1bz.")
        #expect(proof.first?.owner == apex, "closest encloser first: \(direct)")
        let nextCloser = try Self.hash("such.1bz.")
        let wildcard = try Self.hash("*.1bz.")
        #expect(proof.contains { Self.covers($0, nextCloser) }, "next closer: \(direct)")
        #expect(proof.contains { Self.covers($0, wildcard) }, "wildcard: \(direct)")
        #expect(direct.authority.filter { $0.contains(" RRSIG NSEC3 ") }.count == proof.count)
        #expect(!direct.authority.contains { $0.contains(" NSEC ") }, "\(direct)")
        // CO changes nothing: NXDOMAIN either way. Without DO: plain NXDOMAIN.
        let plain = try server.dig(["no.such.1bz", "A"])
        #expect(plain.status == "NXDOMAIN" && !plain.output.contains("NSEC3"), "\(plain)")
        let nodata = try server.kdig(["+dnssec", "www.1bz", "TXT"])
        let www = try Self.hash("www.1bz.")
        #expect(nodata.status == "NOERROR" && Self.nsec3s(nodata).map(\.owner) == [www], "\(nodata)")

        let unbound = try await ValidatingResolver(authorityPort: server.port, ds: ds, label: "nsec3-static-unbound")
        try DNSSECIntegrationTests.expectValidated(Self.staticCases, by: unbound, authorityPort: server.port, ds: ds)
    }

    /// RFC 5155 7.2.7 and 7.2.4: an insecure delegation's referral carries the NSEC3
    /// matching the cut (NS, no DS) before the glue; its DS query gets the same NSEC3.
    @Test func insecureDelegationProvesItsMissingDSWithNSEC3() async throws {
        let (dir, ds) = try DNSSECIntegrationTests.makeKeys("nsec3-insecure")
        let zone = try DNSSECIntegrationTests.zoneWithoutDS("nsec3-insecure-zone")
        let server = try await OnebzdServer(
            zone: zone.path, label: "nsec3-insecure-onebzd",
            extraArguments: ["--dnssec-key-dir", dir, "--dnssec-denial", "nsec3"])
        let cut = try Self.hash("example.1bz.")
        let referral = try server.kdig(["+dnssec", "host.example.1bz", "A"])
        #expect(Self.nsec3s(referral).map(\.owner) == [cut], "\(referral)")
        #expect(referral.authority.contains { $0.contains(" NSEC3 ") && $0.hasSuffix(" NS") }, "\(referral)")
        #expect(!referral.authority.contains { $0.contains(" NSEC ") }, "\(referral)")
        #expect(referral.additional.contains { $0.contains("192.0.2.100") }, "glue after the proof: \(referral)")
        #expect(!referral.additional.contains { $0.contains("RRSIG") }, "glue is never signed: \(referral)")
        let direct = try server.kdig(["+dnssec", "example.1bz", "DS"])
        #expect(direct.answer.isEmpty && Self.nsec3s(direct).map(\.owner) == [cut], "\(direct)")
        let unbound = try await ValidatingResolver(authorityPort: server.port, ds: ds, label: "nsec3-insecure-unbound")
        let result = try unbound.dig(["example.1bz", "DS"])
        #expect(result.status == "NOERROR" && result.answer.isEmpty && result.flags.contains("ad"), "\(result)")
        let delv = try ValidatingResolver.delv(
            authorityPort: server.port, ds: ds, name: "example.1bz", type: "DS", directory: unbound.directory)
        #expect(delv.contains("fully validated"), "\(delv)")
    }

    @Test func chainNamesDenialsValidateAndFollowARegistration() async throws {
        let (dir, ds) = try DNSSECIntegrationTests.makeKeys("nsec3-chain")
        let stack = try await DynamicStack(
            label: "nsec3-chain",
            extraConfig: "\n[dnssec]\nenabled = true\nkey_dir = \"\(dir)\"\ndenial = \"nsec3\"\n")
        // The chain is published once the materialised zone is live and signed.
        let limit = stack.pollInterval * 3 + .seconds(10)
        _ = try await stack.eventually(timeout: limit) {
            try stack.onebzd.kdig(["+dnssec", "unregistered.1bz", "A"]).status == "NXDOMAIN"
        }
        let unbound = try await ValidatingResolver(
            authorityPort: stack.onebzd.port, ds: ds, label: "nsec3-chain-unbound")
        let cases: [(name: String, type: String, status: String)] = [
            ("shashi.1bz", "A", "NOERROR"),
            ("acme.1bz", "AAAA", "NOERROR"),  // NODATA of a chain-backed name: its NSEC3
            ("unregistered.1bz", "A", "NXDOMAIN"),  // the resolver's client sees NXDOMAIN
            ("deeper.unregistered.1bz", "TXT", "NXDOMAIN"),
            ("www.1bz", "TXT", "NOERROR"),  // a static name's NODATA from the same chain
        ]
        try DNSSECIntegrationTests.expectValidated(cases, by: unbound, authorityPort: stack.onebzd.port, ds: ds)
        let acme = try stack.onebzd.kdig(["+dnssec", "acme.1bz", "AAAA"])
        let acmeHash = try Self.hash("acme.1bz.")
        #expect(Self.nsec3s(acme).map(\.owner) == [acmeHash], "\(acme)")

        // A registration: the NSEC3 that covered the new name's hash (its predecessor)
        // now points at it, and the name answers, validated.
        let newHash = try Self.hash("newcomer.1bz.")
        let before = try stack.onebzd.kdig(["+dnssec", "newcomer.1bz", "TXT"])
        #expect(before.status == "NXDOMAIN", "\(before)")
        let predecessor = try #require(Self.nsec3s(before).first { Self.covers($0, newHash) }, "\(before)")
        // A probe name whose hash falls between the predecessor and the new name: its
        // proof shows the predecessor's NSEC3 before and after.
        var probe: String? = nil
        for index in 0..<2000 where probe == nil {
            let candidate = "probe\(index).1bz."
            let hash = try Self.hash(candidate)
            if Self.covers((predecessor.owner, newHash), hash) { probe = candidate }
        }
        let probeName = try #require(probe)
        func predecessorNext() throws -> String? {
            Self.nsec3s(try stack.onebzd.kdig(["+dnssec", probeName, "A"])).first { $0.owner == predecessor.owner }?.next
        }
        #expect(try predecessorNext() == predecessor.next)
        try await stack.registerNewNode("newcomer.1bz", account: 5)
        _ = try await stack.eventually(timeout: stack.pollInterval * 3 + .seconds(5)) {
            try predecessorNext() == newHash
        }
        _ = try await stack.eventually(timeout: stack.pollInterval * 3 + .seconds(5)) {
            try stack.onebzd.kdig(["+dnssec", "newcomer.1bz", "TXT"]).answer.contains { $0.contains(" RRSIG TXT ") }
        }
        for (name, type, status) in [
            ("newcomer.1bz", "TXT", "NOERROR"), ("newcomer.1bz", "MX", "NOERROR"), (probeName, "A", "NXDOMAIN"),
        ] {
            let result = try unbound.dig([name, type])
            #expect(result.status == status && result.flags.contains("ad"), "\(name) \(type): \(result)")
            let delv = try ValidatingResolver.delv(
                authorityPort: stack.onebzd.port, ds: ds, name: name, type: type, directory: unbound.directory)
            #expect(delv.contains("fully validated"), "delv \(name) \(type): \(delv)")
        }
        let mx = try stack.onebzd.kdig(["+dnssec", "newcomer.1bz", "MX"])
        #expect(Self.nsec3s(mx).map(\.owner) == [newHash], "\(mx)")
    }
}
