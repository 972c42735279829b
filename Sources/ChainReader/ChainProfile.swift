/// Defaults for a known chain (`[chain] network = "polygon"`): the chain id every
/// endpoint must report, how the follower decides a block is final, how often it polls,
/// and the eth_getLogs range it starts with. Every value can be overridden by its own key
/// (docs/chain.md, Running on Polygon).
public struct ChainProfile: Sendable, Hashable {
    /// The `network` value that names it.
    public let name: String
    /// What eth_chainId must answer; checked against every endpoint at start.
    public let chainID: UInt64
    /// Follow the `finalized` block (true) or latest - `confirmations` (false).
    public let useFinalizedTag: Bool
    public let confirmations: UInt64
    public let pollInterval: Duration
    /// The eth_getLogs range the follower starts with and never exceeds (it halves on a
    /// provider's "range too large" and grows back after successes).
    public let maxLogRange: UInt64
    /// Requests per second per endpoint (token bucket; nil: unlimited): free tiers allow
    /// 10–30, so the follower's catch-up and a burst of misses never become a 429 storm.
    public let requestsPerSecond: Double?
    /// A read not answered within this also goes to the next endpoint (nil: never).
    public let hedgeAfter: Duration?

    /// Polygon PoS mainnet: 2 s blocks; since the Heimdall v2 / Bor milestone upgrades
    /// (2025) the `finalized` tag trails the head by a few blocks (seconds), and a
    /// finalized block is never reorganised.
    public static let polygon = ChainProfile(
        name: "polygon", chainID: 137, useFinalizedTag: true, confirmations: 0, pollInterval: .seconds(2),
        maxLogRange: 1000, requestsPerSecond: 25, hedgeAfter: .seconds(1))
    /// Polygon's Amoy testnet (Sepolia-anchored), the same rules as mainnet.
    public static let amoy = ChainProfile(
        name: "amoy", chainID: 80002, useFinalizedTag: true, confirmations: 0, pollInterval: .seconds(2),
        maxLogRange: 1000, requestsPerSecond: 25, hedgeAfter: .seconds(1))
    /// Ethereum mainnet: 12 s slots; `finalized` is two epochs (~13 min) behind.
    public static let ethereum = ChainProfile(
        name: "ethereum", chainID: 1, useFinalizedTag: true, confirmations: 0, pollInterval: .seconds(12),
        maxLogRange: 1000, requestsPerSecond: 25, hedgeAfter: .seconds(1))
    /// The project's devnet (eth-tester; every block final at once).
    public static let devnet = ChainProfile(
        name: "devnet", chainID: 131_277_322_940_537, useFinalizedTag: false, confirmations: 0,
        pollInterval: .seconds(2), maxLogRange: 1000, requestsPerSecond: nil, hedgeAfter: nil)

    public static let all: [ChainProfile] = [.polygon, .amoy, .ethereum, .devnet]

    /// The profile a `network` value names (exact, lower case), nil for an unknown one.
    public static func named(_ name: String) -> ChainProfile? { all.first { $0.name == name } }
}
