import Foundation
import TestSupport
import Testing

/// `onebzd check-config` against the devnet and a provider-like endpoint (the fault
/// proxy's "public" preset: range cap 20 blocks, no batches, 5 requests/s): what an
/// operator reads before starting the server, and its exit status.
@Suite(.serialized) struct CheckConfigTests {
    static func check(_ chain: String, label: String) throws -> CommandResult {
        let dir = try Repo.scratchDirectory(label)
        let config = dir.appendingPathComponent("onebzd.toml").path
        try "[chain]\n\(chain)\n".write(toFile: config, atomically: true, encoding: .utf8)
        return try Command.run(Repo.product("onebzd").path, ["check-config", "--config", config])
    }

    @Test func endpointsAreAskedWhatTheConfigurationNeeds() async throws {
        let devnet = try await Devnet.start(label: "check-config-devnet")
        defer { devnet.stop() }
        let dir = try Repo.scratchDirectory("check-config-proxy")
        let publicEndpoint = try await FaultProxy(
            name: "public", targetPort: devnet.port, directory: dir, profile: "public")
        try await devnet.mine(60)  // a chain longer than the provider's 20-block range cap
        let contract = "contract = \"\(devnet.contractAddress)\""

        // The devnet: everything a proof-mode server needs.
        let good = try Self.check(
            """
            network = "devnet"
            rpc_urls = ["\(devnet.rpcURL.absoluteString)"]
            \(contract)
            verify = "proof"
            storage_layout = "vyper"
            max_log_range = 50
            """, label: "check-config-good")
        #expect(good.status == 0, "\(good.stdout) \(good.stderr)")
        #expect(good.stdout.contains("configuration: ok"))
        #expect(good.stdout.contains("chain id      131277322940537"), "\(good.stdout)")
        #expect(good.stdout.contains("eth_getProof  ok"), "\(good.stdout)")
        #expect(good.stdout.contains("50 blocks accepted"), "\(good.stdout)")
        #expect(good.stdout.contains("up to 100 calls a batch"), "\(good.stdout)")

        // Another network's profile: the chain id is a problem, exit 1.
        let polygon = try Self.check(
            "network = \"polygon\"\nrpc_urls = [\"\(devnet.rpcURL.absoluteString)\"]\n\(contract)",
            label: "check-config-polygon")
        #expect(polygon.status == 1, "\(polygon.stdout)")
        #expect(polygon.stdout.contains("PROBLEM: 131277322940537, the configuration expects 137"), "\(polygon.stdout)")

        // A provider with a range cap below max_log_range, no batches: what to change.
        let capped = try Self.check(
            """
            network = "devnet"
            rpc_urls = ["\(publicEndpoint.url)"]
            \(contract)
            max_log_range = 50
            requests_per_second = 2
            """, label: "check-config-capped")
        #expect(capped.stdout.contains("50 blocks refused (block range too large): lower chain.max_log_range"), "\(capped.stdout)")
        #expect(
            capped.stdout.contains("refuses batches") || capped.stdout.contains("rate limited while checking"),
            "\(capped.stdout)")
        #expect(capped.status == 0, "a range cap or a rate limit is a finding, not a failure: \(capped.stdout)")

        // Nobody listening, and a bad value: problems, exit 1, named.
        let down = try Self.check(
            "network = \"devnet\"\nrpc_urls = [\"http://127.0.0.1:\(FreePort.next())\"]\n\(contract)",
            label: "check-config-down")
        #expect(down.status == 1 && down.stdout.contains("chain id      PROBLEM"), "\(down.stdout)")
        let bad = try Self.check("rpc_urls = [\"ftp://x\"]\n\(contract)", label: "check-config-bad")
        #expect(bad.status == 1 && bad.stdout.contains("chain.rpc_urls"), "\(bad.stdout)")
    }
}
