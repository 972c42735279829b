import ChainReader
import Foundation
import TestSupport
import Testing

/// The operator's view of each RPC endpoint of a running onebzd (`/status/chain`,
/// `onebz status --endpoints`, `/metrics`), each endpoint's own request budget, and the
/// chain id of an endpoint that was down at start checked before its first use. The
/// endpoints are tools/faultproxy.py in front of the devnet (the only fakes).
@Suite(.serialized) struct EndpointStatusTests {
    static let devnetChainID: UInt64 = 131_277_322_940_537

    /// Proof mode asks every endpoint for the head and each block; quorum 1 of them, so
    /// an endpoint rate-limited or down does not hold answers up.
    static let proofQuorumOne = """
        network = "devnet"
        verify = "proof"
        storage_layout = "vyper"
        quorum = 1
        """

    @Test func theOperatorSeesARateLimitOnThatEndpointOnlyAndEachHeight() async throws {
        let httpPort = FreePort.next()
        let stack = try await FaultStack(
            label: "endpoint-status", endpoints: 2, chainSettings: Self.proofQuorumOne, httpPort: httpPort)
        // rpc1: a provider allowing 1 request/s, HTTP 429 beyond.
        try stack.rpc[1].provider(["rps": 1, "burst": 1, "rate_limit": "http429", "retry_after": 1])
        try await stack.devnet.mine(5)
        let head = try await stack.devnet.blockNumber()

        let server = "http://127.0.0.1:\(httpPort)"
        var report = try Self.status(server)
        try await stack.eventually(timeout: .seconds(30)) {
            report = try Self.status(server)
            return report.endpoints[1].rateLimited >= 1 && report.endpoints[0].height ?? 0 >= head
                && report.head ?? 0 >= head
        }
        let (fast, limited) = (report.endpoints[0], report.endpoints[1])
        #expect(report.endpoints.map(\.endpoint) == stack.rpc.map(\.url), "configured order")
        #expect(fast.rateLimited == 0 && fast.errors["rate_limited"] == nil, "\(fast)")
        #expect(limited.errors["rate_limited"] ?? 0 >= limited.rateLimited)
        // onebzd counted no more 429s and requests than the providers saw (read after).
        #expect(limited.rateLimited <= UInt64(stack.rpc[1].count("limited")))
        #expect(fast.requests <= UInt64(stack.rpc[0].count("http_requests")))
        #expect(fast.requests > 0 && fast.requestsPerMinute > 0 && fast.requestsPerMinute <= fast.requests)
        #expect(fast.height ?? 0 >= head && (limited.height ?? 0) <= (fast.height ?? 0), "\(report)")
        #expect(fast.lag == 0, "the highest endpoint lags nobody")
        #expect(fast.batchSize == 100 && fast.chainID == "checked" && limited.chainID == "checked")

        // /metrics says the same.
        let metrics = try Command.run("curl", ["-s", "\(server)/metrics"]).stdout
        #expect(Self.value(metrics, "onebz_chain_rpc_rate_limited_total", stack.rpc[1].url) ?? 0 >= 1)
        #expect(Self.value(metrics, "onebz_chain_rpc_rate_limited_total", stack.rpc[0].url) ?? 0 == 0)
        #expect(Self.value(metrics, "onebz_chain_endpoint_height", stack.rpc[0].url) ?? 0 >= Double(head))
        #expect(Self.value(metrics, "onebz_chain_rpc_requests_per_minute", stack.rpc[0].url) ?? 0 > 0)

        // The CLI's table: one line per endpoint, the 429s on the limited one.
        let cli = try Command.run(Repo.product("onebz").path, ["status", "--endpoints", "--server", server])
        #expect(cli.status == 0, "\(cli.stderr)")
        let lines = cli.stdout.split(separator: "\n")
        let limitedLine = try #require(lines.first { $0.contains(stack.rpc[1].url) }, "\(cli.stdout)")
        #expect(limitedLine.contains("rate_limited="), "\(cli.stdout)")
        #expect(lines.first { $0.contains(stack.rpc[0].url) }?.contains("rate_limited=") == false, "\(cli.stdout)")
    }

    @Test func eachEndpointKeepsItsOwnRequestBudget() async throws {
        let httpPort = FreePort.next()
        // Call mode: the follower's polls (5/s) and every miss (one eth_call) go through the
        // failover client; rpc0 may take 2 requests/s, rpc1 10: both are kept busy, an
        // endpoint out of budget passes the call to the other one.
        let stack = try await FaultStack(
            label: "endpoint-budget", endpoints: 2, chainSettings: "network = \"devnet\"", httpPort: httpPort,
            budgets: [2, 10])
        let report = try Self.status("http://127.0.0.1:\(httpPort)")
        #expect(report.endpoints.map(\.requestsPerSecond) == [2, 10])

        let clock = ContinuousClock()
        let start = clock.now
        let before = stack.rpc.map { $0.count("http_requests") }
        let misses = 60
        for i in 0..<misses {
            let answer = try stack.dig(["budget-\(i)-\(UInt32.random(in: 0...UInt32.max)).1bz", "TXT"])
            #expect(answer.status == "NXDOMAIN", "\(answer)")
        }
        let after = stack.rpc.map { $0.count("http_requests") }
        let seconds = (clock.now - start) / .seconds(1)
        let sent = zip(after, before).map { $0 - $1 }
        print("budget: \(misses) misses in \(seconds) s; requests at rpc0 (2/s) \(sent[0]), rpc1 (10/s) \(sent[1])")
        // A token bucket lets through at most its burst (one second's worth) plus the
        // rate times the time elapsed (+2: requests sent before the first count, still on
        // their way: the follower's and a miss's). A slower machine only loosens the bound.
        #expect(Double(sent[0]) <= 2 + 2 * seconds + 2, "rpc0 sent \(sent[0]) in \(seconds) s")
        #expect(Double(sent[1]) <= 10 + 10 * seconds + 2, "rpc1 sent \(sent[1]) in \(seconds) s")
        // Every miss cost a call: what rpc0's budget did not allow went to rpc1.
        #expect(sent[0] + sent[1] >= misses)
        #expect(sent[1] >= misses - Int(2 + 2 * seconds + 2))
    }

