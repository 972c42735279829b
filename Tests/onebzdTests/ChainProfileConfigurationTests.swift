import ChainReader
import TOMLConfiguration
import Testing

@testable import onebzd

/// `[chain] network`: a profile's defaults, each overridable by its own key.
@Suite struct ChainProfileConfigurationTests {
    static let base = """
        [chain]
        rpc_urls = ["http://127.0.0.1:8545"]
        contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

        """

    @Test func noNetworkKeepsTheOldDefaultsAndChecksNoChainID() throws {
        let chain = try #require(try ServerConfiguration(toml: Self.base).chain)
        #expect(chain.network == nil && chain.expectedChainID == nil && !chain.useFinalizedTag)
        #expect(chain.requestsPerSecond == nil && chain.pollInterval == .seconds(2) && chain.maxLogRange == 1000)
    }

    @Test(arguments: [("polygon", 137, true), ("amoy", 80002, true), ("ethereum", 1, true), ("devnet", 131_277_322_940_537, false)])
    func profileSetsItsDefaults(name: String, chainID: UInt64, finalized: Bool) throws {
        let chain = try #require(try ServerConfiguration(toml: Self.base + "network = \"\(name)\"").chain)
        #expect(chain.network?.name == name)
        #expect(chain.expectedChainID == chainID)
        #expect(chain.useFinalizedTag == finalized)
        #expect(chain.requestsPerSecond == (name == "devnet" ? nil : 25))
        #expect(chain.hedgeAfter == (name == "devnet" ? nil : .seconds(1)))
    }

    @Test func everyDefaultCanBeOverridden() throws {
        let toml = Self.base + """
            network = "polygon"
            chain_id = 1337
            poll_interval = "10s"
            max_log_range = 200
            requests_per_second = 0
            hedge_after = 0
            confirmations = 12
            """
        let chain = try #require(try ServerConfiguration(toml: toml).chain)
        #expect(chain.expectedChainID == 1337 && chain.pollInterval == .seconds(10) && chain.maxLogRange == 200)
        #expect(chain.requestsPerSecond == nil && chain.hedgeAfter == nil, "0 is unlimited / never")
        #expect(chain.confirmations == 12 && !chain.useFinalizedTag, "confirmations count from latest")
        let back = try #require(
            try ServerConfiguration(toml: Self.base + "network = \"devnet\"\nfollow = \"finalized\"\nrequests_per_second = 2.5")
                .chain)
        #expect(back.useFinalizedTag && back.requestsPerSecond == 2.5)
    }

    /// `rpc_urls` entries as `{ url, requests_per_second }`: that endpoint's own budget.
    static func endpoints(_ entries: String, extra: String = "") -> String {
        """
        [chain]
        rpc_urls = [\(entries)]
        contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        \(extra)
        """
    }

    @Test func eachEndpointMayCarryItsOwnBudget() throws {
        let toml = Self.endpoints(
            #"{ url = "https://polygon.example/KEY", requests_per_second = 100 }, "https://public.example", { url = "http://127.0.0.1:8545", requests_per_second = 0 }"#,
            extra: "network = \"polygon\"")
        let chain = try #require(try ServerConfiguration(toml: toml).chain)
        #expect(chain.rpcURLs.map(\.absoluteString) == ["https://polygon.example/KEY", "https://public.example", "http://127.0.0.1:8545"])
        #expect(chain.requestsPerSecond == 25, "the profile's, for endpoints without their own")
        var client = JSONRPCClient.Configuration(endpoints: chain.rpcURLs)
        client.requestsPerSecond = chain.requestsPerSecond
        client.endpointRequestsPerSecond = chain.endpointRequestsPerSecond
        #expect(chain.rpcURLs.map { client.requestsPerSecond(of: $0) } == [100, 25, nil], "0: unlimited")
    }
}
