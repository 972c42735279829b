import Foundation
import TestSupport
import Testing

/// onebzd against providers that behave like real ones (tools/faultproxy.py presets, the
/// only fake): `[chain] network` checked against eth_chainId at start; in proof mode three
/// endpoints, one refusing batches, lagging 2 blocks and rate limiting at 5/s ("public"),
/// one capping results and lagging 1 ("results"), one capping ranges at 50 blocks
/// ("capped"), follow registrations, 150 blocks at once and a 3-block reorg: every
/// answer is the devnet's truth, no gap, no lagging endpoint taken for a reorg.
@Suite(.serialized) struct ProviderProfileTests {
    @Test func polygonNetworkAgainstTheDevnetStopsNamingBothChainIDs() async throws {
        let devnet = try await Devnet.start(label: "profile-chainid-devnet")
        defer { devnet.stop() }
        let dir = try Repo.scratchDirectory("profile-chainid")
        let config = dir.appendingPathComponent("onebzd.toml")
        try """
        [chain]
        network = "polygon"
        rpc_urls = ["http://127.0.0.1:\(devnet.port)"]
        contract = "\(devnet.contractAddress)"
        """.write(to: config, atomically: true, encoding: .utf8)
        let process = try ManagedProcess(
            name: "onebzd-polygon", executable: Repo.product("onebzd"),
            arguments: [
                "--config", config.path, "--zone", Repo.root.appendingPathComponent("zones/1bz.zone").path,
                "--listen", "127.0.0.1:\(FreePort.next())",
            ], logDirectory: dir)
        defer { _ = process.stop() }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while process.isRunning, clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "onebzd must stop on a chain id mismatch")
        #expect(process.isRunning || process.process.terminationStatus != 0)
        let stderr = process.stderr()
        #expect(
            stderr.contains("chain.network = \"polygon\" expects chain id 137")
                && stderr.contains("reports chain id 131277322940537"), "\(stderr)")
    }

    @Test func threeProvidersInProofModeFollowRegistrationsAndAReorg() async throws {
        let httpPort = FreePort.next()
        let stack = try await FaultStack(
            label: "providers", endpoints: 3, chainTimeout: "2s",
            chainSettings: """
                network = "devnet"
                verify = "proof"
                storage_layout = "vyper"
                requests_per_second = 8
                """, httpPort: httpPort, materialize: true, profiles: ["public", "results", "capped"])
        #expect(stack.log().contains("chain id checked"))
        let devnet = stack.devnet
        func hash(_ i: Int) -> String { "0x" + String(repeating: "0", count: 56) + String(format: "%08x", 0x5000 + i) }

        // 150 empty blocks at once (ranges past the caps), then 8 registrations.
        try await devnet.mine(150)
        for i in 0..<8 { _ = try await devnet.registerNode(nodeHash: hash(i), name: "prov\(i).1bz") }
        // A 3-block reorg: three registrations, seen, then replaced by a longer fork.
        let snapshot = try await devnet.snapshot()
        for i in 8..<11 { _ = try await devnet.registerNode(nodeHash: hash(i), name: "gone\(i).1bz") }
        try await devnet.mine(3)  // lagging endpoints must reach them for the quorum
        try await stack.eventually(timeout: .seconds(30)) { try stack.dig(["gone10.1bz", "TXT"]).status == "NOERROR" }
        try await devnet.revert(to: snapshot)
        for i in 11..<15 { _ = try await devnet.registerNode(nodeHash: hash(i), name: "prov\(i).1bz") }
        try await devnet.mine(3)
        try await stack.eventually(timeout: .seconds(30)) { try stack.dig(["prov14.1bz", "TXT"]).status == "NOERROR" }
        try await stack.eventually(timeout: .seconds(15)) { try stack.dig(["gone10.1bz", "TXT"]).status == "NXDOMAIN" }

        // The zone is the devnet's truth: every registration of the chain, none of the fork.
        for i in Array(0..<8) + Array(11..<15) {
            #expect(try stack.dig(["prov\(i).1bz", "TXT"]).status == "NOERROR", "prov\(i)")
        }
        for i in 8..<11 { #expect(try stack.dig(["gone\(i).1bz", "TXT"]).status == "NXDOMAIN", "gone\(i)") }
        #expect(stack.log().contains("chain reorganised"))

        // An endpoint going back 50 blocks (a restart): waited out, never a reorg.
        let mark = stack.logLength
        let serial = try soaSerial(stack)
        try stack.rpc[2].provider(["lag": 50])
        try await devnet.mine(4)
        try await Task.sleep(for: .seconds(2))
        #expect(try soaSerial(stack) >= serial)
        #expect(!stack.log(since: mark).contains("chain reorganised"))
        #expect(try stack.dig(["prov3.1bz", "TXT"]).status == "NOERROR")

        // What the providers did, and the operator's view of it.
        #expect(stack.rpc[0].count("batch_refused") >= 1, "the public endpoint refused a batch")
        let refusals = stack.rpc.map { $0.count("range_refused") + $0.count("results_refused") + $0.count("limited") }
        print("provider refusals (public, results, capped):", refusals, "requests:", stack.rpc.map { $0.count("http_requests") })
        let metrics = try Command.run("curl", ["-s", "http://127.0.0.1:\(httpPort)/metrics"]).stdout
        for proxy in stack.rpc {
            #expect(metrics.contains("onebz_chain_rpc_requests_total{endpoint=\"\(proxy.url)\"}"), "\(proxy.url)")
            #expect(metrics.contains("onebz_chain_endpoint_height{endpoint=\"\(proxy.url)\"}"))
        }
        #expect(metrics.contains("onebz_chain_rpc_batch_size{endpoint=\"\(stack.rpc[0].url)\"} 1"))
    }

    /// An endpoint that answers eth_getLogs over a busy stretch more slowly than the
    /// client's timeout (no error, only slow): the follower shrinks the range until the
    /// endpoint answers within it, instead of asking the same range again for ever (what
    /// `onebzd zone dump` did against a devnet that took 8 s per range).
    @Test func logRangesSlowerThanTheTimeoutShrinkUntilAnswered() async throws {
        let stack = try await FaultStack(label: "slow-logs", chainTimeout: "1s")
        try stack.rpc[0].provider(["slow_log_range": 8, "slow_log_delay": 3])
        try await stack.devnet.mine(60)
        let hash = "0x" + String(repeating: "0", count: 56) + "00005eed"
        _ = try await stack.devnet.registerNode(nodeHash: hash, name: "slowlogs.1bz")
        try await stack.eventually(timeout: .seconds(90)) { try stack.dig(["slowlogs.1bz", "TXT"]).status == "NOERROR" }
        #expect(stack.rpc[0].count("slow_logs") >= 1)
        #expect(stack.log().contains("eth_getLogs range timed out, shrinking"))
    }

    private func soaSerial(_ stack: FaultStack) throws -> UInt64 {
        let soa = try stack.dig(["1bz", "SOA"]).answer.first { $0.contains(" SOA ") } ?? ""
        let fields = soa.split(separator: " ")
        guard fields.count > 6, let serial = UInt64(fields[6]) else { throw TestProcessError("no SOA: \(soa)") }
        return serial
    }
}
