import HTTPGateway
import Logging
import Metrics
import NIOCore
import OneBZResolver
import Prometheus
import ServiceLifecycle
import Synchronization

extension OnebzdCommand {
    /// swift-metrics -> Prometheus, once per process; `/metrics` serves this registry.
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// The HTTP gateway service when an address is configured (`--http` or `server.http`).
    /// Throws when the TLS files cannot be loaded (the error names the file).
    static func gatewayService(
        address: HostPort?, tls: TLSFiles?, engine: QueryEngine, nodeLookup: (any NodeLookupService)?,
        registry: PrometheusCollectorRegistry, readiness: ReadinessFlag, group: any EventLoopGroup, logger: Logger
    ) throws -> (any Service)? {
        guard let address else { return nil }
        let gateway = HTTPGateway(
            engine: engine, nodeLookup: nodeLookup, registry: registry, isReady: { readiness.isReady })
        return try gateway.application(
            host: address.host, port: address.port, tls: tls, eventLoopGroup: group, logger: logger,
            onListening: { port in logger.info("http gateway listening", metadata: ["address": "\(address.host):\(port)"]) })
    }
}

/// Set once the DNS sockets are bound (and, with a chain, once the follower has
/// synced: the chain wiring ANDs its own condition in). Read by `/readyz`.
final class ReadinessFlag: Sendable {
    private let ready = Atomic<Bool>(false)

    var isReady: Bool { ready.load(ordering: .acquiring) }

    func markReady() { ready.store(true, ordering: .releasing) }
}
