import ConnectionLimits
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// What every connection of one HTTP server shares: the limits, the connection counts
/// (a `ConnectionLimiter` behind a lock) and the metrics.
///
/// - `onebz_http_open_connections` (gauge)
/// - `onebz_http_connections_refused_total{reason="total"|"per_client"}`
/// - `onebz_http_connections_timed_out_total{reason="body"|"tls_handshake"}` (the idle
///   and header timeout is Hummingbird's and closes without telling us)
public final class HTTPConnectionGuard: Sendable {
    public let limits: HTTPServerLimits
    private let limiter: NIOLockedValueBox<ConnectionLimiter>
    private let openGauge: Gauge
    private let refusedTotal: Counter
    private let refusedPerClient: Counter
    private let bodyTimeouts: Counter
    private let handshakeTimeouts: Counter

    /// `factory`: where the metrics go (the gateway's Prometheus registry); nil: the
    /// process's bootstrapped swift-metrics factory.
    public init(limits: HTTPServerLimits, metricsFactory factory: (any MetricsFactory)? = nil) {
        self.limits = limits
        limiter = NIOLockedValueBox(
            ConnectionLimiter(maxConnections: limits.maxConnections, maxConnectionsPerClient: limits.maxConnectionsPerClient))
        let factory = factory ?? MetricsSystem.factory
        openGauge = Gauge(label: "onebz_http_open_connections", dimensions: [], factory: factory)
        refusedTotal = Counter(
            label: "onebz_http_connections_refused_total", dimensions: [("reason", "total")], factory: factory)
        refusedPerClient = Counter(
            label: "onebz_http_connections_refused_total", dimensions: [("reason", "per_client")], factory: factory)
        bodyTimeouts = Counter(
            label: "onebz_http_connections_timed_out_total", dimensions: [("reason", "body")], factory: factory)
        handshakeTimeouts = Counter(
            label: "onebz_http_connections_timed_out_total", dimensions: [("reason", "tls_handshake")], factory: factory)
        openGauge.record(0)
    }

    /// Connections open now.
    public var openConnections: Int { limiter.withLockedValue { $0.open } }

    func opened(_ client: ConnectionLimiter.ClientKey?) -> ConnectionLimiter.Decision {
        let (decision, open) = limiter.withLockedValue { state in (state.opened(client), state.open) }
        switch decision {
        case .admit: openGauge.record(open)
        case .refuseTotal: refusedTotal.increment()
        case .refusePerClient: refusedPerClient.increment()
        }
        return decision
    }

    func closed(_ client: ConnectionLimiter.ClientKey?) {
        let open = limiter.withLockedValue { state in
            state.closed(client)
            return state.open
        }
        openGauge.record(open)
    }

    func timedOut(_ reason: TimeoutReason) {
        switch reason {
        case .body: bodyTimeouts.increment()
        case .tlsHandshake: handshakeTimeouts.increment()
        }
    }

    enum TimeoutReason { case body, tlsHandshake }

    /// Closes `context`'s connection after `timeout`, counted as `reason`, unless the
    /// returned task is cancelled first (what every timeout handler here schedules).
    func closeLater(_ context: ChannelHandlerContext, after timeout: TimeAmount, reason: TimeoutReason) -> Scheduled<Void> {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: timeout) {
            self.timedOut(reason)
            loopBound.value.close(promise: nil)
        }
    }
}
