import Metrics
import NIOConcurrencyHelpers

/// Per-endpoint numbers for the operator (`/metrics`, docs/chain.md Running on Polygon),
/// labelled with the endpoint as scheme://host:port: requests, errors by kind,
/// rate-limit hits, the batch size in use, the height it last reported and its lag
/// behind the highest endpoint. Made once per client (metrics are looked up once, not
/// per request); every client naming the same endpoint feeds the same series.
struct EndpointMetrics: Sendable {
    let name: String
    private let requests: Counter
    private let requestsPerMinute: Gauge
    private let rateLimitedCount: Counter
    private let batchSizeGauge: Gauge
    private let height: Gauge
    private let wrongChain: Gauge
    private let errors: [String: Counter]
    private let statistics: EndpointStatistics

    static let errorKinds = [
        "rpc", "http_status", "rate_limited", "timeout", "transport", "invalid_response", "range_too_large",
        "batch_refused", "wrong_chain",
    ]

    init(name: String, statistics: EndpointStatistics = .shared) {
        self.name = name
        self.statistics = statistics
        let endpoint = [("endpoint", name)]
        requests = Counter(label: "onebz_chain_rpc_requests_total", dimensions: endpoint)
        requestsPerMinute = Gauge(label: "onebz_chain_rpc_requests_per_minute", dimensions: endpoint)
        rateLimitedCount = Counter(label: "onebz_chain_rpc_rate_limited_total", dimensions: endpoint)
        batchSizeGauge = Gauge(label: "onebz_chain_rpc_batch_size", dimensions: endpoint)
        height = Gauge(label: "onebz_chain_endpoint_height", dimensions: endpoint)
        wrongChain = Gauge(label: "onebz_chain_endpoint_wrong_chain", dimensions: endpoint)
        var errors: [String: Counter] = [:]
        for kind in Self.errorKinds {
            errors[kind] = Counter(label: "onebz_chain_rpc_errors_total", dimensions: endpoint + [("kind", kind)])
        }
        self.errors = errors
    }

    /// One HTTP request sent to the endpoint.
    func request() {
        requests.increment()
        requestsPerMinute.record(Int64(clamping: statistics.request(name)))
    }

    func error(_ error: JSONRPCError) { count(Self.kind(of: error)) }

    func rateLimited() {
        rateLimitedCount.increment()
        statistics.rateLimited(name)
    }

    func batchSize(_ size: Int) {
        batchSizeGauge.record(size)
        statistics.batchSize(name, size)
    }

    func batchRefused() { count("batch_refused") }

    /// The endpoint answered eth_chainId with `reported`, not the expected chain: it is
    /// not used. False when another client had recorded it already.
    func wrongChain(reported: UInt64) -> Bool {
        guard statistics.setChainID(name, .wrong(reported)) else { return false }
        count("wrong_chain")
        wrongChain.record(1)
        return true
    }

    /// A height the endpoint reported (`latest`: its head; otherwise a block it served).
    func reported(height value: UInt64, latest: Bool) {
        height.record(Int64(clamping: statistics.height(name, value, latest: latest)))
    }

    private func count(_ kind: String) {
        errors[kind]?.increment()
        statistics.error(name, kind: kind)
    }

    static func kind(of error: JSONRPCError) -> String {
        if error.isRateLimited { return "rate_limited" }
        if error.isRangeTooLarge { return "range_too_large" }
        switch error.kind {
        case .rpc: return "rpc"
        case .httpStatus: return "http_status"
        case .timeout: return "timeout"
        case .transport: return "transport"
        default: return "invalid_response"
        }
    }
}
