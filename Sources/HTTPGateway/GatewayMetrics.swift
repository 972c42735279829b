import DNSWire
import Metrics
import Prometheus

/// The gateway's own metrics, created on the registry it serves at `/metrics` (so
/// they are present whether or not swift-metrics was bootstrapped globally).
///
/// - `onebz_http_requests_total{endpoint,status}`
/// - `onebz_http_request_duration_seconds{endpoint}` (histogram)
/// - `onebz_doh_responses_total{rcode}` (DoH and DNS-JSON answers by DNS rcode)
struct GatewayMetrics: Sendable {
    static let endpoints = ["dns-query", "resolve", "page", "metrics", "healthz", "readyz", "other"]

    private let factory: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        factory = PrometheusMetricsFactory(registry: registry)
        // Pre-register the common series so dashboards see zeros, not gaps.
        for endpoint in Self.endpoints {
            _ = Timer(label: "onebz_http_request_duration_seconds", dimensions: [("endpoint", endpoint)], factory: factory)
        }
    }

    /// The endpoint label of a path: a fixed set, so clients cannot grow the series.
    static func endpoint(path: String) -> String {
        switch path {
        case "/dns-query": "dns-query"
        case "/resolve": "resolve"
        case "/", "/index.html": "page"
        case "/metrics": "metrics"
        case "/healthz": "healthz"
        case "/readyz": "readyz"
        default: "other"
        }
    }

    func countRequest(endpoint: String, status: Int, duration: Duration) {
        Counter(
            label: "onebz_http_requests_total", dimensions: [("endpoint", endpoint), ("status", String(status))],
            factory: factory
        ).increment()
        let (seconds, attoseconds) = duration.components
        Timer(label: "onebz_http_request_duration_seconds", dimensions: [("endpoint", endpoint)], factory: factory)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    func countDNS(rcode: Rcode) {
        Counter(label: "onebz_doh_responses_total", dimensions: [("rcode", rcode.description)], factory: factory)
            .increment()
    }
}
