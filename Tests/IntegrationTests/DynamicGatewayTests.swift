import DNSWire
import Foundation
import NodeRegistry
import Testing
import TestSupport

/// The HTTP gateway on the full stack: /resolve JSON, DoH and the lookup page answer
/// chain names from the same cache as UDP.
@Suite(.serialized) struct DynamicGatewayTests {
    struct Resolved: Decodable {
        let name, node_id, node_hash, wallet: String
        let public_key: String?
        let ipv4, ipv6: [String]
        let trust: Int?
        let verified, metadata_verified: Bool
        let block: UInt64
        let ttl: UInt32
    }

    @Test func resolveJSONAndDoHAndThePage() async throws {
        let stack = try await DynamicStack(label: "dyn-gateway")
        let shashi = stack.devnet.sample("shashi.1bz")!
        let id = NodeID(hex: shashi.nodeID)!

        for name in ["shashi.1bz", "ShAsHi.1bz.", id.dnsName, shashi.nodeID + ".1bz"] {
            let (status, body) = try stack.get("/resolve?name=\(name)")
            #expect(status == 200, "\(name): \(body)")
            let r = try JSONDecoder().decode(Resolved.self, from: Data(body.utf8))
            #expect(r.node_id == shashi.nodeID && r.node_hash == shashi.nodeHash.lowercased())
            #expect(r.public_key == shashi.publicPEM)
            #expect(Set(r.ipv4) == ["192.0.2.10", "192.0.2.11"] && r.ipv6 == ["2001:db8::10"])
            #expect(r.verified && r.metadata_verified && r.wallet == shashi.wallet.lowercased())
            #expect(r.trust.map { (0...100).contains($0) } == true && r.block >= stack.devnet.deployBlock)
        }
        #expect(try stack.get("/resolve?name=nobody.1bz").status == 404)
        let bad = try stack.get("/resolve?name=not%20a%20name")
        #expect(bad.status == 400 && bad.body.contains("detail"), "\(bad)")
        #expect(try stack.get("/readyz").status == 200)
        let metrics = try stack.get("/metrics").body
        for name in [
            "onebz_dynamic_cache_total", "onebz_upstream_lookups_total", "onebz_upstream_lookup_duration_seconds",
            "onebz_dns_responses_total{transport=\"udp\",rcode=\"NOERROR\"}",
        ] {
            #expect(metrics.contains(name), "\(name) missing from /metrics")
        }

        // DoH answers exactly what UDP answers (apart from the ID, 0 in DoH).
        let query = RawDNSClient.query("shashi.1bz", .a, id: 0)
        let udp = try #require(try RawDNSClient(port: stack.onebzd.port).udp(query))
        let base64url = Data(query).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let dohBytes = try dohAnswer(stack, base64url)
        #expect(Array(dohBytes.dropFirst(2)) == Array(udp.dropFirst(2)), "DoH and UDP answers differ")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "chromium-driver missing"))
    func lookupPageShowsAVerifiedNode() async throws {
        let stack = try await DynamicStack(label: "dyn-browser")
        let shashi = stack.devnet.sample("shashi.1bz")!
        let screenshot = Repo.root.appendingPathComponent(".test-artifacts/lookup-page-shashi.png")
        let result = try await Command.runAsync(
            "python3",
            [
                Repo.root.appendingPathComponent("tools/browser/lookup_page.py").path,
                "--base-url", stack.gatewayURL, "--name", "shashi.1bz",
                "--expect-node-id", shashi.nodeID, "--expect-address", "192.0.2.10",
                "--expect-verified", "verified", "--expect-signature", "checked",
                "--screenshot", screenshot.path, "--chromedriver", "/usr/bin/chromedriver",
            ])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(try Data(contentsOf: screenshot).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
    }

    /// The raw DoH response body (binary) via curl to a file.
    private func dohAnswer(_ stack: DynamicStack, _ base64url: String) throws -> [UInt8] {
        let out = stack.directory.appendingPathComponent("doh-answer.bin")
        let r = try Command.run(
            "curl", ["-s", "-S", "-o", out.path, "-H", "Accept: application/dns-message",
                     "\(stack.gatewayURL)/dns-query?dns=\(base64url)"])
        guard r.status == 0 else { throw TestProcessError("curl DoH failed: \(r.stderr)") }
        return Array(try Data(contentsOf: out))
    }
}
