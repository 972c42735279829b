/// One RPC endpoint as the operator sees it (`/status/chain`, `onebz status --endpoints`):
/// the same numbers as its `/metrics` series (docs/chain.md, Operator view).
public struct EndpointReport: Codable, Sendable, Equatable {
    /// scheme://host:port (a URL's path may hold an API key).
    public var endpoint: String
    /// The height it last reported (eth_blockNumber, or a block it served); nil: none yet.
    public var height: UInt64?
    /// Blocks behind the highest endpoint (`onebz_chain_endpoint_lag_blocks`).
    public var lag: UInt64?
    /// Blocks behind the block onebzd answers from (the follower's head); 0 when at or past it.
    public var behindHead: UInt64?
    /// HTTP requests sent, retries and hedges included (`onebz_chain_rpc_requests_total`).
    public var requests: UInt64
    /// Requests in the last 60 seconds (`onebz_chain_rpc_requests_per_minute`).
    public var requestsPerMinute: UInt64
    /// Its request budget (`requests_per_second`); nil: unlimited.
    public var requestsPerSecond: Double?
    /// Rate-limit answers (HTTP 429, JSON-RPC rate-limit errors) (`onebz_chain_rpc_rate_limited_total`).
    public var rateLimited: UInt64
    /// Failed requests by kind (`onebz_chain_rpc_errors_total{kind}`); kinds never seen are left out.
    public var errors: [String: UInt64]
    /// The largest JSON-RPC batch it is sent (`onebz_chain_rpc_batch_size`; 1: no batches).
    public var batchSize: Int
    /// "checked", "unchecked" (not reached yet) or "wrong" (it serves another chain and is not used).
    public var chainID: String
    /// The chain id it reported when that is not the expected one.
    public var reportedChainID: UInt64?

    public init(endpoint: String) {
        self.endpoint = endpoint
        requests = 0
        requestsPerMinute = 0
        rateLimited = 0
        errors = [:]
        batchSize = 0
        chainID = "unchecked"
    }
}

/// What `/status/chain` serves: the follower's head and every configured endpoint.
public struct ChainStatusReport: Codable, Sendable, Equatable {
    /// The block answers are pinned to (the follower's head); nil before it synced.
    public var head: UInt64?
    public var endpoints: [EndpointReport]

    public init(head: UInt64?, endpoints: [EndpointReport]) {
        self.head = head
        self.endpoints = endpoints
    }
}