    @Test func anEndpointDownAtStartIsCheckedBeforeItsFirstUse() async throws {
        let httpPort = FreePort.next()
        // rpc1 and rpc2 are down while onebzd starts; rpc1 will come up on another chain.
        let stack = try await FaultStack(
            label: "endpoint-chainid", endpoints: 3, chainSettings: Self.proofQuorumOne, httpPort: httpPort,
            downAtStart: [1, 2])
        #expect(stack.log().contains("could not check the endpoint's chain id at start"))
        let mark = stack.logLength
        try stack.rpc[1].provider(["chain_id": 1])
        try await stack.rpc[1].restart()
        try await stack.rpc[2].restart()
        try await stack.devnet.mine(3)
        let server = "http://127.0.0.1:\(httpPort)"
        var report = try Self.status(server)
        try await stack.eventually(timeout: .seconds(30)) {
            report = try Self.status(server)
            return report.endpoints[1].chainID == "wrong" && report.endpoints[2].chainID == "checked"
                && stack.rpc[2].count("eth_blockNumber") > 0
        }
        #expect(report.endpoints[1].reportedChainID == 1)
        #expect(report.endpoints[1].errors["wrong_chain"] == 1, "one check, one log line, one count")

        // The wrong endpoint is asked its chain id and nothing else, while names resolve.
        _ = try await stack.devnet.registerNode(
            nodeHash: "0x" + String(repeating: "0", count: 56) + "00007a11", name: "chainid.1bz")
        try await stack.eventually(timeout: .seconds(30)) { try stack.dig(["chainid.1bz", "TXT"]).status == "NOERROR" }
        #expect(stack.rpc[1].count("eth_chainId") >= 1)
        #expect(stack.rpc[1].count("http_requests") == stack.rpc[1].count("eth_chainId"), "rpc1 used after its check")

        let log = stack.log(since: mark)
        let line = try #require(log.split(separator: "\n").first { $0.contains("endpoint serves another chain") })
        #expect(
            line.contains("chainId=1") && line.contains("expected=\(Self.devnetChainID)")
                && line.contains(stack.rpc[1].url))
        let metrics = try Command.run("curl", ["-s", "\(server)/metrics"]).stdout
        #expect(Self.value(metrics, "onebz_chain_endpoint_wrong_chain", stack.rpc[1].url) == 1)
        #expect(Self.value(metrics, "onebz_chain_endpoint_wrong_chain", stack.rpc[2].url) ?? 0 == 0)

        let cli = try Command.run(Repo.product("onebz").path, ["status", "--endpoints", "--server", server])
        #expect(cli.status == 3, "an endpoint on another chain needs the operator")
        #expect(cli.stdout.contains("\(stack.rpc[1].url) serves chain 1"), "\(cli.stdout)")
    }

    @Test func theRegistryTakesAProfileAndNeverUsesAnEndpointOfAnotherChain() async throws {
        let devnet = try await Devnet.start(label: "registry-network-devnet")
        defer { devnet.stop() }
        let dir = try Repo.scratchDirectory("registry-network")
        let clock = ContinuousClock()
        // --network polygon against the devnet: its only endpoint names another chain.
        let wrongPort = FreePort.next()
        let wrong = try RegistryServer.start(
            devnet: devnet, port: wrongPort, database: dir.appendingPathComponent("wrong.sqlite").path,
            logDirectory: dir, name: "registry-polygon", extraArguments: ["--network", "polygon"])
        defer { _ = wrong.stop() }
        var deadline = clock.now + .seconds(30)
        while !wrong.stderr().contains("endpoint serves another chain"), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let line = wrong.stderr().split(separator: "\n").first { $0.contains("endpoint serves another chain") }
        #expect(
            line?.contains("chainId=\(Self.devnetChainID)") == true && line?.contains("expected=137") == true,
            "\(wrong.stderr())")

        // --network devnet, a dead second endpoint and a budget: the devnet is checked, then used.
        let port = FreePort.next()
        let registry = try RegistryServer.start(
            devnet: devnet, port: port, database: dir.appendingPathComponent("devnet.sqlite").path,
            logDirectory: dir, name: "registry-devnet",
            extraArguments: [
                "--network", "devnet", "--rpc", "http://127.0.0.1:\(FreePort.next())", "--requests-per-second", "50",
            ])
        defer { _ = registry.stop() }
        try await registry.waitForTCP(port: port)
        deadline = clock.now + .seconds(30)
        while !registry.stderr().contains("chain id checked"), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(registry.stderr().contains("chain id checked"), "\(registry.stderr())")
        #expect(!registry.stderr().contains("endpoint serves another chain"))
    }

    static func status(_ server: String) throws -> ChainStatusReport {
        let body = try Command.run("curl", ["-sf", "\(server)/status/chain"]).stdout
        return try JSONDecoder().decode(ChainStatusReport.self, from: Data(body.utf8))
    }

    /// The value of `metric{endpoint="..."}` in a Prometheus text page.
    static func value(_ page: String, _ metric: String, _ endpoint: String) -> Double? {
        let prefix = "\(metric){endpoint=\"\(endpoint)\"} "
        return page.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }
}
